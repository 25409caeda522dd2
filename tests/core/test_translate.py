"""translate: every pair of conventions gives the same output, or says precisely why not."""

import itertools

import pytest
import torch

from lrn_core import conventions_for, lrn, translate

SOURCE_SETTINGS = {  # (size, alpha, beta, k) per source convention, odd and even sizes
    "pytorch": [(5, 1e-2, 0.75, 2.0), (4, 0.5, 0.6, 1.0), (1, 0.3, 0.75, 1.0)],
    "tensorflow": [(2, 1e-4, 0.75, 2.0), (0, 0.5, 0.5, 1.0), (3, 0.2, 1.0, 1.0)],
    "caffe": [(5, 1e-4, 0.75, 1.0), (3, 0.9, 0.75, 1.0)],
    "onnx": [(5, 1e-2, 0.75, 2.0), (4, 0.5, 0.6, 1.0)],
    "cudnn": [(5, 1e-2, 0.75, 2.0), (6, 0.5, 0.6, 1.0), (3, 0.4, 0.75, 1.0)],
    "onednn": [(5, 1e-2, 0.75, 2.0), (4, 0.5, 0.6, 1.0)],
    "opencv": [(5, 1e-2, 0.75, 2.0), (3, 0.5, 0.6, 1.0)],
    "alexnet": [(5, 1e-4, 0.75, 2.0), (2, 1.0, 1.0, 1.0)],
}
PAIRS = [
    (s, t, m)
    for m in ("across", "within")
    for s, t in itertools.permutations(conventions_for(m), 2)
]


@pytest.mark.parametrize("source, target, mode", PAIRS, ids=lambda v: str(v))
def test_translation_gives_same_output_or_a_reason(source, target, mode):
    torch.manual_seed(0)
    x = torch.rand(2, 9, 8, 8, dtype=torch.float64) * 4
    translated = 0
    for size, alpha, beta, k in SOURCE_SETTINGS[source]:
        params = dict(size=size, alpha=alpha, beta=beta, k=k)
        try:
            out = translate(params, source, target, mode=mode)
        except ValueError as err:
            assert target in str(err)  # the reason names the target; details tested below
            continue
        translated += 1
        assert set(out) == {"size", "alpha", "beta", "k"}
        y_src = lrn(x, **params, mode=mode, convention=source)
        y_tgt = lrn(x, **out, mode=mode, convention=target)
        torch.testing.assert_close(y_tgt, y_src, rtol=1e-6, atol=0)
    assert translated >= 1  # every pair has at least one exact translation in this set


def test_documented_exact_translations():
    # TensorFlow (r, alpha_tf, bias, beta) = PyTorch (2r+1, alpha_tf * (2r+1), bias, beta).
    for r in range(0, 5):
        out = translate(dict(size=r, alpha=1e-4, beta=0.75, k=2.0), "tensorflow", "pytorch")
        assert out["size"] == 2 * r + 1
        assert out["alpha"] == pytest.approx(1e-4 * (2 * r + 1), rel=1e-12)
        assert out["k"] == 2.0 and out["beta"] == 0.75
    # The AlexNet paper values in PyTorch and TensorFlow.
    paper = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    assert translate(paper, "alexnet", "pytorch") == pytest.approx(
        dict(size=5, alpha=5e-4, beta=0.75, k=2.0), rel=1e-12)
    assert translate(paper, "alexnet", "tensorflow") == pytest.approx(
        dict(size=2, alpha=1e-4, beta=0.75, k=2.0), rel=1e-12)
    # oneDNN's even n sums n-1 taps with alpha / n: the same as PyTorch's n-1 with alpha (n-1)/n.
    assert translate(
        dict(size=4, alpha=1.0, beta=0.75, k=1.0), "onednn", "pytorch"
    ) == pytest.approx(dict(size=3, alpha=0.75, beta=0.75, k=1.0))


@pytest.mark.parametrize("params, source, target, mode, reason", [
    (dict(size=4), "pytorch", "onnx", "across", r"channels c-2..c\+1.*no onnx size"),
    (dict(size=4), "onnx", "pytorch", "across", r"channels c-1..c\+2.*no pytorch size"),
    (dict(size=4), "pytorch", "tensorflow", "across", "no tensorflow depth_radius"),
    (dict(size=4), "pytorch", "caffe", "across", "no caffe local_size"),
    (dict(size=9, k=0.0), "pytorch", "cudnn", "across", "cudnn requires k >= 1e-05"),
    (dict(size=9, beta=0.001), "pytorch", "cudnn", "across", "cudnn requires beta >= 0.01"),
    (dict(size=8), "tensorflow", "cudnn", "across", "cudnn allows lrnN <= 16"),
    (dict(size=3, k=2.0), "onednn", "caffe", "within", "ignores k and uses 1"),
    (dict(size=3), "caffe", "pytorch", "within", "pytorch has no within-channel LRN"),
    (dict(size=3), "alexnet", "onnx", "within", "onnx has no within-channel LRN"),
])
def test_no_exact_equivalent_says_why(params, source, target, mode, reason):
    full = dict(size=3, alpha=1.0, beta=0.75, k=1.0)
    full.update(params)
    with pytest.raises(ValueError, match=reason):
        translate(full, source, target, mode=mode)


@pytest.mark.parametrize("source, size, target, mode, target_size", [
    ("alexnet", 2, "pytorch", "across", 3),  # the paper's even n covers n+1 channels
    ("onednn", 4, "alexnet", "within", 2),  # oneDNN's even n sums n-1 taps: 3 x 3
    ("pytorch", 3, "onednn", "across", 3),  # the smallest size wins where two fit
])
def test_even_sizes_that_do_translate(source, size, target, mode, target_size):
    params = dict(size=size, alpha=1.0, beta=0.75, k=1.0)
    out = translate(params, source, target, mode=mode)
    assert out["size"] == target_size
    x = torch.rand(1, 6, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(lrn(x, **out, mode=mode, convention=target),
                               lrn(x, **params, mode=mode, convention=source), rtol=1e-6, atol=0)


def test_caffe_within_translates_with_k_one():
    out = translate(dict(size=3, alpha=0.9, beta=0.75, k=5.0), "caffe", "onednn", mode="within")
    assert out["k"] == 1.0  # what Caffe's CPU engine really uses


def test_missing_keys():
    with pytest.raises(ValueError, match="lacks beta, k"):
        translate(dict(size=3, alpha=1.0), "pytorch", "onnx")
