"""Claims lab: what papers and tutorials say about LRN and BatchNorm, each put to an
experiment that is judged again under the set-up choices that could have made its verdict."""

import time

import streamlit as st

from lrn_app import pages
from lrn_app.compute import claims
from lrn_app.figures import charts
from lrn_app.serving.training_pool import SECONDS_PER_EPOCH, QueueFull
from lrn_app.state import Claims
from lrn_app.ui import cached, session, widgets
from lrn_lab.claim_parts import DESCRIPTIONS, LIMITS, TRAINS, VARIATIONS
from lrn_lab.claims import CLAIMS

PAGE = pages.get("claims")
K = PAGE.prefix  # this page's widget keys: cl_<field of Claims>
page = session.PageState(PAGE.state, K)
started = time.perf_counter()
VERDICT_COLOUR = {"supported": "green", "contradicted": "red", "no difference": "blue",
                  "inconclusive": "gray"}

page.start()  # a hand-edited address: its repairs are shown

st.title("Claims lab")
widgets.explain(
    "Papers and tutorials make claims about LRN and BatchNorm. Here each one is an experiment "
    "on the Training lab's network and protocol (each variant at its own best learning rate), "
    "over several seeds, judged by one rule (`lrn_lab.stats`): the 95% interval of the "
    "difference is **supported** or **contradicted** when it excludes zero, **no difference** "
    "when it lies within the claim's margin, else **inconclusive**. Each verdict is judged "
    "again under the set-up choices that could have made it; one that changes is reported "
    "as **depends on** that choice. The same experiments run from the command line: "
    "`lrn-claims`.")


def claim_changed() -> None:
    """A new claim starts from its own seeds and epochs."""
    defaults = CLAIMS[st.session_state[K + "claim"]].defaults
    st.session_state[K + "seeds"], st.session_state[K + "epochs"] = defaults.seeds, defaults.epochs


with st.container(border=True):
    st.selectbox("Claim", list(CLAIMS), key=K + "claim", on_change=claim_changed,
                 format_func=lambda name: f"{CLAIMS[name].number}. {CLAIMS[name].text}")
    claim = CLAIMS[page.get().claim]
    if claim.jobs(claim.defaults, VARIATIONS["base"], {}):  # the cost claim trains nothing
        left, right = st.columns(2)
        left.slider("Seeds per configuration", 2, Claims.SEEDS_MAX, key=K + "seeds")
        right.slider("Epochs per run", 1, Claims.EPOCHS_MAX, key=K + "epochs")

state = page.get()
settings = state.settings()
st.markdown(f"**The experiment:** {claim.experiment}")

result, from_shipped = claims.known_result(claim.name, settings, cached.claim_results())
runs = cached.lab_runs()  # shared with the Training lab
if result is None or from_shipped:
    epochs = claims.missing_epochs(claim.name, settings, runs)
    pool = cached.training_pool()
    b1, b2 = st.columns([1, 3])
    run_now = b1.button("Run on this server" if from_shipped else "Run", type="primary",
                        key="cl_run")
    b2.caption((
        "Shown: the result that ships with the app, made by `lrn-claims --save` with these "
        "settings; Run reproduces it here (another CPU sums in another order: the figures "
        "differ a little, a verdict should not). " if from_shipped else "")
        + (f"Not run with these settings on this server yet: at least {epochs} epochs to "
           f"train, about {epochs * SECONDS_PER_EPOCH / pool.workers + 5:.0f} s on the training "
           f"worker{'s' if pool.workers > 1 else ''}, outside the server's own process. The "
           "result is kept for every session." if epochs else
           "Every run it needs is stored on this server: judging it takes a few seconds."))
    if run_now:
        progress = st.progress(0.0, text="waiting for the training workers")
        try:
            with pool.turn(lambda ahead: progress.progress(
                    0.0, text=f"waiting for the training workers: {ahead} session"
                              f"{'s' if ahead > 1 else ''} ahead of yours")):
                claims.run_claim(claim.name, settings, pool, runs, cached.claim_results(),
                                 lambda done, text: progress.progress(done, text=text))
        except QueueFull as err:
            progress.warning(f"The training queue is full ({err}); try again in a minute.")
        else:
            st.rerun()  # drawn from the shared store, without the Run button

if result is not None:
    colour = VERDICT_COLOUR.get(result.verdict, "orange")  # "depends on ...": orange
    st.markdown(f"### Verdict: :{colour}[{result.verdict}]")
    reported = result.reported
    st.markdown(f"{result.reason}  \n**Measured:** {result.figures}.  \n"
                f"**Reported:** {reported.source} (amounts to *{reported.direction}*; size: "
                f"{reported.size}). **The lab's base set-up "
                f"{'agrees' if result.agrees else 'does not agree'}."
                f"**  \n*It took {result.seconds:.0f} s to run"
                f"{' where the shipped result was made' if from_shipped else ' on this server'}.*")
    trains = bool(claim.jobs(settings, VARIATIONS["base"], {}))  # the cost claim times layers
    if result.other_seeds and trains:
        other = result.other_seeds
        moved = [f"{n}: {v}" for n, v in other["variations"].items()
                 if v != result.variations.get(n)]
        st.markdown(f"**Another set of seeds** (from {other['first_seed']}): "
                    + (f"*{other['verdict']}*, the same verdict under every set-up."
                       if not moved else
                       f"*{other['verdict']}*, with {'; '.join(moved)}: {settings.seeds} seeds "
                       "do not settle this claim."))
    st.dataframe([{"set-up": name, "verdict": verdict,
                   "difference (95% interval)": result.differences[name],
                   "what changes": DESCRIPTIONS[name]}
                  for name, verdict in result.variations.items()], hide_index=True)
    with st.expander("The figures under each set-up"):
        st.markdown("\n".join(f"- **{name}**: {text}."
                               for name, text in result.measured.items()))
    columns = st.columns(2 if len(result.charts) > 1 else 1)
    for i, chart in enumerate(result.charts):
        figure, left_out = charts.claim_chart(chart)
        with columns[i % len(columns)]:
            widgets.chart(figure, key=f"cl_chart_{i}")
            if left_out:
                st.caption(f"{left_out} figures are not numbers (a run diverged) and are left "
                           "out of this chart.")
    each = "seed" if trains else "round of timing"
    st.caption(f"Bars and lines: the mean over every {each}; error bars: the lowest to the "
               f"highest {each}; dots: each {each}."
               + (f" A run 'trains' when it ends at {100 * TRAINS:.0f}% validation accuracy or "
                  "more (twice chance, six classes)." if each == "seed" else ""))
    st.caption("Notice whether the verdict holds in every row of the table: a claim that holds "
               "under one set-up only is a claim about that set-up.")
st.info(f"**What a verdict here can mean.** {claim.limits} {LIMITS}")
widgets.compute_caption(started, "cl__runs")
page.save()
