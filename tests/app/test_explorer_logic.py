"""The Explorer's computations (lrn_app.compute.explorer, presets): presets against their own
library, the pixel inspector's arithmetic, code snippets, non-finite values.
"""

import numpy as np
import pytest
import torch

from lrn_app.compute import explorer
from lrn_app.compute.presets import PRESETS, apply_preset
from lrn_app.figures import look
from lrn_app.state import Explorer
from lrn_core import lrn, translate


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("convention", ["pytorch", "onnx", "caffe", "cudnn"])
def test_presets_compute_what_their_own_library_computes(name, convention):
    state, message = apply_preset(Explorer(convention=convention), name)
    assert message
    own_convention, size, alpha, beta, k = PRESETS[name]
    x = torch.rand(1, 16, 5, 5, dtype=torch.float64)
    ours = lrn(x, state.n, state.alpha, state.beta, state.k, convention=state.convention)
    if own_convention is None:  # identity keeps the rest
        torch.testing.assert_close(ours, x / state.k ** state.beta)
        return
    size = 15 if size is None else size
    theirs = lrn(x, size, alpha, beta, k, convention=own_convention)
    torch.testing.assert_close(ours, theirs)


def test_l2_preset_is_unit_norm_across_channels():
    state, _ = apply_preset(Explorer(), "L2 normalisation")
    x = torch.rand(1, 16, 4, 4, dtype=torch.float64) + 0.1
    y = lrn(x, state.n, state.alpha, state.beta, state.k, convention=state.convention)
    torch.testing.assert_close(y.norm(dim=1), torch.ones(1, 4, 4, dtype=torch.float64))


@pytest.mark.parametrize("mode, convention, n", [("across", "pytorch", 4), ("across", "alexnet", 5),
                                                ("within", "onednn", 3), ("within", "caffe", 5)])
def test_pixel_inspector_arithmetic_equals_lrn_parts(mode, convention, n):
    feats = np.random.default_rng(2).random((6, 9, 11)).astype(np.float32)
    state = Explorer(mode=mode, convention=convention, n=n, alpha=3.0, k=1.5)
    result = explorer.run_lrn(feats, state)
    for channel, row, col in [(0, 0, 0), (5, 8, 10), (2, 4, 5)]:
        px = explorer.inspect_pixel(feats, state, channel, row, col)
        assert px.S == pytest.approx(float(result.maps["S"][channel, row, col]), rel=1e-5)
        assert px.y == pytest.approx(float(result.maps["output"][channel, row, col]), rel=1e-5)
        assert px.squares.flat[px.centre] == pytest.approx(feats[channel, row, col] ** 2, rel=1e-6)


def test_code_snippets_use_translated_parameters():
    snippets = explorer.code_snippets(Explorer(convention="alexnet", n=5, alpha=1e-4, k=2.0))
    p = translate(dict(size=5, alpha=1e-4, beta=0.75, k=2.0), "alexnet", "pytorch")
    assert (
        f"alpha={p['alpha']!r}" in snippets["PyTorch"]
        and "depth_radius=2" in snippets["TensorFlow"]
    )
    even = explorer.code_snippets(Explorer(convention="pytorch", n=4))
    assert even["TensorFlow"].startswith("# No exact TensorFlow equivalent")


def test_non_finite_values_are_counted_for_the_page():
    clean, bad = look.finite(np.array([1.0, np.nan, np.inf, -np.inf]))
    assert bad == 3 and np.isfinite(clean).all()
    assert look.finite(np.array([np.inf, -np.inf]))[1] == 2  # their sum is NaN
    huge = np.array([3e38, 3e38, 1.0], dtype=np.float32)  # finite, but their sum overflows
    assert look.finite(huge)[1] == 0 and look.finite(huge)[0] is huge
