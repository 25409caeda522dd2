"""Claims lab: what tutorials say about LRN and BatchNorm, each put to an experiment."""

import time

import streamlit as st

from lrn_app import claims, controls, figures, ui
from lrn_app.training_pool import QueueFull
from lrn_core.claims import CLAIMS, LIMITS, TRAINS

K = "cl_"  # this page's widget keys: cl_<field of controls.Claims>
started = time.perf_counter()
page = ui.PageState(controls.Claims, K)
SECONDS_PER_EPOCH = 0.6  # one run's epoch on one training worker (see the Training lab)
VERDICT_COLOUR = {"supported": "green", "not supported": "red", "mixed": "orange",
                  "inconclusive": "gray"}

page.start()  # a hand-edited address: its repairs are shown

st.title("Claims lab")
ui.explain(
    "Tutorials repeat claims about LRN and BatchNorm that few people test. Here each one is "
    "an experiment on the Training lab's data set and network, with several seeds, and its "
    "verdict follows one rule, written in the code (`lrn_core.claims.verdict`): a difference "
    "counts only when it exceeds the seed-to-seed spread. The same experiments run from the "
    "command line: `python -m lrn_core.claims`.")


def claim_changed() -> None:
    """A new claim starts from its own seeds and epochs."""
    defaults = controls.CLAIMS[st.session_state[K + "claim"]].defaults
    st.session_state[K + "seeds"], st.session_state[K + "epochs"] = defaults.seeds, defaults.epochs


with st.container(border=True):
    st.selectbox("Claim", list(CLAIMS), key=K + "claim", on_change=claim_changed,
                 format_func=lambda name: f"{CLAIMS[name].number}. {CLAIMS[name].text}")
    claim = CLAIMS[page.get().claim]
    if claim.jobs(claim.defaults):  # the cost claim times layers and trains nothing
        left, right = st.columns(2)
        left.slider("Seeds per configuration", 2, controls.Claims.SEEDS_MAX, key=K + "seeds")
        right.slider("Epochs per run", 1, controls.Claims.EPOCHS_MAX, key=K + "epochs")

state = page.get()
settings = state.settings()
st.markdown(f"**Where it is said:** {claim.source}.  \n**The experiment:** {claim.experiment}")

result = ui.claim_results().get(claims.result_key(claim.name, settings))
runs = ui.lab_runs()  # shared with the Training lab
if result is None:
    epochs = claims.missing_epochs(claim.name, settings, runs)
    pool = ui.training_pool()
    b1, b2 = st.columns([1, 3])
    run_now = b1.button("Run", type="primary", key="cl_run")
    b2.caption(f"Not run with these settings on this server yet: {epochs} epochs to train, about "
               f"{epochs * SECONDS_PER_EPOCH / pool.workers + 5:.0f} s on the training worker"
               f"{'s' if pool.workers > 1 else ''}, outside the server's own process. The "
               "result is kept for every session." if epochs else
               "Every run it needs is stored on this server: judging it takes a few seconds.")
    if run_now:
        progress = st.progress(0.0, text="waiting for the training workers")
        try:
            with pool.turn(lambda ahead: progress.progress(
                    0.0, text=f"waiting for the training workers: {ahead} session"
                              f"{'s' if ahead > 1 else ''} ahead of yours")):
                claims.run_claim(claim.name, settings, pool, runs, ui.claim_results(),
                                 lambda done, text: progress.progress(done, text=text))
        except QueueFull as err:
            progress.warning(f"The training queue is full ({err}); try again in a minute.")
        else:
            st.rerun()  # drawn from the shared store, without the Run button

if result is not None:
    st.markdown(f"### Verdict: :{VERDICT_COLOUR[result.verdict]}[{result.verdict}]")
    st.markdown(f"{result.reason}  \n**Measured:** {result.figures}.  \n"
                f"*It took {result.seconds:.0f} s to run on this server.*")
    columns = st.columns(2 if len(result.charts) > 1 else 1)
    for i, chart in enumerate(result.charts):
        figure, left_out = figures.claim_chart(chart)
        with columns[i % len(columns)]:
            ui.chart(figure, key=f"cl_chart_{i}")
            if left_out:
                st.caption(f"{left_out} figures are not numbers (a run diverged) and are left "
                           "out of this chart.")
    each = "seed" if claim.jobs(settings) else "round of timing"
    st.caption(f"Bars and lines: the mean over every {each}; error bars: the lowest to the "
               f"highest {each}; dots: each {each}."
               + (f" A run 'trains' when it ends at {100 * TRAINS:.0f}% validation accuracy or "
                  "more (twice chance, six classes)." if each == "seed" else ""))
st.info(f"**What a verdict here can mean.** {claim.limits} {LIMITS}")
ui.compute_caption(started, "cl__runs")
page.save()
