"""The training protocol (lrn_lab.train): the schedule, each variant at its own best rate,
a grid that grows past an end holding the best rate, divergence, the command line."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from lrn_lab.network import VARIANTS, make_model
from lrn_lab.train import choose_rate, job, rates_for, settled
from lrn_lab.trainer import RATES, Run, TrainConfig, data, recompute_batchnorm, schedule, train

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



# --- the protocol -----------------------------------------------------------------------------

def test_the_schedule_warms_up_over_the_first_epoch_then_decays_to_zero():
    factors = [schedule(step, 10, 4) for step in range(40)]
    assert factors[0] == pytest.approx(0.1) and factors[10] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(factors[:10], factors[1:11]))
    assert all(a >= b for a, b in zip(factors[10:], factors[11:])) and factors[-1] < 0.01


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_lowers_the_loss_and_reports_every_split(variant):
    # A trajectory, so checked against last-bit differences: the smallest fall, LRN's, is
    # 0.3% of the first epoch's loss, and scaling every initial weight by 1 + 1e-6 noise
    # moved these ratios by under 0.01%.
    run = train(variant, 0, replace(TINY, epochs=3))
    assert not run.diverged and len(run.epochs) == 3
    assert run.epochs[-1].train_loss < run.epochs[0].train_loss
    for by_split in run.final.values():
        assert set(by_split) == {"train", "val", "test"}
        assert all(0 <= acc <= 1 for _, acc in by_split.values())


def test_a_fixed_seed_reproduces_the_run_and_another_does_not():
    a, b, c = (train("batchnorm", s, TINY) for s in (1, 1, 2))
    assert [e.train_loss for e in a.epochs] == [e.train_loss for e in b.epochs]
    assert [e.train_loss for e in a.epochs] != [e.train_loss for e in c.epochs]


def test_a_diverging_run_stops_and_never_counts_as_an_accuracy():
    run = train("none", 0, replace(TINY, lr=1e4, epochs=3))
    assert run.diverged and len(run.epochs) == 1 and math.isnan(run.epochs[0].val_acc)
    assert math.isnan(run.accuracy()) and run.final == {}
    fine = train("none", 0, TINY)
    assert choose_rate({1e4: [run], 0.05: [fine]}) == 0.05
    assert choose_rate({1e4: [run]}) is None


def test_choose_rate_takes_the_best_mean_validation_accuracy():
    def ran(acc):
        r = Run("none", 0)
        r.final = {"recomputed": {"val": (0.0, acc)}}
        return r
    assert choose_rate({0.01: [ran(0.5), ran(0.7)], 0.1: [ran(0.65), ran(0.64)]}) == 0.1


def _fake_runs(config: TrainConfig, val_by_rate: dict) -> dict:
    """Runs of 'none', seed 0, with these validation accuracies (nan: diverged)."""
    runs = {}
    for rate, acc in val_by_rate.items():
        r = Run("none", 0, diverged=math.isnan(acc))
        r.final = {} if r.diverged else {"recomputed": {"val": (0.0, acc)}}
        runs[job("none", 0, replace(config, lr=rate))] = r
    return runs


def test_the_grid_grows_past_an_end_that_holds_the_best_rate():
    c = TINY
    assert rates_for("none", [0], c, {}) == list(RATES)  # nothing trained: the start
    inside = _fake_runs(c, {0.01: 0.3, 0.03: 0.5, 0.1: 0.4, 0.3: 0.2})
    assert rates_for("none", [0], c, inside) == list(RATES)
    top = _fake_runs(c, {0.01: 0.3, 0.03: 0.4, 0.1: 0.5, 0.3: 0.6})
    assert rates_for("none", [0], c, top) == [*RATES, 1.0]  # one step up, untrained yet
    assert not settled(["none"], [0], c, top)
    top.update(_fake_runs(c, {1.0: math.nan}))  # diverged there: 0.3 is the best, inside
    assert rates_for("none", [0], c, top) == [*RATES, 1.0] and settled(["none"], [0], c, top)
    bottom = _fake_runs(c, {0.003: 0.7, 0.01: 0.6, 0.03: 0.5, 0.1: 0.4, 0.3: 0.2})
    assert rates_for("none", [0], c, bottom) == [0.001, 0.003, *RATES]


def test_batchnorm_statistics_are_recomputed_over_the_training_images():
    model = make_model("batchnorm", TINY)
    x = data(TINY)["train"][0]
    seen = []
    hook = model[2].register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    assert recompute_batchnorm(model, x, 32)
    hook.remove()
    inputs = torch.cat(seen)  # 4 equal batches: the mean of their means is the mean
    torch.testing.assert_close(model[2].running_mean, inputs.mean((0, 2, 3)), rtol=1e-5,
                               atol=1e-6)
    assert model[2].momentum == 0.1  # restored
    assert not recompute_batchnorm(make_model("none", TINY), x, 32)
