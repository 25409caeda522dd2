"""The Gradients page's computations (lrn_app.compute.gradients) against torch's own LRN,
BatchNorm and autograd.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app.compute import gradients
from lrn_core import lrn
from tests.app.data import ACROSS, relu_features


@pytest.mark.parametrize("loss", list(gradients.LOSSES))
def test_lrn_gradient_is_autograd_through_torchs_own_lrn(loss):
    feats = relu_features((8, 12, 10))
    checked = gradients.lrn_gradient(feats, ACROSS, loss, 3, 4, 5)
    x = torch.from_numpy(feats).double().requires_grad_()
    y = F.local_response_norm(x[None], 5, alpha=2.0, beta=0.75, k=1.0)[0]
    L = {"sum": y.sum(), "squared norm": (y * y).sum(), "one value": y[3, 4, 5]}[loss]
    (expected,) = torch.autograd.grad(L, x)
    np.testing.assert_allclose(checked.grad, expected.numpy(), rtol=1e-5, atol=1e-7)
    assert checked.max_diff < 1e-12 * max(1.0, checked.scale) and checked.undefined == 0


def test_the_page_s_two_steps_are_lrn_gradient():
    """The page draws the closed form first and checks it at the end of its panel."""
    feats = relu_features((8, 12, 10))
    closed = gradients.closed_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5)
    assert closed.dtype == np.float64
    checked = gradients.check_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5, closed)
    whole = gradients.lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5)
    np.testing.assert_allclose(checked.grad, whole.grad, rtol=1e-6, atol=1e-9)
    assert max(checked.max_diff, whole.max_diff) < 1e-12 * max(1.0, whole.scale)
    wrong = gradients.check_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5, closed * 1.01)
    assert wrong.max_diff > 1e-4 * wrong.scale  # a gradient that is off is caught


def test_k_zero_cells_are_left_out_of_the_autograd_check():
    feats = relu_features((4, 6, 6)) + 0.1
    feats[:, 0, 0] = 0  # the only all-zero window across channels (n=5 spans all 4 channels)
    args = dict(ACROSS, k=0.0)
    checked = gradients.lrn_gradient(feats, args, "sum", 0, 0, 0)
    assert checked.undefined == 4 and np.isfinite(checked.grad).all()


@pytest.mark.parametrize("c, r, s", [(2, 4, 4), (0, 0, 8), (5, 8, 1)])  # inside, at corners
@pytest.mark.parametrize(
    "mode, convention, size",
    [
        ("across", "pytorch", 5),
        ("across", "onnx", 4),
        ("within", "caffe", 3),
        ("within", "alexnet", 2),
    ],
)
def test_jacobian_row_is_autograds_and_shows_lateral_inhibition(mode, convention, size, c, r, s):
    """Against autograd's full Jacobian of the whole maps (the page's row is computed on the
    part of the maps that can reach the output)."""
    feats = relu_features((6, 9, 9), seed=1) + 0.1  # positive everywhere: every sign is defined
    args = dict(size=size, alpha=2.0, beta=0.75, k=1.0, mode=mode, convention=convention)
    jac = gradients.jacobian(feats, args, c, r, s)
    x = torch.from_numpy(feats).double()
    full = torch.autograd.functional.jacobian(
        lambda t: lrn(t, **args)[c, r, s], x)  # autograd through the closed-form Function
    if mode == "across":
        idx = [int(label.split()[1]) for label in jac.labels]
        np.testing.assert_allclose(jac.values, full[idx, r, s].numpy(), rtol=1e-5, atol=1e-8)
        centre, others = jac.values[idx.index(c)], np.delete(jac.values, idx.index(c))
    else:
        r0, s0 = jac.origin
        h, w = jac.values.shape
        np.testing.assert_allclose(jac.values, full[c, r0:r0 + h, s0:s0 + w].numpy(),
                                   rtol=1e-5, atol=1e-8)
        centre = jac.values[r - r0, s - s0]
        others = np.delete(jac.values.ravel(), (r - r0) * w + (s - s0))
    assert centre == pytest.approx(jac.centre) and centre > 0
    assert (others <= 0).all() and (others < 0).sum() >= 1  # inhibition, and zero outside
    assert float(full.abs().sum()) == pytest.approx(float(np.abs(jac.values).sum()), rel=1e-6)


def test_batchnorm_gradient_reaches_batch_mates_and_lrns_does_not():
    feats = relu_features((3, 4, 8, 8), seed=2)
    bn = gradients.batchnorm_gradient(feats, "squared norm", 0, 0, 0)
    lrn_grad = gradients.lrn_batch_gradient(feats, ACROSS, "squared norm", 0, 0, 0)
    assert np.abs(bn.grad[1:]).max() > 1e-3  # the loss sees image 0 only
    assert np.abs(lrn_grad[1:]).max() == 0.0
    assert bn.max_diff < 1e-9 * bn.scale
    np.testing.assert_allclose(lrn_grad[0], gradients.lrn_gradient(
        feats[0], ACROSS, "squared norm", 0, 0, 0).grad, rtol=1e-4, atol=1e-6)
    unchecked = gradients.batchnorm_gradient(feats, "squared norm", 0, 0, 0, check=False)
    np.testing.assert_allclose(unchecked.grad, bn.grad, rtol=1e-3, atol=1e-4)
    assert np.isnan(unchecked.max_diff)
    # The same image with other batch-mates: BatchNorm's gradient for it moves, LRN's does not.
    other = feats.copy()
    other[1:] = relu_features((2, 4, 8, 8), seed=3)
    swapped = gradients.batchnorm_gradient(other, "squared norm", 0, 0, 0)
    assert np.abs(swapped.grad[0] - bn.grad[0]).max() > 1e-3
    np.testing.assert_array_equal(
        gradients.lrn_batch_gradient(other, ACROSS, "squared norm", 0, 0, 0)[0], lrn_grad[0]
    )


def test_couplings_are_what_the_page_shows_of_both_batches_gradients():
    feats = relu_features((3, 4, 8, 8), seed=2)
    swapped = feats.copy()
    swapped[1:] = relu_features((2, 4, 8, 8), seed=3)
    bn = gradients.batchnorm_coupling(feats, swapped, "squared norm", 2, 1, 1)
    full = gradients.batchnorm_gradient(feats, "squared norm", 2, 1, 1)
    other = gradients.batchnorm_gradient(swapped, "squared norm", 2, 1, 1)
    np.testing.assert_array_equal(bn.tiles, full.grad[:, 2])
    assert bn.on_mates == np.abs(full.grad[1:]).max() > 1e-3
    assert bn.swap_change == pytest.approx(np.abs(full.grad[0] - other.grad[0]).max()
                                           / np.abs(full.grad[0]).max(), rel=1e-3)
    assert bn.swap_change > 1e-3 and bn.max_diff == full.max_diff and bn.scale == full.scale
    lrn_side = gradients.lrn_coupling(feats, swapped, ACROSS, "squared norm", 2, 1, 1)
    np.testing.assert_array_equal(
        lrn_side.tiles, gradients.lrn_batch_gradient(feats, ACROSS, "squared norm", 2, 1, 1)[:, 2])
    assert lrn_side.on_mates == 0 and lrn_side.swap_change == 0  # LRN: one image at a time
    assert np.isnan(lrn_side.max_diff)


def test_pick_pixel():
    feats = np.zeros((2, 5, 7), dtype=np.float32)
    feats[1, 3, 6] = 1
    assert gradients.pick_pixel(feats, 1, -1, 2) == (3, 6)
    assert gradients.pick_pixel(feats, 1, 99, 99) == (4, 6)
