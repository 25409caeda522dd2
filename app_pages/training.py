"""Training lab: the same small CNN without normalisation, with LRN and with BatchNorm,
each at its own best learning rate."""

import time
from dataclasses import replace

import streamlit as st

from lrn_app import pages
from lrn_app.compute import training
from lrn_app.figures import charts, maps
from lrn_app.serving import threads
from lrn_app.serving.training_pool import SECONDS_PER_EPOCH, QueueFull, run_key
from lrn_app.state import BETA_MAX, K_MAX, Training, alpha_choices, convention_label, limits, repair
from lrn_app.ui import cached, session, widgets
from lrn_lab.network import HEADS, VARIANTS
from lrn_lab.trainer import LAB_CONVENTIONS, PAPER_LRN, RATES, TrainConfig, first_layer

PAGE = pages.get("training")
K = PAGE.prefix  # this page's widget keys: t_<field of Training>
page = session.PageState(PAGE.state, K)
started = time.perf_counter()
COLOURS = dict(zip(VARIANTS.values(), charts.PALETTE))  # each variant keeps its colour

page.start()  # a hand-edited address: its repairs are shown

st.title("Training lab")
widgets.explain(
    "Does LRN or BatchNorm make a small CNN learn better? The same network is trained "
    "without normalisation, with LRN and with BatchNorm, on generated images of six shapes. "
    "Each variant is trained at every learning rate of a grid and judged at the rate that "
    "suits it best on a validation split; the final figures come from a test split that "
    "chose nothing, over several seeds, with a 95% interval, so that nobody reads noise "
    "(or one variant's unlucky rate) as a result."
)


with st.expander("The data set, the network and the protocol"):
    tiles, names = cached.shape_examples()
    widgets.chart(maps.mosaic(tiles, names, wrap=12, height_per_row=90))
    st.markdown(
        f"{TrainConfig.train_size} training, {TrainConfig.val_size} validation and "
        f"{TrainConfig.test_size} test images, 24 x 24, of six shapes at random position, size, "
        "rotation and contrast, on noise; the splits are fixed, nothing is downloaded. "
        "The network: three blocks of conv (5x5 with 8 channels, then 3x3 with 16 and 32) · "
        "ReLU · **norm**, max-pools between them, then a global average pool and a linear "
        "classifier, as real CNNs end. **norm** is nothing, LRN (lrn_core's, with its "
        "closed-form backward) or BatchNorm. The protocol: SGD with momentum 0.9 and weight "
        "decay, a warm-up over the first epoch and a cosine decay; each variant at the rate of "
        f"{', '.join(f'{r:g}' for r in RATES)} (and beyond, where an end of the grid holds the "
        "best) with the best mean validation accuracy; a run "
        "whose loss blows up is reported as diverged; BatchNorm's statistics are recomputed "
        "over the training images after training. LRN's α is set from the measured scale of "
        "each layer's input (the dot on the curve below), so that LRN stays where a larger "
        "input still gives a larger output, as AlexNet's did.")


def paper_values() -> None:
    page.set(replace(page.get(), **{k: v for k, v in PAPER_LRN.items()}))


# --- the experiment's settings --------------------------------------------------------------------
with st.container(border=True):
    c1, c2, c3 = st.columns([4, 1, 1])
    c1.multiselect("Variants", list(VARIANTS), key=K + "variants", format_func=VARIANTS.get)
    c2.slider("Seeds per variant", 1, Training.SEEDS_MAX, key=K + "seeds")
    c3.slider("Epochs", 1, Training.EPOCHS_MAX, key=K + "epochs")
    l1, l2, l3, l4 = st.columns([3, 3, 3, 3])
    l1.selectbox("Classifier head", list(HEADS), key=K + "head", format_func=HEADS.get)
    l2.selectbox("LRN convention (both modes)", LAB_CONVENTIONS, key=K + "convention",
                 format_func=convention_label)
    l3.toggle("Scale α to the input", key=K + "alpha_scaled",
              help="On: each LRN layer's α is this α x k / q², q the 99.9th percentile of "
                   "its input at initialisation. Off: α as it is.")
    l4.button("AlexNet's values", on_click=paper_values,
              help="The paper's literal values, k = 2, α = 1e-4, n = 5, β = 0.75, α not "
                   "scaled: set for AlexNet's activations in the tens to hundreds.")
    repaired, notes = repair(page.get())
    page.set(repaired, only=("n", "k", "alpha", "beta"))
    for note in notes:
        st.info(note)
    state = page.get()
    lim = limits(state.convention, "within")
    s1, s2, s3, s4 = st.columns(4)
    s1.slider(f"n ({lim.size_name})", lim.n_min, min(lim.n_max, 15), step=lim.n_step, key=K + "n")
    s2.slider("k", lim.k_min, K_MAX, step=0.01, key=K + "k")
    s3.select_slider("α (log scale)", options=alpha_choices(state.alpha), key=K + "alpha",
                     format_func=lambda v: f"{v:.3g}")
    s4.slider("β", lim.beta_min, BETA_MAX, step=0.01, key=K + "beta")

state = page.get()
if not state.variants:
    st.info("Pick at least one variant to train.")
    page.save()
    st.stop()
config = state.config()
store = cached.lab_runs()  # finished runs, shared by the sessions of this server
missing = training.missing(state.variants, state.seeds, config, store)
# Runs in progress (or stopped) in this session, kept so that training can continue.
missing_keys = {run_key(job) for job in missing}
trainers = {k: t for k, t in st.session_state.get("lab_trainers", {}).items()
            if k in missing_keys}
st.session_state["lab_trainers"] = trainers
shown = training.outcomes(state.variants, state.seeds, config, store)
from_shipped = False
if missing and len(shown) < len(state.variants):
    ready = training.shipped(state.variants, state.seeds, config)
    if ready is not None:
        shown, from_shipped = ready, True


epochs_left = training.epochs_to_train(missing, trainers)
b1, b2 = st.columns([1, 3])
if missing:
    label = ("Continue training" if any(run_key(j) in trainers for j in missing) else
             "Run on this server" if from_shipped else "Train")
    train_now = b1.button(f"{label} ({len(missing)} runs)", type="primary", key="t_train")
    workers = cached.training_pool().workers
    b2.caption(("Shown: the results that ship with the app, made by `lrn-train --save` with "
                "these settings; a run on this server reproduces them (another CPU sums in "
                "another order, so the figures differ a little, the verdicts should not). "
                if from_shipped else "")
               + f"{len(missing)} runs ({len(state.variants)} variants x {len(RATES)} rates x "
               f"{state.seeds} seeds, and more where a variant's best rate is at an end of the "
               f"grid): at least {epochs_left * SECONDS_PER_EPOCH / workers:.0f} s on this "
               f"server's training worker{'s' if workers > 1 else ''}, outside the server's own "
               "process; each variant appears when its rates are done, and Stop keeps what is "
               "done.")
else:
    train_now = False
    b2.caption("Every run of these settings is stored on this server: shown without training "
               "again.")
stop_slot, progress_slot = b1.empty(), st.empty()
left, right = st.columns(2)
accuracy_slot, loss_slot = left.empty(), right.empty()
table_slot, verdict_slot = st.empty(), st.empty()


def draw(done: list) -> None:
    """The curves at each variant's chosen rate, the table and the verdicts."""
    widgets.chart(charts.training_curves(training.curves(done, "acc"),
                                         "Accuracy at each variant's chosen rate", "accuracy",
                                         COLOURS), accuracy_slot)
    widgets.chart(charts.training_curves(training.curves(done, "loss"), "Cross-entropy loss",
                                         "loss", COLOURS), loss_slot)
    table_slot.dataframe(training.table(done), hide_index=True)
    waiting = [VARIANTS[v] for v in state.variants if v not in {o.variant for o in done}]
    verdict_slot.markdown("  \n".join(training.verdicts(done)) + (
        f"  \n*Not finished yet: {', '.join(waiting)}.*" if waiting else "")
        + "  \n*An interval within ±2 points is no difference; a wider one that crosses "
        "zero is inconclusive.*")


draw(shown)
if train_now:
    stop_slot.button("Stop", key="t_stop")  # a click reruns the page, which ends this loop
    pool = cached.training_pool()  # worker processes: the other students' pages keep their cores

    def waiting(ahead: int) -> None:
        progress_slot.info(f"Waiting for the training worker: {ahead} session"
                           f"{'s' if ahead > 1 else ''} ahead of yours. Runs that another "
                           "session finishes with these settings are shown without training.")

    rounds = {"before": 0, "total": epochs_left}  # epochs of the earlier rounds, all known
    drawn = {"variants": [o.variant for o in shown]}

    def epochs_done(done: int) -> None:
        done += rounds["before"]
        progress_slot.progress(min(1.0, done / rounds["total"]),
                               text=f"{done} of {rounds['total']} epochs trained")
        now = training.outcomes(state.variants, state.seeds, config, store)
        # A variant appears when its grid is done; the shipped results stay until the end.
        if not from_shipped and [o.variant for o in now] != drawn["variants"]:
            drawn["variants"] = [o.variant for o in now]
            draw(now)
    try:
        with pool.turn(waiting):
            while missing:  # again while a grid grows past its ends
                this_round = training.epochs_to_train(missing, trainers)
                pool.train(missing, store, trainers, epochs_done)
                rounds["before"] += this_round
                missing = training.missing(state.variants, state.seeds, config, store)
                rounds["total"] += training.epochs_to_train(missing, trainers)
    except QueueFull as err:
        progress_slot.warning(f"The training queue is full ({err}); try again in a minute.")
        st.stop()
    st.rerun()  # redraw without the Stop button

curves = training.response_curves(shown, config)
if curves:
    st.subheader("Where LRN works: its output against its input")
    widgets.chart(charts.lrn_response(curves))
    st.caption("Notice where the dots sit: left of each cross, a larger input still gives a "
               "larger output; past it, LRN turns large activations into smaller ones."
               + (" With α relative to each layer's scale, the layers' curves coincide."
                  if config.alpha_scaled else
                  " With α as it is, AlexNet's α = 1e-4 was set for activations in the tens to "
                  "hundreds; this network's inputs are standardised and its activations are "
                  "about 1, where that α leaves LRN a nearly constant scale of k^-β and the "
                  "fold far off the chart."))

# --- what the first layer learned ----------------------------------------------------------------
trained = {o.variant: (o, o.runs[0]) for o in shown
           if o.runs and o.runs[0].first_filters is not None}  # trained here, not shipped
if trained:
    st.subheader("What the first layer learned")
    if st.session_state[K + "filters_from"] not in trained:
        st.session_state[K + "filters_from"] = next(iter(trained))
    chosen = st.selectbox("Network (first seed, at its chosen rate)", list(trained),
                          key=K + "filters_from", format_func=VARIANTS.get)
    chosen_outcome, run = trained[chosen]
    filters = run.first_filters[:, 0].numpy().repeat(8, axis=1).repeat(8, axis=2)  # 5 px -> 40
    widgets.chart(maps.channel_grid(filters, True,
                                  f"The {len(run.first_filters)} 5x5 filters of the first "
                                  "conv layer (mid-grey = 0)", wrap=12, symmetric=True))
    if st.button("Use these filters as the 'learned' feature source on the other pages"):
        layer = threads.on_torch_thread(first_layer, run, config)
        st.session_state["learned_layer"] = {
            "name": f"{VARIANTS[chosen]} seed 0, rate {chosen_outcome.rate:g}, {config.key()}",
            "filters": layer["filters"].numpy(), "bias": layer["bias"].numpy(),
            "gain": float(layer["gain"])}
    current = st.session_state.get("learned_layer")
    st.caption("The Explorer's and the comparison pages' 'learned' feature source uses "
               + (f"this session's choice: {current['name'].split(',')[0]}." if current else
                  "the shipped first layer (BatchNorm, default settings, seed 0)."))
st.info("**What this lab can show.** A three-layer CNN of about 6,000 parameters, a few "
        "epochs, 24 x 24 generated shapes, on a CPU: which normalisation helps *this* network "
        "learn in *this* budget, with the seeds' noise measured. It cannot show what happens "
        "in an ImageNet-scale network trained for days, where AlexNet's and BN-Inception's "
        "results were found; the Claims lab puts those results beside what is measured here.")
widgets.compute_caption(started, "t__runs")
page.save()
