"""LRN Explorer: pick an image and features, turn k, alpha, beta and n, watch LRN work."""

import time

import numpy as np
import streamlit as st

from lrn_app import pages
from lrn_app.compute import explorer, scrub
from lrn_app.compute.live import maps_pack
from lrn_app.compute.presets import PRESETS, apply_preset
from lrn_app.figures import charts, look, maps
from lrn_app.inputs.features import BANKS, describe_channel, gabor_kernels
from lrn_app.serving import threads
from lrn_app.state import SCRUB, TABS, VIEWS
from lrn_app.ui import cached, live, session, widgets

PAGE = pages.get("explorer")
K = PAGE.prefix  # this page's widget keys: x_<field of Explorer>
page = session.PageState(PAGE.state, K)

page.start()  # a hand-edited address: its repairs are shown

st.title("LRN Explorer")
widgets.explain(
    "Each activation is divided by `(k + a·S)^β`, where `S` is the sum of squares over its "
    "window. Where the neighbourhood is strong the gain `y / x` drops: that is the "
    "normalisation. **The effect of α depends on the scale of the activations**: the "
    "features here peak near 1, so the AlexNet paper's α = 1e-4 changes them by less than "
    "0.01%; its network's activations were in the tens to hundreds. This page opens with "
    "α = 10 (PyTorch's convention, a = α / n = 2), where strong edges are visibly damped."
)

# --- the image, its feature maps, presets, mode and convention: set once per lesson ------------
# (a change here reruns the page; the features are cached)


def preset_clicked(name: str) -> None:
    new, message = apply_preset(page.get(), name)
    page.set(new)
    st.session_state["preset_message"] = message


with widgets.setup_box("Image, feature maps, presets, mode and convention", K + "setup"):
    feats = widgets.image_and_features(K)
    C, H, W = feats.shape
    state = page.get()
    if state.source == "gabor" and not session.presenting():
        with st.expander("The filter bank's kernels"):
            kernels = gabor_kernels(state.channels).numpy()
            widgets.chart(maps.channel_grid(kernels, True, f"{state.channels} Gabor kernels "
                                          "(mid-grey = 0)", wrap=16, symmetric=True))
    cols = st.columns(len(PRESETS))
    for col, name in zip(cols, PRESETS):
        col.button(name, on_click=preset_clicked, args=(name,), width="stretch")
    if "preset_message" in st.session_state:
        st.caption(st.session_state.pop("preset_message"))
    widgets.mode_and_convention(page, feats.shape)


@st.fragment
def lrn_panel(feats: np.ndarray) -> None:
    """Everything the sliders move: reruns alone when one of its controls changes."""
    C, H, W = feats.shape
    state = page.get()
    mode, convention = state.mode, state.convention
    # On a projector the channel slider joins the row of sliders, to keep the figure in view.
    sliders, channel_slot = st.columns([4, 1]) if session.presenting() else (st.container(), None)
    pack = live.pack_id(feats, mode, convention, state.n if mode == "within" else "")
    with sliders:  # they redraw the figures below in the browser while they move
        live.sliders(page, C, pack, lambda: maps_pack(feats, state))
        if state.mode == "within":
            st.caption("Within a channel, the figures follow k, α and β as you drag; n when "
                       "you release it (its window spans pixels the figures do not hold).")
    state = page.get()
    n, k, alpha, beta = state.n, state.k, state.alpha, state.beta

    w = widgets.lrn_window(page)
    if w is None:
        return
    started = time.perf_counter()
    result = threads.on_torch_thread(explorer.run_lrn, feats, state, session.device())
    window = (f"c-{w.before} .. c+{w.after}" if mode == "across"
              else f"{w.taps} x {w.taps} pixels around (r, s)")
    st.latex(rf"y = \frac{{x}}{{\left({w.k:g} + {w.a:.4g}\cdot S\right)^{{{beta:g}}}}}"
             rf"\qquad S = \sum_{{\text{{{window}}}}} x^2 \qquad a = {w.a:.4g}")
    if w.k != k:
        st.info(f"Caffe's CPU engine ignores k within a channel and uses 1 (you set k = {k:g}).")
    if result.zero_denominator:
        st.info(f"{result.zero_denominator} cells have k = 0 and an all-zero window: their "
                "denominator is 0, and their output and gain are set to 0.")
    shown = {}
    for name, array in result.maps.items():
        shown[name], bad = look.finite(array)
        if bad:
            st.warning(f"{bad} values of {name} are not finite (NaN or inf) and are drawn as 0.")

    # --- one channel, every quantity -----------------------------------------------------------
    if channel_slot is None:
        st.subheader("One channel, step by step")
        channel_slot = st.container()
    channel = channel_slot.slider("Channel", 0, C - 1, key=K + "channel") if C > 1 else 0
    if C in BANKS and C > 3 and not session.presenting():
        st.caption(f"Channel {channel}: {describe_channel(channel, C)}")
    live.panels(page, {p: shown[p] for p in maps.PANELS}, channel, pack,
                {p: p for p in maps.PANELS})
    widgets.explain(
        "Bright input with bright neighbours gives a large `S`, a large denominator and "
        "a small gain: **strong responses are damped most where their neighbourhood is "
        "strong too**."
    )

    # --- scrub: one parameter swept, every frame sent to the browser at once -------------------
    parameter = st.radio("Scrub in the browser", SCRUB, key=K + "scrub", horizontal=True,
                         format_func=lambda p: "off" if p == "off" else scrub.PARAMETERS[p],
                         help="Sends this channel's output and gain at many values of one "
                              "parameter; the figure's own slider then moves between them "
                              "without waiting for the server.")
    if parameter != "off":
        widgets.chart(cached.scrub_figure(feats, (mode, convention, n, k, alpha, beta), parameter,
                                 channel), key="scrub_view")
        st.caption(f"Each frame is exact (lrn_core at that {scrub.PARAMETERS[parameter]}); the "
                   "slider above sets any value in between. The colours keep one scale over "
                   "all frames.")

    # --- deeper looks, one at a time: only the chosen one is computed and drawn --------------
    # A segmented control, not st.tabs: a tab panel searches all of its content for something
    # focusable after each render and each change inside it (react-aria's useHasTabbableChild),
    # a large share of the browser's CPU per slider move with the channel grid in it.
    closer = st.segmented_control("Look closer", TABS, key=K + "tab", required=True,
                                  label_visibility="collapsed")
    if closer == "All channels":
        g1, g2 = st.columns([3, 1])
        view = g1.radio("Show", VIEWS, key=K + "view", horizontal=True)
        per_channel = g2.toggle("Colour scale per channel", key=K + "per_channel_scale")
        live.grid(page, shown[view], view, per_channel, f"{view}, all {C} channels"
                  + (" (each scaled to its own range)" if per_channel else " (one shared scale)"),
                  pack)

    if closer == "Statistics":
        stats = explorer.channel_stats(shown["input"], shown["output"])
        st.dataframe({"channel": np.arange(C), **stats}, hide_index=True, height=220,
                     column_config={"changed > 1%": st.column_config.ProgressColumn(
                         "changed > 1%", min_value=0.0, max_value=1.0, format="percent")})

    if closer == "Pixel inspector":
        p1, p2, p3 = st.columns([1, 1, 3])
        hint = "-1: the channel's strongest activation"
        row = p1.number_input("Row", -1, H - 1, key=K + "row", help=hint)
        col = p2.number_input("Column", -1, W - 1, key=K + "col", help=hint)
        if row < 0 or col < 0:  # where there is something to see
            peak_row, peak_col = np.unravel_index(np.argmax(feats[channel]), (H, W))
            row, col = (peak_row if row < 0 else row), (peak_col if col < 0 else col)
        px = explorer.inspect_pixel(feats, state, channel, row, col)
        if mode == "across":
            widgets.chart(charts.window_bars(px.labels, px.squares, px.centre), p3)
        else:
            widgets.chart(maps.window_heatmap(px.squares, *px.origin), p3)
        p1.markdown(
            f"channel {channel}, pixel (row {row}, column {col})\n\n"
            f"x = **{px.x:.4g}**\n\nS = Σ x² = **{px.S:.4g}**\n\n"
            f"k + a·S = {w.k:g} + {px.a:.4g} × {px.S:.4g} = **{px.D:.4g}**\n\n"
            f"gain = {px.D:.4g}^-{beta:g} = **{px.gain:.4g}**\n\ny = x · gain = **{px.y:.4g}**")

    if closer == "Channel order":
        if mode != "across":
            st.info("Within-channel LRN never mixes channels, so their order does not matter.")
        elif st.toggle("Shuffle the channel order", key=K + "shuffle"):
            diff, worst = threads.on_torch_thread(explorer.shuffle_effect, feats, state)
            st.metric("Largest change of the output after shuffling the channels",
                      f"{100 * worst:.1f}% of the largest output")
            widgets.chart(maps.channel_grid(diff, False, "|output(shuffled) - output|"))
        widgets.explain("A layer's filters have no natural order, yet across-channel LRN sums "
                   "over index neighbours: shuffling them changes what competes with what.")

    if closer == "Export":
        output = result.maps["output"]  # encoded only when clicked
        st.download_button("Output tensor (.npy, C x H x W)", lambda: explorer.npy_bytes(output),
                           file_name="lrn_output.npy", mime="application/octet-stream")
        st.caption("Figures: the camera icon on each chart downloads it as a PNG.")
        for framework, code in explorer.code_snippets(state).items():
            st.caption(framework)
            st.code(code, language="python")
    widgets.compute_caption(started, "lrn_runs", session.device())
    page.save()


lrn_panel(feats)
