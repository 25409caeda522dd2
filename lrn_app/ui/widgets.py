"""The widgets the pages share: a chart in the app's look, the set-up box, explanations, the
image picker, LRN's mode, convention and sliders, and the compute caption.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np
import streamlit as st

from lrn_app.figures import look
from lrn_app.inputs import batch
from lrn_app.inputs.features import BANKS, SOURCES
from lrn_app.inputs.images import UPLOAD_TYPES
from lrn_app.inputs.samples import DEFAULT_SAMPLE, SAMPLES
from lrn_app.state import (
    BETA_MAX,
    K_MAX,
    SIDE_RANGE,
    UPLOAD,
    alpha_choices,
    convention_label,
    limits,
    repair,
)
from lrn_app.ui.cached import features, sample_image, upload_key
from lrn_app.ui.session import PageState, load_uploads, presenting
from lrn_core import conventions_for, resolve
from lrn_core.conventions import Window

# The browser tab's icon, shipped: a Material icon as page_icon becomes an address on Google's
# font server (fonts.gstatic.com), which a classroom without internet cannot reach. As a data
# address, Streamlit passes it through: given as bytes, it is a media file of each session.
APP_ICON = "data:image/png;base64," + base64.b64encode(
    (Path(__file__).resolve().parents[1] / "assets" / "icon.png").read_bytes()).decode()
PLOT = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}  # chart config


def compute_caption(started: float, counter: str, on: str = "cpu") -> None:
    """The last line of a page or panel: its server time since ``started`` (perf_counter)
    and an update number, so that a test or a benchmark can tell that it redrew."""
    st.session_state[counter] = st.session_state.get(counter, 0) + 1
    st.caption(f"server compute {1000 * (time.perf_counter() - started):.0f} ms on {on} "
               f"· update {st.session_state[counter]}", help="time from the controls to the "
               "last figure; the update number lets a test see that the page redrew")


PRESENT_FONT = 18  # px: figure text read from the back of a classroom (at least 16)


def chart(figure, where=None, key: str | None = None) -> None:
    """A plotly figure with the app's chart settings; in presentation mode its text is
    enlarged to PRESENT_FONT px so that it reads from the back of a room. The figures carry
    the look of Streamlit's chart theme themselves (look._LOOK), hence theme=None."""
    if presenting():
        look.enlarge_text(figure, PRESENT_FONT)
    (where or st).plotly_chart(figure, config=PLOT, key=key, theme=None)


def setup_box(label: str, key: str):
    """Where a page puts the controls set once per lesson (image, batch, presets): a bordered
    box, or in presentation mode an expander, closed at first and remembered by ``key``,
    so that the sliders and the main figure fit on a projector's screen."""
    if not presenting():
        return st.container()
    remembered = key + "_open"  # outlives the widget's own state, dropped on other pages

    def remember() -> None:
        st.session_state[remembered] = st.session_state[key]
    return st.expander(label, expanded=st.session_state.get(remembered, False), key=key,
                       on_change=remember)


def explain(markdown: str) -> None:
    """Explanatory text, hidden in presentation mode so the figures get the room."""
    if not presenting():
        st.markdown(markdown)


def image_and_features(K: str, square: bool = False, side_range=SIDE_RANGE) -> np.ndarray:
    """The image picker and the feature source (widget keys K + sample, source, channels,
    side); returns the (C, H, W) feature maps, of the central square when ``square``."""
    with st.container(border=True):
        left, mid, right, far = st.columns(4)
        sample = left.selectbox("Image", list(SAMPLES) + [UPLOAD], key=K + "sample",
                                format_func=lambda s: "Upload your own..." if s == UPLOAD
                                else f"{s}: {SAMPLES[s]}")
        source = mid.selectbox("Feature maps", list(SOURCES), format_func=SOURCES.get,
                               key=K + "source")
        channels = right.select_slider("Filter-bank channels", options=list(BANKS),
                                       key=K + "channels", disabled=source != "gabor")
        side = far.slider("Working size (px)" if square else "Working size (long side, px)",
                          *side_range, step=32, key=K + "side")
        image_key, image = f"{sample}:{side}", None
        if sample == UPLOAD:
            files = st.file_uploader("PNG, JPEG, WebP, BMP, TIFF or GIF (first frame); several "
                                     "at once", type=UPLOAD_TYPES, accept_multiple_files=True,
                                     key=K + "uploads")
            uploads = load_uploads(files, side)
            if uploads:
                name = st.selectbox("Uploaded image", list(uploads), key=K + "upload_choice")
                image = uploads[name]
                image_key = f"{upload_key(name, image)}:{side}"
            else:
                st.info(f"No image uploaded yet: showing the {DEFAULT_SAMPLE} meanwhile.")
        if image is None:
            image = sample_image(sample if sample in SAMPLES else DEFAULT_SAMPLE, side)
        if square:
            image, image_key = batch.square(image, side), image_key + ":square"
        feats = features(image_key, image, source, channels)
        C, H, W = feats.shape
        explain(f"{C} feature maps of {H} x {W} pixels"
                + {"gabor": ": Gabor filters, channel order = scale, orientation, phase, so "
                            "neighbouring channels are similar orientations.",
                   "learned": ": the first layer of a CNN trained on shapes (Training lab); its "
                              "channels have no natural order."}.get(source, "."))
    return feats



def mode_and_convention(page: PageState, shape: tuple[int, int, int]) -> None:
    """The mode and convention pickers; then values that the new mode, convention or the
    feature maps' ``shape`` (C, H, W) do not allow are repaired, with a notice, before
    their widgets are drawn."""
    K = page.prefix
    left, right = st.columns([1, 3])
    mode = left.radio("Mode", ["across", "within"], key=K + "mode", horizontal=True,
                      help="across: neighbouring channels at one pixel; within: an n x n "
                           "window of pixels in one channel")
    if st.session_state[K + "convention"] not in conventions_for(mode):
        st.session_state[K + "convention"] = conventions_for(mode)[0]
    right.selectbox("Convention", conventions_for(mode), key=K + "convention",
                    format_func=convention_label)
    repaired, notices = repair(page.get(), channel_count=shape[0], shape=shape[1:])
    page.set(repaired, only=("n", "k", "alpha", "beta", "channel", "row", "col"))
    for notice in notices:
        st.info(notice)


def lrn_window(page: PageState) -> Window | None:
    """The window of the page's LRN settings; or None, with a warning and the state saved,
    where the sliders reached settings no library computes (k = 0 with alpha = 0): the
    caller then stops its fragment, and the rest of the page stays."""
    s = page.get()
    try:
        return resolve(s.n, s.alpha, s.beta, s.k, mode=s.mode, convention=s.convention)
    except ValueError as err:
        st.warning(f"These LRN settings cannot be computed: {err}. Move k or α away from 0.")
        page.save()
        return None


def lrn_sliders(page: PageState, channel_count: int) -> None:
    """n, k, alpha and beta, with the ranges and steps the current convention allows."""
    K, state = page.prefix, page.get()
    lim = limits(state.convention, state.mode, channel_count)
    top = st.columns(4)
    top[0].slider(f"n ({lim.size_name})", lim.n_min, lim.n_max, step=lim.n_step, key=K + "n")
    top[1].slider("k", lim.k_min, K_MAX, step=0.01, key=K + "k")
    top[2].select_slider("α (log scale)", options=alpha_choices(state.alpha),
                         key=K + "alpha", format_func=lambda v: f"{v:.3g}")
    top[3].slider("β", lim.beta_min, BETA_MAX, step=0.01, key=K + "beta")
