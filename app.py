"""Entry point of the LRN Explorer app: `streamlit run app.py`.

A placeholder until the app's pages land (issue 3): it shows that the core runs
by normalising a generated test pattern.
"""

import streamlit as st
import torch

from lrn_core import lrn

st.set_page_config(page_title="LRN Explorer", layout="wide")
st.title("LRN Explorer")
st.write(
    "Local Response Normalization divides each activation by a power of the "
    "sum of squares of its neighbours: `y = x / (k + a·S)^β`. The interactive "
    "pages are being built; the compute core (`lrn_core`) is ready."
)

# A sine grating whose contrast rises from left to right, in 8 phase-shifted channels.
cols = torch.linspace(0, 1, 128)
phases = torch.linspace(0, torch.pi, 8).reshape(8, 1, 1)
grating = (cols * torch.sin(cols * 40 + phases)).expand(8, 64, 128).relu()
out = lrn(grating, 5, alpha=5.0, beta=0.75, k=1.0)
left, right = st.columns(2)
left.image(grating[0].numpy() / grating.max().item(), caption="input, channel 0", clamp=True)
right.image(out[0].numpy() / out.max().item(), caption="after LRN (n=5, alpha=5)", clamp=True)
