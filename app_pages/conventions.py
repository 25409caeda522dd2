"""Conventions: one LRN setting in every library's terms, proved on real data."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from lrn_app import pages
from lrn_app.compute import conventions
from lrn_app.figures import charts
from lrn_app.inputs.samples import SAMPLES
from lrn_app.serving import threads
from lrn_app.ui import cached, session, widgets
from lrn_core.conventions import describe_window

PAGE = pages.get("conventions")
K = PAGE.prefix  # this page's widget keys: c_<field of Conventions>
page = session.PageState(PAGE.state, K)
FEATURES = (16, 128)  # the proof's Gabor channels and working size
MATRIX_WIDTH = 540  # px: a difference matrix, its nine columns wide enough for "5.7e-5"

page.start()  # a hand-edited address: its repairs are shown

st.title("Conventions")
widgets.explain(
    "Every library computes `y = x / (k + a·S)^β`, but the same four numbers mean different "
    "things: alpha is divided by n, by n², or not at all, and an even n puts the window's "
    "extra channel below the centre (PyTorch), above it (ONNX, cuDNN), nowhere (oneDNN) or "
    "both sides (the AlexNet paper). Enter a setting in one library's terms."
)


@st.fragment
def setting_and_proof() -> None:
    """The setting, its translations and the proof: all that LRN's controls move, rerun alone
    when one of them changes (the examples below do not depend on them)."""
    started = time.perf_counter()
    widgets.mode_and_convention(page, (FEATURES[0], FEATURES[1], FEATURES[1]))
    widgets.lrn_sliders(page, FEATURES[0])
    state = page.get()
    params = dict(size=state.n, alpha=state.alpha, beta=state.beta, k=state.k)
    w = widgets.lrn_window(page)
    if w is None:
        return
    st.markdown(f"In canonical form: **a = {w.a:.6g}**, k = {w.k:g}, β = {w.beta:g}, summing "
                f"**{describe_window(w.before, w.after, state.mode)}**.")

    # --- the translator -----------------------------------------------------------------------
    st.subheader("The same setting in every library")
    st.table(conventions.translations(params, state.convention, state.mode), hide_index=True)

    # --- proof on real data -------------------------------------------------------------------
    st.subheader("Proof on real data")
    sample = st.selectbox("Input: Gabor features of", list(SAMPLES), key=K + "sample",
                          format_func=lambda s: f"{s}: {SAMPLES[s]}")
    feats = cached.features(
        f"{sample}:{FEATURES[1]}", cached.sample_image(sample, FEATURES[1]), "gabor", FEATURES[0]
    )
    translated = threads.on_torch_thread(conventions.agreement, feats, params, state.convention,
                                    state.mode, True)
    naive = threads.on_torch_thread(
        conventions.agreement, feats, params, state.convention, state.mode, False
    )
    # Side by side where two fit at a width whose cells' numbers read (a 1280-px projector
    # without the sidebar), else one above the other.
    matrices = st.container(horizontal=True, gap="medium")
    for result, title in ((translated, "Translated parameters"),
                          (naive, "The same four numbers (a naive port)")):
        column = matrices.container(width=MATRIX_WIDTH)
        widgets.chart(charts.difference_matrix(result.names, result.matrix,
                                           f"{title}: largest difference"), column)
        if result is translated and result.missing:
            column.caption(f"No exact equivalent in {', '.join(result.missing)} (the table above "
                           "says why).")
        elif result.missing:
            column.caption(" ".join(f"**{name}** refuses: {why}."
                                    for name, why in result.missing.items()))
        for name, cells in result.undefined.items():
            column.warning(f"{name} gives NaN in {cells} of {feats.size} outputs here: with "
                           "k = 0 an all-zero window is 0 / 0 (lrn_core defines 0). This matrix "
                           "leaves them out.")
    st.caption(f"{conventions.TORCH_OWN}: torch's F.local_response_norm across channels; within a "
               "channel, x · (k + α · avg_pool2d(x², n))^-β, the formula every library with that "
               "mode reduces to. Every other row runs lrn_core, so this one is the outside "
               "witness.")
    worst = float(np.max(translated.matrix)) if translated.names else 0.0
    st.markdown(f"Translated, every library that can express the setting agrees to within "
                f"**{worst:.1e}** of the largest output (float32 rounding); given the same "
                "numbers, they do not. Differences are relative to the largest output of "
                f"{state.convention}.")
    if state.mode == "across" and w.before != w.after:
        st.info(f"An asymmetric window ({describe_window(w.before, w.after)}): only conventions "
                "that place an even size's extra channel on the same side can express it, and "
                "the right-hand matrix shows how far apart the libraries are on the same even "
                "size.")
    widgets.compute_caption(started, "c__runs")
    page.save()


setting_and_proof()

# --- the worked examples (docs/conventions.md) -------------------------------------------------
st.subheader("Worked examples from tutorials, computed now")
st.table([{"example": e.name, "setting": e.setting,
               "expected": np.array2string(e.expected, precision=8, separator=", "),
               "lrn_core": np.array2string(e.computed, precision=8, separator=", "),
               "largest error": f"{e.max_error:.1e}"} for e in conventions.worked_examples()],
         hide_index=True)

# --- the tutorials' examples, live ----------------------------------------------------------------
st.subheader("The tutorials' examples, live: change a number")
name = st.radio("Example", list(conventions.EXAMPLES), key=K + "example", horizontal=True,
                format_func=lambda e: conventions.EXAMPLES[e].title)
example = conventions.EXAMPLES[name]
st.caption(example.source)
default = example.grid()
left, right = st.columns(2)
edited = left.data_editor(pd.DataFrame(default, index=example.row_labels,
                                       columns=example.col_labels),
                          key=f"{K}grid_{name}", width="stretch",  # edits stay for the session
                          column_config={c: st.column_config.NumberColumn(width="small")
                                         for c in example.col_labels})
grid, repaired = conventions.clean(example, edited.to_numpy())
if repaired:
    left.warning(f"{repaired} cells were not numbers within ±{conventions.MAX_ABS:g}; they count "
                 "as 0 or are clipped.")
output = conventions.compute(example, grid)
# What the last edit changed: the outputs before and after it, kept until the next edit.
memory = st.session_state.setdefault(f"{K}edits_{name}", {"grid": default, "changed": None})
if not np.array_equal(memory["grid"], grid):
    memory["changed"] = conventions.changed(conventions.compute(example, memory["grid"]), output)
    memory["grid"] = grid
changed = memory["changed"] if memory["changed"] is not None else np.zeros(grid.shape, bool)
cells = [(r, c) for r in range(grid.shape[0]) for c in range(grid.shape[1])]
if st.session_state[K + "cell"] >= len(cells):  # kept from an example with more outputs
    st.session_state[K + "cell"] = 0
row, col = cells[right.selectbox(
    "Output to explain", range(len(cells)), key=K + "cell",
    format_func=lambda i: f"{example.row_labels[cells[i][0]]}, {example.col_labels[cells[i][1]]}")]
right.code(conventions.arithmetic(example, grid, row, col), language=None, wrap_lines=True)
window = conventions.window_cells(example, row, col)
left, right = st.columns(2)
widgets.chart(charts.number_grid(grid, example.row_labels, example.col_labels,
                             "input x (blue: the window of the red output)", outlined=window,
                             centre=(row, col)), left)
widgets.chart(charts.number_grid(output, example.row_labels, example.col_labels,
                             "output y (orange: changed by your last edit)",
                             marked=list(zip(*np.nonzero(changed))), centre=(row, col)), right)
st.caption(f"{int(changed.sum())} of {output.size} outputs changed with the last edit: every "
           "output whose window holds the edited number (unless its own x is 0: y = x · gain). "
           "lrn_core computes them, in the "
           f"{example.convention} convention with {example.params}.")

# --- peers' defects -------------------------------------------------------------------------------
st.subheader("Known defects of other implementations")
st.markdown("\n".join(f"- **{name}**: {why}" for name, why in conventions.PEER_DEFECTS.items()))
defect = conventions.cross_map_defect()
if defect is not None:
    st.caption(
        "All-ones input, 6 channels, size 3, alpha 3, beta 1, k 1: the window sum is 3 "
        "inside and 2 at the ends, so the output should read 1/4 inside and 1/3 at the ends."
    )
    st.dataframe({"channel": list(range(6)), **defect}, hide_index=True)
page.save()
