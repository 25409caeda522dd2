"""LRN vs BatchNorm: one batch through both, and the measurements that tell them apart."""

import time

import numpy as np
import streamlit as st

from lrn_app import pages
from lrn_app.compute import compare, explorer
from lrn_app.compute.live import figure_side, maps_pack
from lrn_app.figures import charts, look, maps
from lrn_app.inputs.batch import AUGMENTATIONS, BATCH_MAX, batch_labels, split_label
from lrn_app.inputs.features import BANKS, SOURCES
from lrn_app.inputs.images import UPLOAD_TYPES
from lrn_app.inputs.samples import SAMPLES
from lrn_app.serving import threads
from lrn_app.state import BATCH_SIDE_RANGE, Compare
from lrn_app.ui import cached, live, session, widgets

PAGE = pages.get("compare")
K = PAGE.prefix  # this page's widget keys: b_<field of Compare>
page = session.PageState(PAGE.state, K)

page.start()  # a hand-edited address: its repairs are shown

st.title("LRN vs BatchNorm")
widgets.explain(
    "**LRN** divides each activation by the energy of its neighbours *in the same image*, "
    "with no trainable parameters. **BatchNorm** standardises each channel with the mean "
    "and variance of *the whole batch* in training (running averages of them in "
    "evaluation), then applies a learned scale γ and shift. Build a batch, and watch what "
    "each does to one image of it."
)

# --- the batch ------------------------------------------------------------------------------------
with widgets.setup_box("The batch", K + "setup"), st.container(border=True):
    with st.expander("Upload your own images (they join the list of images)"):
        files = st.file_uploader("PNG, JPEG, WebP, BMP, TIFF or GIF; several at once",
                                 type=UPLOAD_TYPES, accept_multiple_files=True, key=K + "uploads")
        uploads = session.load_uploads(files, 256)
    options = list(SAMPLES) + [name for name in uploads if name not in SAMPLES]
    kept = [name for name in st.session_state[K + "images"] if name in options]
    if kept != st.session_state[K + "images"]:  # an upload forgotten since, or a stale name
        st.session_state[K + "images"] = kept or list(Compare.images)
    left, right = st.columns([3, 2])
    images = left.multiselect("Images in the batch", options, key=K + "images")
    augment = right.multiselect("Add augmented copies of each", list(AUGMENTATIONS),
                                key=K + "augment",
                                format_func=lambda a: f"{a}: {AUGMENTATIONS[a]}")
    f1, f2, f3 = st.columns(3)
    source = f1.selectbox("Feature maps", list(SOURCES), format_func=SOURCES.get, key=K + "source")
    channels = f2.select_slider("Filter-bank channels", options=list(BANKS), key=K + "channels",
                                disabled=source != "gabor")
    side = f3.slider("Working size (px, square)", *BATCH_SIDE_RANGE, step=32,
                     key=K + "side")
    labels = batch_labels(images, augment)
    if not labels:
        st.info("The batch is empty: pick at least one image.")
        page.save()
        st.stop()
    if len(labels) > BATCH_MAX:
        st.warning(f"A batch holds at most {BATCH_MAX} images here; the last "
                   f"{len(labels) - BATCH_MAX} are left out.")
        labels = labels[:BATCH_MAX]
    if st.session_state[K + "chosen"] >= len(labels):
        st.session_state[K + "chosen"] = 0
    left, right = st.columns([2, 3])
    chosen = left.selectbox("The image the figures look at", range(len(labels)),
                            format_func=labels.__getitem__, key=K + "chosen")
    swap = right.multiselect("Batch-mates swapped in by the batch-dependence test", list(SAMPLES),
                             key=K + "swap")
    thumbnails = {label: cached.square_image(*split_label(label), 96, uploads) for label in labels}
    widgets.chart(maps.image_gallery(thumbnails, wrap=8, size=96))

feats = cached.batch_features(labels, side, source, channels, uploads)
swap_feats = cached.batch_features(list(swap) or ["noise"], side, source, channels)
# BatchNorm's half is cached by the batches' bytes: hashed once per batch, not per slider move.
batch_keys = hash(feats.tobytes()), hash(swap_feats.tobytes())


@st.fragment
def normalisations(feats: np.ndarray, swap_feats: np.ndarray, batch_keys: tuple[int, int],
                   labels: list[str], chosen: int, swap: list[str]) -> None:
    """LRN's and BatchNorm's settings and all they move: reruns alone when one of them changes
    (the batch above is not rebuilt)."""
    started = time.perf_counter()
    N, C, H, W = feats.shape
    # --- the two normalisations' settings -----------------------------------------------------
    with widgets.setup_box("LRN's and BatchNorm's settings", K + "settings"):
        lrn_col, bn_col = st.columns(2, border=True)
    with lrn_col:
        st.markdown("**LRN**")
        widgets.mode_and_convention(page, (C, H, W))
        state = page.get()
        mode, image = state.mode, feats[chosen]
        pack = live.pack_id(image, mode, state.convention, state.n if mode == "within" else "")
        live.sliders(page, C, pack, lambda: maps_pack(image, state))
        st.caption("While you drag, the image after LRN follows"
                   + (" (n when you release it: within a channel its window spans pixels the "
                      "figures do not hold)" if mode == "within" else "")
                   + "; the statistics and measurements below follow when you release.")
    with bn_col:
        st.markdown("**BatchNorm**")
        b1, b2 = st.columns(2)
        b1.radio("Mode", ["train", "eval"], key=K + "bn_mode", horizontal=True,
                 help="train: this batch's statistics; eval: the running statistics")
        b2.slider("Warm-up batches", 0, 100, key=K + "warmup",
                  help="training steps, each on a random half of this batch, that move the running "
                       "statistics from (mean 0, variance 1) towards the data's")
        b3, b4, b5, b6 = st.columns(4)
        b3.slider("γ (BatchNorm's scale)", -3.0, 3.0, step=0.05, key=K + "gamma")
        b4.slider("BatchNorm's shift", -3.0, 3.0, step=0.05, key=K + "shift",
                  help="called β in the BatchNorm paper: an added constant, learned per channel. "
                       "LRN's β is something else, the exponent of its denominator.")
        b5.select_slider("eps", options=[10.0 ** e for e in range(-8, 1)], key=K + "eps",
                         format_func=lambda v: f"{v:.0e}")
        b6.slider("momentum", 0.0, 1.0, step=0.01, key=K + "momentum")
        widgets.explain("LRN's β is the exponent of its denominator; BatchNorm's shift, β in its "
                   "paper, is a learned constant added per channel. Same letter, different things.")

    state = page.get()
    if widgets.lrn_window(page) is None:
        return
    lrn_args = explorer.settings(state)
    bn = compare.BatchNormSettings(training=state.bn_mode == "train", gamma=state.gamma,
                                   shift=state.shift, eps=state.eps, momentum=state.momentum,
                                   warmup=state.warmup)
    bn_side = cached.batchnorm_side(batch_keys[0], feats, chosen, batch_keys[1], swap_feats, bn)
    result = threads.on_torch_thread(
        compare.compare, feats, chosen, swap_feats, lrn_args, bn, bn_side
    )
    shown = {}
    for name, array in result.maps.items():
        shown[name], bad = look.finite(array)
        if bad:
            st.warning(f"{bad} values after {name} are not finite (NaN or inf) and are drawn as 0.")

    # --- one image, side by side --------------------------------------------------------------
    heading, channel_slot = st.columns([2, 3], vertical_alignment="bottom")
    heading.subheader(f"{labels[chosen]}: before and after each")
    channel = channel_slot.slider("Channel", 0, C - 1, key=K + "channel") if C > 1 else 0
    titles = {"input": "input x", "LRN": "after LRN",
              "BatchNorm": f"after BatchNorm ({state.bn_mode})"}
    live.panels(page, shown, channel, pack, {"LRN": "output"}, titles)
    if st.toggle("Show all channels", key="b_all_channels"):
        left, right = st.columns(2)
        with left:
            live.grid(page, shown["LRN"], "output", False, "after LRN (one shared scale)", pack)
        widgets.chart(maps.channel_grid(shown["BatchNorm"], False,  # at LRN's grid's pixels
                                        "after BatchNorm (one shared scale)",
                                        max_side=figure_side(shown["LRN"].shape, mode)), right)
    edges, counts = compare.histograms(shown)
    moments = compare.channel_moments(shown)
    widgets.chart(charts.activation_statistics(edges, counts,
                                           {n: m["mean"] for n, m in moments.items()},
                                           {n: m["std"] for n, m in moments.items()}))
    st.markdown("**BatchNorm maps each channel through one straight line** (the same picture, "
                "only its offset and scale change), centred on the shift over the whole batch, so "
                "one image's channel means need not be the shift. **LRN changes the picture**: it "
                "keeps activations positive and shrinks the strong ones where their neighbours are "
                "strong too.")

    # --- batch dependence ---------------------------------------------------------------------
    st.subheader("Does the rest of the batch matter?")
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Swap the batch-mates: BatchNorm ({state.bn_mode}) output changes by",
              f"{100 * result.swap_change['BatchNorm']:.3g}%")
    m2.metric("… LRN output changes by", f"{100 * result.swap_change['LRN']:.3g}%")
    m3.metric("BatchNorm train against eval differ by", f"{100 * result.train_eval_change:.3g}%",
              help=f"after {state.warmup} warm-up batches; LRN has no modes")
    st.caption(f"Changes: largest |difference| relative to the largest |output| of this image. "
               f"Batch-mates swapped for: {', '.join(swap) or 'noise'}.")
    swapped, _ = look.finite(result.swapped_batchnorm)
    widgets.chart(maps.panels_row(
        {"mine": shown["BatchNorm"][channel], "swapped": swapped[channel],
         "difference": np.abs(swapped[channel] - shown["BatchNorm"][channel])},
        titles={"mine": "BatchNorm, this batch", "swapped": "BatchNorm, batch-mates swapped",
                "difference": "|difference|"}))
    st.markdown("In training mode BatchNorm normalises with the batch's statistics, so the same "
                "image comes out differently in different company; in evaluation mode it uses "
                "the running statistics and the company stops mattering, but the output differs "
                "from training mode until the running statistics have caught up (more warm-up). "
                "LRN looks at one image only: identical in any batch, in any mode.")

    # --- properties ---------------------------------------------------------------------------
    st.subheader("Properties, measured on this batch")
    # LRN's row is measured on every move; the others do not depend on its settings: cached
    rows = threads.on_torch_thread(compare.properties, feats, chosen, swap_feats, lrn_args, bn,
                              result.stats, names=["LRN"])
    rows += cached.properties_besides_lrn(batch_keys[0], feats, chosen, batch_keys[1], swap_feats,
                                      bn, result.stats)
    st.dataframe(rows, hide_index=True)
    widgets.explain("The last two columns are measured with the current settings, not looked up: "
               "each layer runs on this batch and on the swapped one, in training and evaluation "
               "mode (torch's own LayerNorm, InstanceNorm and GroupNorm with their default "
               "settings; parameters counted at this page's image size).")
    widgets.compute_caption(started, "b__runs")
    page.save()


normalisations(feats, swap_feats, batch_keys, labels, chosen, swap)
