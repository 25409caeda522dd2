"""The landscape measures of the claims lab (lrn_lab.landscape): internal covariate shift and
smoothness against direct computations, and probes that leave the model as it was."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from lrn_lab.landscape import covariate_shift, loss_and_grads, probed_layer, smoothness
from lrn_lab.network import make_model
from lrn_lab.trainer import TrainConfig

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
    from lrn_lab.landscape import ETAS
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
    config = replace(TrainConfig(), width=4, train_size=96, val_size=48, test_size=48,
                     epochs=1, batch_size=32, probe_every=1)
    from lrn_lab.trainer import Trainer
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
        assert len([m for m in model if type(m).__name__ == "BatchNorm2d"]) == 3
        assert kinds == (["Conv2d", "BatchNorm2d", "ReLU"] if before
                         else ["Conv2d", "ReLU", "BatchNorm2d"])


