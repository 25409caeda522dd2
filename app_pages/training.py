"""Training lab: the same small CNN without normalisation, with LRN and with BatchNorm."""

import time
from dataclasses import replace

import numpy as np
import streamlit as st

from lrn_app import controls, figures, ui
from lrn_app.training_pool import QueueFull
from lrn_core.shapes import CLASSES, make_shapes
from lrn_core.train import LAB_CONVENTIONS, VARIANTS, first_layer, summarise, verdict

K = "t_"  # this page's widget keys: t_<field of controls.Training>
started = time.perf_counter()
page = ui.PageState(controls.Training, K)
# Seconds per epoch of one run on one single-threaded training worker, for the estimate:
# 0.45 from the command line on the 2-core machine it was built on, 1.1 with a busy
# Chromium on the same machine (tests/test_browser.py); an idle laptop's browser, between.
SECONDS_PER_EPOCH = 0.6
COLOURS = dict(zip(VARIANTS.values(), figures.PALETTE))  # each variant keeps its colour

page.start()  # a hand-edited address: its repairs are shown

st.title("Training lab")
ui.explain(
    "Tutorials claim that BatchNorm speeds up training, that LRN adds little, and that LRN "
    "has no trainable parameters. Test them: the same small CNN is trained without "
    "normalisation, with LRN across channels, with LRN within a channel and with "
    "BatchNorm, on generated images of six shapes, each with several seeds, drawn as a "
    "band, so that nobody reads noise as a result."
)


@st.cache_data(max_entries=1, ttl=3600, show_spinner=False)
def shape_examples() -> np.ndarray:
    images, labels = make_shapes(36, 24, seed=0)
    order = labels.argsort(stable=True)[:36]
    tiles = (images[order, 0].clamp(0, 1.3) / 1.3 * 255).round().byte().numpy()
    return tiles, [CLASSES[i] for i in labels[order]]


with st.expander("The data set and the network"):
    tiles, names = shape_examples()
    ui.chart(figures.mosaic(tiles, names, wrap=12, height_per_row=90))
    st.markdown(
        "2400 training and 600 validation images, 24 x 24, of six shapes at random position, "
        "size, rotation and contrast, on noise; the splits are fixed, nothing is downloaded. "
        "The network: conv 5x5 (12 channels) · ReLU · **norm** · max-pool · conv 3x3 (24) · "
        "ReLU · **norm** · max-pool · linear, where **norm** is nothing, LRN (lrn_core's, "
        "with its closed-form backward) or BatchNorm, always after the ReLU as in AlexNet. "
        "SGD with momentum 0.9, batches of 64, one learning rate for every variant.")


def paper_values() -> None:
    page.set(replace(page.get(), convention="alexnet", n=5, k=2.0, alpha=1e-4, beta=0.75))


# --- the experiment's settings --------------------------------------------------------------------
with st.container(border=True):
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    c1.multiselect("Variants", list(VARIANTS), key=K + "variants", format_func=VARIANTS.get)
    c2.slider("Seeds per variant", 1, controls.Training.SEEDS_MAX, key=K + "seeds")
    c3.slider("Epochs", 1, controls.Training.EPOCHS_MAX, key=K + "epochs")
    c4.select_slider("Learning rate (SGD)", controls.LEARNING_RATES, key=K + "lr")
    l1, l2 = st.columns([3, 2])
    l1.selectbox("LRN convention (both modes)", LAB_CONVENTIONS, key=K + "convention",
                 format_func=controls.convention_label)
    l2.button("AlexNet paper values (k=2, α=1e-4, n=5, β=0.75)", on_click=paper_values)
    repaired, notes = controls.repair(page.get())
    page.set(repaired, only=("n", "k", "alpha", "beta"))
    for note in notes:
        st.info(note)
    state = page.get()
    lim = controls.limits(state.convention, "within")
    s1, s2, s3, s4 = st.columns(4)
    s1.slider(f"n ({lim.size_name})", lim.n_min, min(lim.n_max, 15), step=lim.n_step, key=K + "n")
    s2.slider("k", lim.k_min, controls.K_MAX, step=0.01, key=K + "k")
    s3.select_slider("α (log scale)", options=controls.alpha_choices(state.alpha), key=K + "alpha",
                     format_func=lambda v: f"{v:.3g}")
    s4.slider("β", lim.beta_min, controls.BETA_MAX, step=0.01, key=K + "beta")

state = page.get()
if not state.variants:
    st.info("Pick at least one variant to train.")
    page.save()
    st.stop()
config = state.config()
key = config.key()
jobs = [(variant, seed) for variant in state.variants for seed in range(state.seeds)]
store = ui.lab_runs()  # finished runs, shared by the sessions of this server
# Runs in progress (or stopped) in this session, kept so that training can continue.
trainers = {k: t for k, t in st.session_state.get("lab_trainers", {}).items() if k[0] == key}
st.session_state["lab_trainers"] = trainers


def runs_now() -> dict:
    return {job: store.get((key, *job)) or (trainers[(key, *job)].run
                                            if (key, *job) in trainers else None) for job in jobs}


missing = [job for job in jobs if store.get((key, *job)) is None]
epochs_left = sum(config.epochs - (len(trainers[(key, *j)].run.epochs) if (key, *j) in trainers
                                   else 0) for j in missing)
b1, b2 = st.columns([1, 3])
if missing:
    label = "Continue training" if any((key, *j) in trainers for j in missing) else "Train"
    train_now = b1.button(f"{label} ({len(missing)} runs)", type="primary", key="t_train")
    workers = ui.training_pool().workers
    b2.caption(f"About {epochs_left * SECONDS_PER_EPOCH / workers:.0f} s on this server's "
               f"training worker{'s' if workers > 1 else ''}, {workers} run"
               f"{'s' if workers > 1 else ''} at a time, outside the server's own process; "
               "every epoch's figures appear as they come, and Stop keeps what is done.")
else:
    train_now = False
    b2.caption("Every run of these settings is stored on this server: shown without training "
               "again.")
stop_slot, progress_slot = b1.empty(), st.empty()
left, right = st.columns(2)
accuracy_slot, loss_slot = left.empty(), right.empty()
table_slot, verdict_slot = st.empty(), st.empty()


def draw(runs: dict) -> None:
    """The curves, the table and the verdict for the runs as they are now."""
    series = {}
    for metric in ("acc", "loss"):
        series[metric] = {VARIANTS[v]: ([[getattr(e, f"val_{metric}") for e in r.epochs]
                                         for (v2, _), r in runs.items() if v2 == v and r],
                                        [[getattr(e, f"train_{metric}") for e in r.epochs]
                                         for (v2, _), r in runs.items() if v2 == v and r])
                          for v in state.variants}
    ui.chart(figures.training_curves(series["acc"], "Accuracy", "accuracy",
                                     COLOURS), accuracy_slot)
    ui.chart(figures.training_curves(series["loss"], "Cross-entropy loss", "loss",
                                     COLOURS), loss_slot)
    finished = [r for r in runs.values() if r and len(r.epochs) == config.epochs]
    table_slot.dataframe([{
        "variant": VARIANTS[s.variant],
        "runs finished": f"{sum(r.variant == s.variant for r in finished)} of {state.seeds}",
        "latest validation accuracy": f"{100 * s.mean:.1f}%",
        "spread over seeds (±)": f"{100 * s.spread:.1f}%",
        "seconds per epoch": round(s.seconds_per_epoch, 2),
        "trainable parameters": s.parameters}
        for s in summarise([r for r in runs.values() if r])], hide_index=True)
    # The verdict compares finished runs only: a run's first epochs say nothing of its end.
    waiting = len(runs) - len(finished)
    verdict_slot.markdown(verdict(summarise(finished)) + (
        f" *({waiting} of {len(runs)} runs are not finished and are left out of this "
        "sentence.)*" if waiting else ""))


draw(runs_now())
if train_now:
    stop_slot.button("Stop", key="t_stop")  # a click reruns the page, which ends this loop
    pool = ui.training_pool()  # worker processes: the other students' pages keep their cores

    def waiting(ahead: int) -> None:
        progress_slot.info(f"Waiting for the training worker: {ahead} session"
                           f"{'s' if ahead > 1 else ''} ahead of yours. Runs that another "
                           "session finishes with these settings are shown without training.")

    def epochs_done(done: int) -> None:  # every epoch's figures as they come
        progress_slot.progress(min(1.0, done / epochs_left),
                               text=f"{done} of {epochs_left} epochs trained")
        draw(runs_now())
    try:
        with pool.turn(waiting):
            pool.train([(*job, config) for job in missing], store, trainers, epochs_done)
    except QueueFull as err:
        progress_slot.warning(f"The training queue is full ({err}); try again in a minute.")
        st.stop()
    st.rerun()  # redraw without the Stop button

# --- what the first layer learned ----------------------------------------------------------------
trained = [v for v in state.variants if store.get((key, v, 0))]
if trained:
    st.subheader("What the first layer learned")
    if st.session_state[K + "filters_from"] not in trained:
        st.session_state[K + "filters_from"] = trained[0]
    chosen = st.selectbox("Network (seed 0)", trained, key=K + "filters_from",
                          format_func=VARIANTS.get)
    run = store.get((key, chosen, 0))
    filters = run.first_filters[:, 0].numpy().repeat(8, axis=1).repeat(8, axis=2)  # 5 px -> 40
    ui.chart(figures.channel_grid(filters, True,
                                  f"The {len(run.first_filters)} 5x5 filters of the first "
                                  "conv layer (mid-grey = 0)", wrap=12, symmetric=True))
    if st.button("Use these filters as the 'learned' feature source on the other pages"):
        layer = ui.on_torch_thread(first_layer, run, config)
        st.session_state["learned_layer"] = {
            "name": f"{VARIANTS[chosen]} seed 0, {key}", "filters": layer["filters"].numpy(),
            "bias": layer["bias"].numpy(), "gain": float(layer["gain"])}
    current = st.session_state.get("learned_layer")
    st.caption("The Explorer's and the comparison pages' 'learned' feature source uses "
               + (f"this session's choice: {current['name'].split(',')[0]}." if current else
                  "the shipped first layer (BatchNorm, default settings, seed 0)."))
ui.compute_caption(started, "t__runs")
page.save()
