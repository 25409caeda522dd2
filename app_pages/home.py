"""Home: what LRN and BatchNorm are, what each page teaches, and the sample images."""

import streamlit as st

from lrn_app.figures import maps
from lrn_app.inputs.samples import SAMPLES
from lrn_app.ui import cached, widgets

st.title("LRN Explorer")
st.markdown(
    "**Local Response Normalization** divides each activation by a power of the energy "
    "of its neighbours, `y = x / (k + a·S)^β`, where `S` sums `x²` over a window of "
    "neighbouring channels at the same pixel (*across* channels, as in AlexNet) or of "
    "nearby pixels in the same channel (*within* a channel). Strong neighbours suppress "
    "a unit: lateral inhibition. It has no trainable parameters and looks at one image.\n\n"
    "**Batch Normalization** subtracts each channel's mean and divides by its standard "
    "deviation, taken over the whole batch in training and from running averages at test "
    "time, then applies a learned scale and shift."
)
widgets.explain(
    "**Pages**\n"
    "- **LRN Explorer**: turn k, α, β and n and watch the window sum, the denominator, "
    "the output and the gain change, channel by channel; inspect one pixel's arithmetic; "
    "compare what each framework's convention means by the same numbers.\n"
    "- **Gradients**: the backward pass in closed form, checked against autograd; one "
    "output's Jacobian (lateral inhibition); BatchNorm's gradients coupling a batch.\n"
    "- **LRN vs BatchNorm**: one batch through both, side by side; what changes when the "
    "batch-mates or the mode change; a table of properties measured live.\n"
    "- **Conventions**: one setting in every library's terms, proved on real data, with "
    "the tutorials' worked examples and the known defects of other implementations.\n"
    "- **Training lab**: train the same small CNN without normalisation, with LRN and with "
    "BatchNorm, several seeds each, and see what the claims about them are worth.\n"
    "- **Claims lab**: seven things tutorials say about LRN and BatchNorm, each put to an "
    "experiment with seeds, with a verdict that counts a difference only beyond the spread.\n"
    "- **Lessons**: guided steps through the pages for a class, with Back and Next; build "
    "your own from any view and share it as a file.\n\n"
    "Open a page from the sidebar; every setting is kept in the page's address, "
    "so a lesson can be bookmarked."
)
st.subheader("Built-in sample images")
images = {name: cached.sample_image(name, 128) for name in SAMPLES}
widgets.chart(maps.image_gallery(images))
widgets.explain(" · ".join(f"**{name}**: {caption}" for name, caption in SAMPLES.items())
           + ". Photographs: scikit-image's sample data (CC0 or public domain, see "
           "`lrn_app/assets/samples/LICENSES.md`); patterns are generated.")
