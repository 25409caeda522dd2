"""The claims lab (lrn_core.claims, lrn_core.landscape): the verdict rule on constructed
figures, each experiment on a tiny configuration, and the covariate-shift measure against a
direct computation. Accuracies and timings depend on the CPU, so no test asserts a verdict of
a real experiment: only shapes, reproducibility and the rule itself."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from lrn_core import claims
from lrn_core.claims import CLAIMS, VERDICTS, Chart, Settings, compare, verdict
from lrn_core.landscape import covariate_shift, loss_and_grads, probed_layer, smoothness
from lrn_core.train import TrainConfig, beyond_spread, make_model

TINY = Settings(seeds=2, epochs=1, train_size=96, val_size=48)


# --- the verdict rule --------------------------------------------------------------------------

def test_verdict_words():
    assert verdict([True, True]) == "supported"
    assert verdict([False]) == "not supported"
    assert verdict([True, False]) == "mixed"
    assert verdict([True, None]) == "inconclusive"
    assert verdict([]) == "inconclusive"
    assert set(VERDICTS) == {"supported", "not supported", "mixed", "inconclusive"}


def test_a_difference_counts_only_beyond_the_seed_spread():
    # means 0.70 and 0.60, half ranges 0.02 and 0.03: the gap 0.10 exceeds 0.05
    assert compare([0.68, 0.72], [0.57, 0.63]) == 1
    assert compare([0.57, 0.63], [0.68, 0.72]) == -1
    # the same means with half ranges 0.06 and 0.05: 0.10 does not exceed 0.11
    assert compare([0.64, 0.76], [0.55, 0.65]) == 0
    assert compare([0.7], [0.6, 0.61]) is None  # one seed: the spread is unknown
    assert compare([0.7, math.nan, 0.72], [0.5, 0.52]) == 1  # a diverged figure is left out
    assert compare([math.nan, 0.7], [0.5, 0.52]) is None
    assert beyond_spread([1.0, 1.0], [1.0, 1.0]) == 0


def _runs_with(accuracies: dict[tuple[str, TrainConfig], list[float]]):
    """Runs whose final validation accuracies are the given figures, seed by seed."""
    from lrn_core.train import Epoch, Run
    runs = {}
    for (variant, config), values in accuracies.items():
        for seed, acc in enumerate(values):
            run = Run(variant, seed, [Epoch(1, 1.0, acc, 1.0, acc, 0.0)])
            run.train_eval = (0.5, min(1.0, acc + 0.1))
            runs[(variant, seed, config)] = run
    return runs


@pytest.mark.parametrize("lrn, none, expected", [
    ([0.80, 0.82], [0.60, 0.62], "supported"),  # LRN better beyond the spread
    ([0.60, 0.70], [0.62, 0.68], "not supported"),  # within the spread: 'little or no effect'
    ([0.40, 0.42], [0.60, 0.62], "not supported"),  # LRN worse
    ([0.10, 0.12], [0.11, 0.12], "inconclusive"),  # nothing trained: nothing to compare
])
def test_lrn_effect_verdict_on_constructed_runs(lrn, none, expected):
    s = replace(TINY, seeds=2)
    runs = _runs_with({("lrn_across", s.config()): lrn, ("none", s.config()): none})
    result = CLAIMS["lrn-effect"].judge(s, runs)
    assert result.verdict == expected
    assert f"{100 * sum(lrn) / 2:.1f}%" in result.figures


def test_order_verdict_mixed_on_constructed_runs():
    s = TINY
    runs = _runs_with({("lrn_across", s.config(norm_before_relu=True)): [0.8, 0.81],
                       ("lrn_across", s.config(norm_before_relu=False)): [0.6, 0.61],
                       ("batchnorm", s.config(norm_before_relu=True)): [0.7, 0.75],
                       ("batchnorm", s.config(norm_before_relu=False)): [0.72, 0.74]})
    result = CLAIMS["order"].judge(s, runs)
    assert result.verdict == "mixed"
    assert "better than after" in result.reason and "no difference" in result.reason


def test_learning_rate_rule_uses_each_seeds_highest_rate_that_trains():
    s = TINY
    acc = {}
    for i, lr in enumerate(claims.RATES):  # none trains up to index 2, BatchNorm up to 4
        acc[("none", s.config(lr=lr))] = [0.6, 0.62] if i <= 2 else [0.17, 0.16]
        acc[("batchnorm", s.config(lr=lr))] = [0.7, 0.71] if i <= 4 else [0.17, 0.16]
    assert CLAIMS["learning-rate"].judge(s, _runs_with(acc)).verdict == "supported"
    for i, lr in enumerate(claims.RATES):  # now the same highest rate
        acc[("batchnorm", s.config(lr=lr))] = [0.7, 0.71] if i <= 2 else [0.17, 0.16]
    result = CLAIMS["learning-rate"].judge(s, _runs_with(acc))
    assert result.verdict == "not supported" and "same rates" in result.reason


# --- the covariate-shift and smoothness measures -------------------------------------------------

def test_covariate_shift_matches_a_direct_computation_on_two_linear_layers():
    """L = 1/2 ||W2 W1 x - t||^2 summed over the batch: dL/dW2 = (W2 W1 x - t)(W1 x)^T,
    dL/dW1 = W2^T (W2 W1 x - t) x^T. One SGD step moves W1 to W1 - lr dL/dW1; the shift of
    layer 2 is the change of dL/dW2 when only W1 has moved."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 2, bias=False)).double()
    x, t = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    W1, W2, lr = model[0].weight.detach(), model[1].weight.detach(), 0.1

    def loss_fn(out, target):
        return 0.5 * ((out - target) ** 2).sum()

    def grads(W1, W2):
        h = x @ W1.T
        r = h @ W2.T - t
        return (r @ W2).T @ x, r.T @ h  # dL/dW1, dL/dW2

    G1, G2 = grads(W1, W2)
    _, G2_shifted = grads(W1 - lr * G1, W2)
    expected_l2 = float((G2 - G2_shifted).norm())
    expected_cos = float((G2 * G2_shifted).sum() / (G2.norm() * G2_shifted.norm()))

    before = {"0.weight": W1.clone(), "1.weight": W2.clone()}
    after = {"0.weight": W1 - lr * G1, "1.weight": W2 - lr * G2}
    _, g = loss_and_grads(model, before, x, t, loss_fn)
    torch.testing.assert_close(g["1.weight"], G2)  # autograd agrees with the formula
    l2, cos = covariate_shift(model, before, after, g, "1.weight", x, t, loss_fn)
    assert l2 == pytest.approx(expected_l2, rel=1e-10) and expected_l2 > 0
    assert cos == pytest.approx(expected_cos, rel=1e-10)
    # layer 1 has no layers before it: it never shifts
    assert covariate_shift(model, before, after, g, "0.weight", x, t, loss_fn)[0] == 0


class Weight(nn.Module):
    """A layer whose output is its own weight, whatever the input: L(w) = loss_fn(w)."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(w.clone())

    def forward(self, _):
        return self.weight


def test_smoothness_of_a_quadratic_is_its_curvature():
    """For L = c/2 ||w||^2 the gradient is c w: along -g it changes by c eta ||g||, so the
    effective beta is exactly c, and the largest change is at the largest step."""
    from lrn_core.landscape import ETAS
    c, lr = 3.0, 0.01
    w = torch.tensor([[1.0, -2.0, 0.5, 1.5]], dtype=torch.float64)
    model = nn.Sequential(Weight(w))
    params = {"0.weight": w}
    x = t = torch.zeros(1, dtype=torch.float64)

    def loss_fn(out, _):
        return 0.5 * c * (out ** 2).sum()
    _, g = loss_and_grads(model, params, x, t, loss_fn)
    torch.testing.assert_close(g["0.weight"], c * w)
    loss_range, change, beta = smoothness(model, params, g, lr, x, t, loss_fn)
    assert beta == pytest.approx(c, rel=1e-9)
    assert change == pytest.approx(c * max(ETAS) * lr * float(g["0.weight"].norm()), rel=1e-9)
    assert loss_range > 0


def test_probes_leave_the_model_and_its_batchnorm_statistics_untouched():
    config = replace(TrainConfig(), width=4, train_size=96, val_size=48, epochs=1,
                     batch_size=32, probe_every=1)
    from lrn_core.train import Trainer
    probed, plain = Trainer("batchnorm", 0, config), Trainer("batchnorm", 0,
                                                             replace(config, probe_every=0))
    probed.step()
    plain.step()
    assert len(probed.run.probes) == 3 and len(plain.run.probes) == 0  # 96 / 32 steps
    for (name, a), b in zip(probed.model.state_dict().items(), plain.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)  # measuring changed nothing
    assert probed_layer(probed.model) == "4.weight"
    p = probed.run.probes[-1]
    assert p.shift_l2 >= 0 and -1 <= p.shift_cos <= 1 and p.beta > 0


def test_the_norm_goes_before_or_after_the_relu():
    for before in (False, True):
        model = make_model("batchnorm", replace(TrainConfig(), norm_before_relu=before))
        kinds = [type(m).__name__ for m in model][:3]
        assert kinds == (["Conv2d", "BatchNorm2d", "ReLU"] if before
                         else ["Conv2d", "ReLU", "BatchNorm2d"])


# --- every experiment, tiny ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_runs():
    """Every claim's runs at TINY, trained once for the module."""
    done = {}
    for claim in CLAIMS.values():
        claims.train_jobs(claim.jobs(TINY), done)
    return done


@pytest.mark.parametrize("name", [n for n in CLAIMS if n != "cost"])
def test_each_experiment_runs_tiny_with_charts_of_the_expected_shape(name, tiny_runs):
    claim = CLAIMS[name]
    result = claim.judge(TINY, tiny_runs)
    assert result.claim == name and result.verdict in VERDICTS
    assert result.reason and result.figures and result.charts
    for chart in result.charts:
        assert isinstance(chart, Chart) and chart.series
        for series in chart.series:
            assert len(series.x) == len(series.values)
            assert all(len(v) == TINY.seeds for v in series.values)  # one figure per seed
    # every run of the claim is one of its jobs, each with the claim's settings
    for variant, seed, config in claim.jobs(TINY):
        assert seed < TINY.seeds and config.epochs == TINY.epochs
        assert config.train_size == TINY.train_size


def test_seeds_reproduce(tiny_runs):
    job = CLAIMS["covariate-shift"].jobs(TINY)[0]
    again = claims.train_jobs([job], {})[job]
    first = tiny_runs[job]
    assert again.epochs[-1].val_acc == first.epochs[-1].val_acc
    assert [p.shift_l2 for p in again.probes] == [p.shift_l2 for p in first.probes]


def test_cost_experiment_times_every_layer():
    costs = claims.layer_costs(shape=(2, 8, 8, 8))
    assert len(costs) == 5 and all(len(v) == claims.ROUNDS for v in costs.values())
    assert all(t > 0 for v in costs.values() for t in v)


def test_command_line_runs_one_claim_and_prints_one_row(capsys):
    claims.main(["lrn-effect", "--seeds", "2", "--epochs", "1", "--train-size", "96",
                 "--val-size", "48"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("3  ")]
    assert len(rows) == 1 and any(word in rows[0] for word in VERDICTS)
    assert "Krizhevsky" in rows[0] and "±" in rows[0]
    assert "Limits:" in out and "ImageNet" in out
    with pytest.raises(SystemExit):
        claims.main(["no-such-claim"])
