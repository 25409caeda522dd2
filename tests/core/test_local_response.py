"""LRN forward and backward against PyTorch, docs/conventions.md, autograd and gradcheck."""

import pytest
import torch
import torch.nn.functional as F

from lrn_core import (
    CONVENTIONS,
    LocalResponseNorm,
    LRNFunction,
    conventions_for,
    lrn,
    lrn_backward,
    lrn_parts,
    lrn_reference,
    resolve,
)
from tests.core.reference import WITHIN_CONVENTIONS, reference_lrn

# Sizes each convention accepts, odd and even where allowed.
SIZES = {
    "pytorch": [1, 2, 3, 4, 5, 6, 9],
    "tensorflow": [0, 1, 2, 4],  # depth_radius
    "caffe": [1, 3, 5, 9],
    "onnx": [1, 2, 3, 4, 5, 6, 9],
    "cudnn": [1, 2, 3, 4, 5, 9, 16],
    "onednn": [1, 2, 3, 4, 5, 9],
    "opencv": [1, 3, 5, 9],
    "alexnet": [1, 2, 3, 4, 5, 8],
}
CASES = [(c, "across", n) for c in CONVENTIONS for n in SIZES[c]] + [
    (c, "within", n) for c in WITHIN_CONVENTIONS for n in SIZES[c] if n <= 9
]


def case_id(case):
    return "-".join(map(str, case))


# --- PyTorch's own LRN --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [3, 12])  # below and above most sizes
@pytest.mark.parametrize("size", range(1, 10))
def test_pytorch_convention_matches_torch(size, channels, dtype, device):
    torch.manual_seed(size * 100 + channels)
    x = torch.randn(2, channels, 7, 5, dtype=dtype, device=device) * 3
    for alpha, beta, k in [(1e-4, 0.75, 1.0), (0.7, 0.75, 2.0), (2.0, 1.3, 0.5)]:
        ours = lrn(x, size, alpha, beta, k)
        theirs = F.local_response_norm(x, size, alpha, beta, k)
        tol = 1e-12 if dtype == torch.float64 else 2e-6
        torch.testing.assert_close(ours, theirs, rtol=tol, atol=tol)
        assert ours.dtype == dtype and ours.device == x.device


def test_three_dimensional_input_is_one_image():
    x = torch.rand(6, 4, 4, dtype=torch.float64)
    y = lrn(x, 3, 1.0, 0.75, 1.0)
    assert y.shape == x.shape
    torch.testing.assert_close(y, lrn(x.unsqueeze(0), 3, 1.0, 0.75, 1.0)[0])


# --- every convention against docs/conventions.md's definitions -----------------------------------

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_matches_note_definition(case, device):
    convention, mode, size = case
    torch.manual_seed(1)
    x = torch.randn(2, 11, 10, 9, dtype=torch.float64, device=device)
    k = 1.5
    ours = lrn(x, size, 0.8, 0.75, k, mode=mode, convention=convention)
    ref = reference_lrn(x, size, 0.8, 0.75, k, mode, convention)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


def test_within_matches_note_avg_pool_formula():
    # docs/conventions.md's torch formula for the odd-size within-channel mode.
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    for n, alpha, beta, k in [(3, 0.9, 0.75, 2.0), (5, 2.0, 0.5, 1.0)]:
        S_avg = F.avg_pool2d(x * x, n, stride=1, padding=(n - 1) // 2, count_include_pad=True)
        expected = x * (k + alpha * S_avg) ** -beta
        for convention in ("onednn", "opencv", "cudnn"):
            y = lrn(x, n, alpha, beta, k, mode="within", convention=convention)
            torch.testing.assert_close(y, expected)
        caffe = lrn(x, n, alpha, beta, 7.0, mode="within", convention="caffe")  # k ignored
        torch.testing.assert_close(caffe, x * (1.0 + alpha * S_avg) ** -beta)


# --- the worked examples of docs/conventions.md -----------------------------------------------

def test_tensorflow_worked_example():
    # tf.nn.lrn(x, depth_radius=2, bias=1, alpha=1, beta=0.75), x = arange(1, 33) in NHWC.
    nhwc = torch.arange(1, 33, dtype=torch.float64).reshape(2, 2, 2, 4)
    y = lrn(nhwc.permute(0, 3, 1, 2), 2, alpha=1, beta=0.75, k=1, convention="tensorflow")
    first_row = y.permute(0, 2, 3, 1)[0, 0, 0]
    expected = torch.tensor([0.13119929, 0.15223296, 0.22834945, 0.3120463], dtype=torch.float64)
    torch.testing.assert_close(first_row, expected, rtol=1e-7, atol=1e-8)


def test_alexnet_worked_example_gives_one_half():
    # (k, alpha, beta, n) = (0, 1, 1, 2), paper convention: 1 / (1^2 + 1^2) = 0.5.
    x = torch.ones(1, 2, 1, 1)
    y = lrn(x, 2, alpha=1, beta=1, k=0, convention="alexnet")
    torch.testing.assert_close(y, torch.full_like(x, 0.5))


def test_alexnet_paper_values_in_pytorch_and_tensorflow():
    x = torch.rand(2, 16, 6, 6, dtype=torch.float64) * 10
    paper = lrn(x, 5, alpha=1e-4, beta=0.75, k=2, convention="alexnet")
    torch.testing.assert_close(paper, F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2))
    torch.testing.assert_close(paper, lrn(x, 2, 1e-4, 0.75, 2, convention="tensorflow"))


# --- closed-form backward ----------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_backward_matches_autograd(case, device):
    convention, mode, size = case
    torch.manual_seed(2)
    # 6 channels and 5 x 4 pixels: most windows reach a border, and some sizes exceed them.
    x = torch.randn(2, 6, 5, 4, dtype=torch.float64, device=device, requires_grad=True)
    g = torch.randn_like(x)
    args = (size, 1.7, 0.75, 1.2)
    ref = reference_lrn(x, *args, mode, convention)
    (expected,) = torch.autograd.grad(ref, x, g)
    ours = lrn_backward(x.detach(), g, *args, mode=mode, convention=convention)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_core_reference_and_its_autograd_match_the_tests_transcription(case):
    # lrn_reference is what the app's Gradients page compares the closed form with.
    convention, mode, size = case
    torch.manual_seed(4)
    x = torch.randn(2, 6, 5, 4, dtype=torch.float64, requires_grad=True)
    g = torch.randn_like(x)
    args = (size, 1.7, 0.75, 1.2)
    ours = lrn_reference(x, *args, mode=mode, convention=convention)
    ref = reference_lrn(x, *args, mode, convention)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(
        torch.autograd.grad(ours, x, g)[0],
        torch.autograd.grad(ref, x, g)[0],
        rtol=1e-10,
        atol=1e-12,
    )
    assert lrn_reference(x[0], *args, mode=mode, convention=convention).shape == x[0].shape


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_closed_form_backward_passes_gradcheck(case, device):
    convention, mode, size = case
    torch.manual_seed(3)
    x = torch.randn(1, 5, 4, 3, dtype=torch.float64, device=device, requires_grad=True)
    window = resolve(size, 2.0, 0.75, 1.0, mode=mode, convention=convention)
    assert torch.autograd.gradcheck(lambda t: LRNFunction.apply(t, window), (x,))


def test_wide_windows_use_prefix_sums_and_stay_exact(device):
    # Windows past the shifted-add limit go through float64 prefix sums.
    x = torch.rand(1, 40, 30, 30, device=device) * 5
    for mode, size in [("across", 21), ("within", 15), ("within", 31)]:
        conv = "onednn"
        y32 = lrn(x, size, 1.0, 0.75, 1.0, mode=mode, convention=conv)
        y64 = lrn(x.double(), size, 1.0, 0.75, 1.0, mode=mode, convention=conv)
        assert ((y32.double() - y64).abs() / y64.abs().clamp_min(1e-30)).max() < 1e-5
        ref = reference_lrn(x.double(), size, 1.0, 0.75, 1.0, mode, conv)
        torch.testing.assert_close(y64, ref)


def test_module_uses_closed_form_backward():
    layer = LocalResponseNorm(4, 1.0, 0.75, 1.0, convention="onnx")
    x = torch.randn(2, 7, 3, 3, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    assert type(y.grad_fn).__name__.startswith("LRNFunction")
    g = torch.randn_like(y)
    y.backward(g)
    torch.testing.assert_close(x.grad, lrn_backward(x.detach(), g, 4, 1.0, 0.75, 1.0,
                                                    convention="onnx"))
    assert list(layer.parameters()) == []
    assert "onnx" in repr(layer)


def test_functional_lrn_is_differentiable_through_the_closed_form():
    x = torch.randn(5, 3, 4, dtype=torch.float64, requires_grad=True)  # (C, H, W)
    assert type(lrn(x[None], 3).grad_fn).__name__.startswith("LRNFunction")
    y = lrn(x, 3, 2.0, 0.75, 1.0, mode="within", convention="caffe")
    g = torch.randn_like(y)
    (grad,) = torch.autograd.grad(y, x, g)
    torch.testing.assert_close(grad, lrn_backward(x.detach(), g, 3, 2.0, 0.75, 1.0, mode="within",
                                                  convention="caffe"))
    assert torch.autograd.gradcheck(lambda t: lrn(t, 4, 2.0, 0.75, 1.0, convention="pytorch"), (x,))
    with torch.no_grad():
        assert lrn(x, 3).grad_fn is None


# --- parts for the app --------------------------------------------------------------------------

def test_parts_are_consistent():
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    p = lrn_parts(x, 5, 2.0, 0.75, 1.0)
    torch.testing.assert_close(p.output, lrn(x, 5, 2.0, 0.75, 1.0))
    torch.testing.assert_close(p.S, F.avg_pool3d(F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, 2, 2)),
                                                 (5, 1, 1), stride=1).squeeze(1) * 5)
    torch.testing.assert_close(p.denominator, (1.0 + 2.0 / 5 * p.S) ** 0.75)
    torch.testing.assert_close(p.output * p.denominator, x)
    torch.testing.assert_close(p.gain, p.output / x)


# --- edge values -------------------------------------------------------------------------------

def test_k_zero_zero_window_gives_zero_not_nan(device):
    # Standard normalization (k, alpha, beta, n) = (0, 1, 1, N) with an all-zero pixel.
    x = torch.rand(2, 4, 3, 3, dtype=torch.float64, device=device) + 0.1
    x[0, :, 1, 1] = 0
    x[1, 1:3, 0, 0] = 0  # zeros inside a non-zero window stay well defined
    n = 2 * 4  # paper convention, radius n/2 = 4: every window holds all channels
    y = lrn(x, n, 1.0, 1.0, 0.0, convention="alexnet")
    parts = lrn_parts(x, n, 1.0, 1.0, 0.0, convention="alexnet")
    assert torch.isfinite(y).all() and torch.isfinite(parts.gain).all()
    assert (y[0, :, 1, 1] == 0).all()
    assert int((parts.denominator == 0).sum()) == 4  # the app counts these cells
    torch.testing.assert_close(y[1, :, 2, 2], x[1, :, 2, 2] / (x[1, :, 2, 2] ** 2).sum())
    g = torch.randn_like(x)
    gx = lrn_backward(x, g, n, 1.0, 1.0, 0.0, convention="alexnet")
    assert torch.isfinite(gx).all()
    assert (gx[0, :, 1, 1] == 0).all()


def test_k_zero_gradient_matches_autograd_away_from_zero_windows():
    x = torch.rand(1, 5, 3, 3, dtype=torch.float64) + 0.2
    x[0, :, 0, 0] = 0
    g = torch.randn_like(x)
    gx = lrn_backward(x, g, 3, 1.0, 0.75, 0.0, mode="within", convention="opencv")
    xr = x.clone().requires_grad_()
    (ref,) = torch.autograd.grad(reference_lrn(xr, 3, 1.0, 0.75, 0.0, "within", "opencv"), xr, g)
    # the (0, 0) pixel's own window holds non-zero neighbours, so the whole gradient is defined
    torch.testing.assert_close(gx, ref)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_size_larger_than_channels_and_single_channel(convention):
    n = 9 if convention != "tensorflow" else 4
    for channels in (1, 3):
        x = torch.randn(2, channels, 4, 4, dtype=torch.float64)
        y = lrn(x, n, 1.0, 0.75, 1.0, convention=convention)
        # every window holds all channels
        expected = x * (1.0 + resolve(n, 1.0, 0.75, 1.0, convention=convention).a
                        * (x * x).sum(1, keepdim=True)) ** -0.75
        torch.testing.assert_close(y, expected)


def test_one_by_one_images_within_channel():
    x = torch.randn(3, 4, 1, 1, dtype=torch.float64)
    y = lrn(x, 5, 1.0, 0.75, 1.0, mode="within", convention="onednn")
    torch.testing.assert_close(y, x * (1.0 + 1.0 / 25 * x * x) ** -0.75)


def test_beta_zero_is_identity_and_alpha_zero_divides_by_k_power():
    x = torch.randn(2, 6, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(lrn(x, 5, 1.0, 0.0, 1.0), x)
    torch.testing.assert_close(lrn(x, 5, 0.0, 0.75, 2.0), x / 2.0**0.75)
    torch.testing.assert_close(lrn_backward(x, torch.ones_like(x), 5, 0.0, 0.75, 2.0),
                               torch.full_like(x, 2.0**-0.75))


def test_half_precision_round_trip():
    x = torch.rand(1, 6, 4, 4).to(torch.bfloat16)
    y = lrn(x, 3, 1.0, 0.75, 1.0)
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y.float(), lrn(x.float(), 3, 1.0, 0.75, 1.0), rtol=1e-2, atol=1e-2)


def test_float32_agrees_with_float64():
    torch.manual_seed(4)
    x = torch.relu(torch.randn(2, 32, 20, 20)) * 4
    for mode, conv, n in [
        ("across", "pytorch", 5),
        ("within", "onednn", 3),
        ("within", "onednn", 9),
    ]:
        y32 = lrn(x, n, 1e-1, 0.75, 1.0, mode=mode, convention=conv).double()
        y64 = lrn(x.double(), n, 1e-1, 0.75, 1.0, mode=mode, convention=conv)
        assert ((y32 - y64).abs() / y64.abs().clamp_min(1e-12)).max() < 1e-5


# --- clear errors ------------------------------------------------------------------------------

def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="floating-point"):
        lrn(torch.ones(1, 3, 4, 4, dtype=torch.int64), 3)
    with pytest.raises(TypeError, match="torch.Tensor"):
        lrn([[1.0]], 3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        lrn(torch.ones(3, 4), 3)
    with pytest.raises(ValueError, match="grad_output has shape"):
        lrn_backward(torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 5), 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="within", convention="pytorch"), "pytorch has no within-channel LRN.*caffe"),
    (dict(mode="within", convention="onnx"), "onnx has no within-channel"),
    (dict(convention="caffe", size=4), "caffe accepts odd sizes only.*pytorch"),
    (dict(convention="opencv", size=2, mode="within"), "odd sizes only.*onednn"),
    (dict(convention="cudnn", size=17), r"cudnn allows lrnN <= 16"),
    (dict(convention="cudnn", k=0.0), r"cudnn requires k >= 1e-05"),
    (dict(convention="cudnn", beta=0.001), r"cudnn requires beta >= 0.01"),
    (dict(convention="tensorflow", size=-1), "depth_radius >= 0"),
    (dict(convention="pytorch", size=0), "size >= 1"),
    (dict(alpha=-1.0), "alpha must be >= 0"),
    (dict(k=-1.0), "k must be >= 0"),
    (dict(k=0.0, alpha=0.0), "denominator zero everywhere"),
    (dict(convention="mxnet"), "unknown convention 'mxnet'"),
    (dict(mode="spatial"), "mode must be one of"),
    (dict(alpha=float("nan")), "alpha must be finite"),
])
def test_unsupported_settings_name_the_reason(kwargs, message):
    args = dict(size=3, alpha=1.0, beta=0.75, k=1.0)
    args.update(kwargs)
    size = args.pop("size")
    with pytest.raises(ValueError, match=message):
        lrn(torch.ones(1, 4, 3, 3), size, **args)


def test_conventions_for_modes():
    assert set(conventions_for("within")) == set(WITHIN_CONVENTIONS)
    assert set(conventions_for("across")) == set(CONVENTIONS)


@pytest.mark.parametrize("block", [7, 40, 1 << 18])  # pixel runs, whole images, one block
@pytest.mark.parametrize(
    "mode, convention, size",
    [
        ("across", "pytorch", 4),
        ("across", "onnx", 9),
        ("within", "onednn", 3),
        ("within", "cudnn", 10),
    ],
)
def test_cpu_blocks_give_the_same_result(block, mode, convention, size, monkeypatch):
    import lrn_core.local_response as impl
    monkeypatch.setattr(impl, "_CPU_BLOCK_ELEMENTS", block)
    torch.manual_seed(5)
    x = torch.randn(3, 6, 5, 4, dtype=torch.float64, requires_grad=True)
    g = torch.randn_like(x)
    args = (size, 1.3, 0.6, 0.8)
    ref = reference_lrn(x, *args, mode, convention)
    (ref_grad,) = torch.autograd.grad(ref, x, g)
    torch.testing.assert_close(
        lrn(x.detach(), *args, mode=mode, convention=convention), ref.detach()
    )
    torch.testing.assert_close(lrn_backward(x.detach(), g, *args, mode=mode, convention=convention),
                               ref_grad)
    y = LocalResponseNorm(*args, mode=mode, convention=convention)(x)
    (grad,) = torch.autograd.grad(y, x, g)
    torch.testing.assert_close(grad, ref_grad)


def test_box_sum_matches_naive_sum_for_every_window():
    from lrn_core.local_response import _Workspace, box_sum
    torch.manual_seed(6)
    ws = _Workspace()
    for length in (1, 2, 5, 12):
        t = torch.randn(3, length, 4, dtype=torch.float64)
        for before in range(10):
            for after in range(10):
                naive = torch.stack([t[:, max(i - before, 0):i + after + 1].sum(1)
                                     for i in range(length)], dim=1)
                out = box_sum(t, before, after, 1, torch.empty_like(t), ws)
                torch.testing.assert_close(out, naive, msg=f"L={length} b={before} a={after}")


def test_windows_wider_than_tiny_images(device):
    # n = 9 within a channel on 1 x 1 and 2 x 3 images, and across 2 channels.
    for shape in [(2, 3, 1, 1), (1, 2, 2, 3)]:
        x = torch.randn(shape, dtype=torch.float64, device=device)
        for mode in ("across", "within"):
            y = lrn(x, 9, 1.0, 0.75, 1.0, mode=mode, convention="onednn")
            torch.testing.assert_close(y, reference_lrn(x, 9, 1.0, 0.75, 1.0, mode, "onednn"))
