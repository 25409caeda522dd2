"""The Training lab's computations (lrn_app.compute.training) on the shipped results: what
the page's table and curves show is each outcome's own runs, and the epochs still to train
count what a stopped trainer has done."""

import math
import statistics
from types import SimpleNamespace

from lrn_app.compute import training
from lrn_app.serving.training_pool import run_key
from lrn_app.state import Training
from lrn_lab.network import VARIANTS


def shipped_outcomes():
    s = Training()
    return training.shipped(s.variants, s.seeds, s.config())


def test_the_table_and_the_curves_are_each_outcomes_own_runs():
    done = shipped_outcomes()
    assert done, "the lab's defaults open with the shipped results"
    rows = training.table(done)
    assert [r["variant"] for r in rows] == [VARIANTS[o.variant] for o in done]
    for row, o in zip(rows, done):
        assert row["test accuracy"] == f"{100 * statistics.fmean(o.accuracies()):.1f}%"
        assert row["seeds"].count(",") == len(o.runs) - 1
        assert row["chosen rate"] == ("diverged at every rate" if o.rate is None else f"{o.rate:g}")
        diverged = sum(math.isnan(v) for v in o.rates.values())
        assert row["validation accuracy by rate"].count("diverged") == diverged
    for metric in ("acc", "loss"):
        series = training.curves(done, metric)
        for o in done:
            val, train = series[VARIANTS[o.variant]]
            assert val == [[getattr(e, f"val_{metric}") for e in r.epochs] for r in o.runs]
            assert [len(seed) for seed in train] == [len(r.epochs) for r in o.runs]


def test_epochs_to_train_counts_what_a_stopped_trainer_has_done():
    config = Training().config()
    jobs = [("none", 0, config), ("batchnorm", 0, config)]
    assert training.epochs_to_train(jobs, {}) == 2 * config.epochs
    halfway = SimpleNamespace(run=SimpleNamespace(epochs=[None, None]))
    assert training.epochs_to_train(jobs, {run_key(jobs[0]): halfway}) == 2 * config.epochs - 2


def test_the_shape_examples_are_sorted_by_shape():
    tiles, names = training.shape_examples(12, 16)
    assert tiles.shape == (12, 16, 16) and tiles.dtype.name == "uint8"
    runs = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
    assert len(runs) == len(set(names)) > 1  # each shape's examples side by side
