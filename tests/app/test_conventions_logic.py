"""The Conventions page's computations (lrn_app.compute.conventions) against torch's own LRN
and the conventions' worked examples (docs/conventions.md).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app.compute import conventions
from lrn_core import conventions_for, lrn, resolve
from tests.app.data import relu_features


def _accepts(mode, convention, size):
    try:
        resolve(size, 1.0, 0.75, 1.0, mode=mode, convention=convention)
        return True
    except ValueError:
        return False


SETTINGS = [
    (mode, c, n)
    for mode, sizes in (("across", (1, 2, 3, 4, 5, 8)), ("within", (1, 2, 3, 5)))
    for c in conventions_for(mode)
    for n in sizes
    if _accepts(mode, c, n)
]


@pytest.mark.parametrize("mode, source, size", SETTINGS)
def test_translated_settings_agree_on_real_features_with_torch_itself(mode, source, size):
    feats = relu_features((12, 16, 16), seed=10)
    params = dict(size=size, alpha=3.0, beta=0.75, k=1.5)
    result = conventions.agreement(feats, params, source, mode, translated=True)
    assert source in result.names
    assert result.matrix.max() < 1e-6, result.names  # float32 rounding only
    rows = {r["convention"]: r for r in conventions.translations(params, source, mode)}
    assert set(rows) == set(conventions_for(mode))
    for name in conventions_for(mode):  # a convention runs exactly when it has a translation
        assert (name in result.names) == (rows[name]["why not"] == ""), name
        assert (name in result.missing) == (rows[name]["why not"] != ""), name


def test_same_numbers_in_other_libraries_disagree():
    feats = relu_features((12, 16, 16), seed=11)
    result = conventions.agreement(feats, dict(size=4, alpha=3.0, beta=0.75, k=1.0), "pytorch",
                                  "across", translated=False)
    i, j = result.names.index("pytorch"), result.names.index("onnx")
    assert result.matrix[i, j] > 0.01  # mirror-image windows for an even size
    x, p = torch.from_numpy(feats), dict(size=4, alpha=3.0, beta=0.75, k=1.0)
    mine, theirs = lrn(x, **p, convention="pytorch"), lrn(x, **p, convention="onnx")
    assert result.matrix[i, j] == float((mine - theirs).abs().max()) / float(mine.abs().max())
    np.testing.assert_array_equal(result.matrix, result.matrix.T)  # each pair computed once
    assert not result.matrix.diagonal().any()
    assert result.matrix[i, result.names.index(conventions.TORCH_OWN)] < 1e-6
    assert "caffe" in result.missing and "odd" in result.missing["caffe"]


def test_agreement_with_k_zero_leaves_torchs_nan_outputs_out_and_counts_them():
    """k = 0: torch's F.local_response_norm gives 0 / 0 = NaN on an all-zero window, where
    lrn_core defines 0. The matrix compares the other outputs and counts the NaN ones."""
    feats = relu_features((6, 10, 10), seed=12)
    feats[:, :3, :3] = 0  # all-zero windows for every size
    params = dict(size=3, alpha=2.0, beta=0.75, k=0.0)
    result = conventions.agreement(feats, params, "pytorch", "across", translated=True)
    theirs = F.local_response_norm(torch.from_numpy(feats)[None], 3, 2.0, 0.75, 0.0)[0]
    assert result.undefined == {conventions.TORCH_OWN: int(theirs.isnan().sum())}
    assert result.undefined[conventions.TORCH_OWN] >= 6 * 9
    assert np.isfinite(result.matrix).all() and result.matrix.max() < 1e-6
    mine = lrn(torch.from_numpy(feats), **params)
    defined = ~theirs.isnan()
    i = result.names.index(conventions.TORCH_OWN)
    assert result.matrix[0, i] == float((mine - theirs)[defined].abs().max()) / float(
        mine.abs().max())


def test_translation_table_keeps_the_source_numbers_and_explains_gaps():
    rows = {r["convention"]: r for r in conventions.translations(
        dict(size=5, alpha=1e-4, beta=0.75, k=2.0), "alexnet", "across")}
    assert rows["alexnet"]["parameters"].startswith("n=5,")  # not n=4, the same window
    assert rows["pytorch"]["parameters"] == "size=5, alpha=0.0005, beta=0.75, k=2"
    assert rows["tensorflow"]["parameters"].startswith("depth_radius=2, alpha=0.0001,")
    rows = conventions.translations(dict(size=4, alpha=1.0, beta=0.75, k=1.0), "pytorch", "across")
    assert [r["convention"] for r in rows if not r["why not"]] == ["pytorch"]
    assert all("c-2..c+1" in r["why not"] for r in rows if r["why not"])


def test_worked_examples_reproduce_the_note():
    examples = conventions.worked_examples()
    assert len(examples) == 3
    for example in examples:
        assert example.max_error < 1e-7, example.name


def test_cross_map_lrn2d_defect_is_real_and_ours_is_not():
    outputs = conventions.cross_map_defect()
    if outputs is None:
        pytest.skip("this torch has no nn.CrossMapLRN2d")
    ours, torch_lrn, legacy = outputs.values()
    np.testing.assert_allclose(ours, [1 / 3, 1 / 4, 1 / 4, 1 / 4, 1 / 4, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(torch_lrn, ours, rtol=1e-6)
    assert np.abs(legacy - ours).max() > 0.04
