"""BatchNorm against torch.nn.functional.batch_norm and autograd, train and eval."""

import pytest
import torch
import torch.nn.functional as F

from lrn_core import batch_norm, batch_norm_backward


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 10), (4, 5, 6, 7)])
@pytest.mark.parametrize("affine", [False, True])
def test_training_forward_and_running_statistics_match_torch(shape, affine, device):
    torch.manual_seed(0)
    C = shape[1]
    weight = torch.rand(C, dtype=torch.float64, device=device) + 0.5 if affine else None
    bias = torch.randn(C, dtype=torch.float64, device=device) if affine else None
    ours_mean, ours_var = (
        torch.zeros(C, dtype=torch.float64, device=device),
        torch.ones(C, dtype=torch.float64, device=device),
    )
    ref_mean, ref_var = ours_mean.clone(), ours_var.clone()
    for step in range(4):  # several warm-up batches move the running statistics
        x = torch.randn(shape, dtype=torch.float64, device=device) * (step + 1) + step
        y = batch_norm(x, ours_mean, ours_var, weight, bias, training=True, momentum=0.3, eps=1e-3)
        ref = F.batch_norm(
            x, ref_mean, ref_var, weight, bias, training=True, momentum=0.3, eps=1e-3
        )
        torch.testing.assert_close(y, ref)
        torch.testing.assert_close(ours_mean, ref_mean)
        torch.testing.assert_close(ours_var, ref_var)  # unbiased variance, as torch stores it
    x = torch.randn(shape, dtype=torch.float64, device=device)
    torch.testing.assert_close(
        batch_norm(x, ours_mean, ours_var, weight, bias, training=False, eps=1e-3),
        F.batch_norm(x, ref_mean, ref_var, weight, bias, training=False, eps=1e-3),
    )


def test_eval_mode_leaves_running_statistics_alone():
    x = torch.randn(4, 3, 5, 5)
    mean, var = torch.randn(3), torch.rand(3) + 0.1
    before = (mean.clone(), var.clone())
    batch_norm(x, mean, var, training=False)
    assert torch.equal(mean, before[0]) and torch.equal(var, before[1])


def test_training_without_running_statistics():
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(batch_norm(x, None, None, training=True),
                               F.batch_norm(x, None, None, training=True))


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 6)])
def test_closed_form_backward_matches_autograd(shape, affine, device):
    torch.manual_seed(1)
    C = shape[1]
    x = torch.randn(shape, dtype=torch.float64, device=device, requires_grad=True)
    weight = (torch.rand(C, dtype=torch.float64, device=device) + 0.5).requires_grad_()
    bias = torch.randn(C, dtype=torch.float64, device=device, requires_grad=True)
    g = torch.randn(shape, dtype=torch.float64, device=device)
    w_used = weight if affine else None
    ref = F.batch_norm(x, None, None, w_used, bias, training=True, eps=1e-4)
    expected = torch.autograd.grad(ref, (x, weight, bias) if affine else (x, bias), g)
    gx, gw, gb = batch_norm_backward(x.detach(), g, w_used.detach() if affine else None, eps=1e-4)
    torch.testing.assert_close(gx, expected[0])
    torch.testing.assert_close(gb, expected[-1])
    if affine:
        torch.testing.assert_close(gw, expected[1])
    else:  # the gradient for an implicit scale of 1: sum of g * x_hat
        x_hat = F.batch_norm(x.detach(), None, None, training=True, eps=1e-4)
        torch.testing.assert_close(gw, (g * x_hat).sum([d for d in range(len(shape)) if d != 1]))


def test_gradient_for_one_image_depends_on_its_batch_mates():
    # The point the app makes: BatchNorm couples the images of a batch.
    torch.manual_seed(2)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    g = torch.zeros_like(x)
    g[0] = 1.0  # a loss on image 0 only
    gx = batch_norm_backward(x, g)[0]
    assert gx[1:].abs().max() > 1e-3


def test_bad_arguments():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(torch.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        batch_norm(torch.randn(2, 3), None, None, training=False)
    with pytest.raises(TypeError, match="floating-point"):
        batch_norm(torch.ones(2, 3, dtype=torch.int32), None, None, training=True)
    with pytest.raises(ValueError, match="momentum"):
        batch_norm(torch.randn(2, 3), None, None, training=True, momentum=2.0)
