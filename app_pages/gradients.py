"""Gradients: LRN's backward pass in closed form, one output's Jacobian, and BatchNorm's
batch coupling."""

import time

import numpy as np
import streamlit as st

from lrn_app import pages
from lrn_app.compute import explorer, gradients, scrub
from lrn_app.compute.live import jacobian_pack
from lrn_app.figures import charts, look, maps
from lrn_app.inputs.samples import SAMPLES
from lrn_app.serving import threads
from lrn_app.state import BATCH_SIDE_RANGE, SCRUB, Gradients
from lrn_app.ui import cached, live, session, widgets

PAGE = pages.get("gradients")
K = PAGE.prefix  # this page's widget keys: g_<field of Gradients>
page = session.PageState(PAGE.state, K)

page.start()  # a hand-edited address: its repairs are shown

st.title("Gradients")
widgets.explain(
    "Training needs `dL/dx`, the gradient of a loss with respect to LRN's input. Here it "
    "comes from lrn_core's closed form (no autograd), checked against autograd through "
    "LRN written with torch primitives. Images are cropped to their central square on this "
    "page so that they can form a batch for BatchNorm at the bottom."
)
with widgets.setup_box("Image, feature maps, mode and convention", K + "setup"):
    feats = widgets.image_and_features(K, square=True, side_range=BATCH_SIDE_RANGE)
    widgets.mode_and_convention(page, feats.shape)


@st.fragment
def gradients_panel(feats: np.ndarray, feats_key: str) -> None:
    """Everything LRN's sliders move: reruns alone when one of its controls changes.
    ``feats_key`` names the feature maps, for the BatchNorm batch's cache."""
    started = time.perf_counter()
    C, H, W = feats.shape
    state = page.get()
    # The output whose Jacobian row follows the sliders (its controls are further down).
    channel = min(state.channel, C - 1)
    row, col = gradients.pick_pixel(feats, channel, state.row, state.col)
    pack = live.pack_id(feats, state.mode, state.convention, channel, row, col)
    live.sliders(page, C, pack, lambda: jacobian_pack(feats, state, channel, row, col))
    st.caption("While you drag, the Jacobian row further down follows; the gradients, "
               "their check and the batch follow when you release.")
    state = page.get()
    if widgets.lrn_window(page) is None:
        return
    lrn_args = explorer.settings(state)

    # --- what is differentiated ---------------------------------------------------------------
    left, mid, r_col, c_col = st.columns([3, 2, 1, 1])
    loss = left.radio("What is differentiated", list(gradients.LOSSES), key=K + "loss",
                      horizontal=True, format_func={"sum": "sum of outputs",
                                                    "squared norm": "squared norm of outputs",
                                                    "one value": "one output value"}.get)
    channel = mid.slider("Channel c", 0, C - 1, key=K + "channel") if C > 1 else 0
    hint = "-1: where channel c is strongest"
    row, col = gradients.pick_pixel(
        feats, channel, r_col.number_input("Row r", -1, H - 1, key=K + "row", help=hint),
        c_col.number_input("Column s", -1, W - 1, key=K + "col", help=hint))
    st.latex(gradients.LOSSES[loss] + (rf"\qquad (c, r, s) = ({channel}, {row}, {col})"
                                       if loss == "one value" else ""))

    closed = threads.on_torch_thread(gradients.closed_lrn_gradient, feats, lrn_args, loss, channel,
                                row, col)
    grad, bad = look.finite(closed.astype(np.float32))
    if bad:
        st.warning(f"{bad} gradient values are not finite (NaN or inf) and are drawn as 0.")
    left, check_column = st.columns([3, 1])
    widgets.chart(maps.channel_grid(grad, True, f"dL/dx of all {C} channels (mid-grey = 0, "
                                  "light = positive; each channel on its own scale)",
                                  symmetric=True), left)
    # The check against autograd fills check_column at the end of this panel, so that the
    # browser draws the figures while the server runs it.

    # --- one output's Jacobian -----------------------------------------------------------------
    st.subheader("Lateral inhibition: how one output depends on its neighbours")
    jac = threads.on_torch_thread(gradients.jacobian, feats, lrn_args, channel, row, col)
    if state.mode == "across":
        live.jacobian(page, charts.jacobian_bars(
            jac.labels, jac.values, f"∂y(ch {channel}) / ∂x at pixel ({row}, {col}), for each "
            "input channel"), pack)
    else:
        live.jacobian(page, maps.jacobian_heatmap(
            jac.values, *jac.origin, (row, col),
            f"∂y({row}, {col}) / ∂x in channel {channel}; centre {{centre}}, off this scale"),
            pack)
    st.markdown("**Positive at the centre, negative around it**: raising a unit's own input raises "
                "its output, raising a neighbour's lowers it. That is lateral inhibition.")
    if jac.centre < 0:
        st.info("Here even the centre is negative: this input is so strong that raising it "
                "grows the denominator faster than the numerator (2aβx² > k + a·S), so the unit "
                "saturates.")
    parameter = st.radio("Scrub in the browser", SCRUB, key=K + "scrub",
                         horizontal=True,
                         format_func=lambda p: "off" if p == "off" else scrub.PARAMETERS[p],
                         help="Sends this output's Jacobian row at many values of one "
                              "parameter; the figure's own slider then moves between them "
                              "without waiting for the server.")
    if parameter != "off":
        settings = tuple(getattr(state, name) for name in cached.SCRUB_SETTINGS)
        widgets.chart(cached.jacobian_scrub_figure(feats, settings, parameter, channel, row, col),
                 key="jacobian_scrub")
        st.caption(f"Each frame is exact (lrn_core's closed-form backward at that "
                   f"{scrub.PARAMETERS[parameter]}); the slider above sets any value in between. "
                   "One scale over all frames.")

    # --- BatchNorm couples the images of a batch -----------------------------------------------
    st.subheader("BatchNorm: one image's gradient depends on the rest of its batch")
    mates = st.multiselect("Batch-mates of this image", list(SAMPLES), key=K + "mates",
                           max_selections=Gradients.MATES_MAX)
    if not mates:
        st.info("Pick at least one batch-mate to see BatchNorm couple the images.")
    else:
        others = [s for s in SAMPLES if s not in mates and s != state.sample][:len(mates)]
        (key, mine), (swap_key, swapped) = (cached.image_batch(feats_key, feats, m, H, state.source,
                                                           state.channels) for m in (mates, others))
        # BatchNorm's part does not depend on LRN's sliders: cached, so they move LRN's alone.
        bn_grads = cached.batchnorm_coupling(key, mine, swap_key, swapped, loss, channel, row, col)
        lrn_grads = threads.on_torch_thread(gradients.lrn_coupling, mine, swapped, lrn_args, loss,
                                       channel, row, col)
        labels = ["this image"] + list(mates)
        bn_tiles, bad = look.finite(bn_grads.tiles)
        if bad:
            st.warning(f"{bad} BatchNorm gradient values are not finite and are drawn as 0.")
        st.markdown(f"The loss is taken on **this image's** output only; the tiles show dL/dx "
                    f"of channel {channel} for every image of the batch (one shared scale per "
                    "method).")
        left, right = st.columns(2)
        widgets.chart(maps.channel_grid(bn_tiles, False, "BatchNorm (training mode)", labels,
                                      wrap=4, symmetric=True), left)
        widgets.chart(maps.channel_grid(lrn_grads.tiles, False, "LRN", labels, wrap=4,
                                      symmetric=True), right)
        m1, m2, m3 = st.columns(3)
        m1.metric("Largest |dL/dx| on the batch-mates: BatchNorm", f"{bn_grads.on_mates:.3g}")
        m2.metric("… and LRN", f"{lrn_grads.on_mates:.3g}")
        m3.metric("BatchNorm: change after a swap", f"{100 * bn_grads.swap_change:.1f}%",
                  help="largest |difference| relative to this image's largest |dL/dx|")
        m3.caption(f"this image's gradient when its batch-mates are swapped for "
                   f"{', '.join(others)}; LRN's changes by {100 * lrn_grads.swap_change:.1f}%.")
        st.caption(f"BatchNorm's closed-form gradient against autograd through F.batch_norm: "
                   f"largest difference {bn_grads.max_diff:.1e} (largest |dL/dx| "
                   f"{bn_grads.scale:.3g}, float64).")
        st.markdown("BatchNorm normalises with the batch's mean and variance, so every image's "
                    "input moves this image's output and receives gradient from its loss; LRN "
                    "looks at one image and sends the batch-mates nothing.")
    check = threads.on_torch_thread(gradients.check_lrn_gradient, feats, lrn_args, loss, channel,
                               row, col, closed)
    check_column.metric("Largest |closed form − autograd|", f"{check.max_diff:.1e}")
    check_column.caption(f"against a largest |dL/dx| of {check.scale:.3g}, both in float64: the "
                         "closed form is the derivative, not an approximation of it.")
    if check.undefined:
        check_column.info(f"{check.undefined} cells are left out of the comparison: k = 0 with "
                          "an all-zero window, where autograd gives NaN (0/0) and the closed "
                          "form defines 0.")
    widgets.compute_caption(started, "g__runs")
    page.save()


# Hashed here, once per image, rather than on every slider move in the fragment.
gradients_panel(feats, str(hash(feats.tobytes())))
