"""The LRN vs BatchNorm page's computations (lrn_app.compute.compare) against torch's own
BatchNorm, LayerNorm and GroupNorm.
"""

import copy

import numpy as np
import pytest
import torch

from lrn_app.compute import compare
from lrn_app.inputs import batch
from lrn_core import lrn
from tests.app.data import ACROSS, relu_features


def test_batchnorm_with_running_statistics_matches_torch():
    x = torch.from_numpy(relu_features((5, 3, 6, 6), seed=4))
    bn = compare.BatchNormSettings(gamma=1.5, shift=-0.3, eps=1e-3, momentum=0.2, warmup=7)
    stats = compare.running_statistics(x, bn)
    module = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
    generator = torch.Generator().manual_seed(0)  # the same halves as running_statistics draws
    for _ in range(7):
        module.train()(x[torch.randperm(5, generator=generator)[:3]])
    torch.testing.assert_close(stats[0], module.running_mean)
    torch.testing.assert_close(stats[1], module.running_var)
    with torch.no_grad():
        module.weight.fill_(1.5)
        module.bias.fill_(-0.3)
        for training in (True, False):
            expected = copy.deepcopy(module).train(training)(x)  # training moves the stats
            torch.testing.assert_close(compare.apply_batchnorm(x, bn, stats, training), expected)


def test_swapping_batch_mates_changes_batchnorm_in_training_only_and_never_lrn():
    feats = relu_features((4, 6, 10, 10), seed=5)
    mates = relu_features((3, 6, 10, 10), seed=6) * 2
    train = compare.compare(feats, 1, mates, ACROSS, compare.BatchNormSettings(training=True))
    evaluation = compare.compare(feats, 1, mates, ACROSS, compare.BatchNormSettings(training=False))
    assert train.swap_change["BatchNorm"] > 0.01
    assert train.swap_change["LRN"] == 0.0 and evaluation.swap_change["LRN"] == 0.0
    assert evaluation.swap_change["BatchNorm"] == 0.0
    assert train.train_eval_change == pytest.approx(evaluation.train_eval_change)
    np.testing.assert_allclose(train.maps["LRN"], lrn(torch.from_numpy(feats[1]), 5, 2.0).numpy())


def test_without_warm_up_eval_mode_is_only_the_scale_and_shift():
    feats = relu_features((2, 3, 5, 5), seed=7)
    bn = compare.BatchNormSettings(training=False, gamma=2.0, shift=0.5, eps=1e-5, warmup=0)
    result = compare.compare(feats, 0, feats[1:], ACROSS, bn)
    np.testing.assert_allclose(result.maps["BatchNorm"], 2.0 * feats[0] / np.sqrt(1 + 1e-5) + 0.5,
                               rtol=1e-6)


def test_properties_are_measured_right():
    feats = relu_features((4, 8, 40, 36), seed=8)
    mates = relu_features((2, 8, 40, 36), seed=9)
    rows = {r["normalisation"]: r for r in compare.properties(feats, 0, mates, ACROSS,
                                                              compare.BatchNormSettings())}
    assert rows["LRN"]["trainable parameters"] == 0
    assert rows["BatchNorm"]["trainable parameters"] == 2 * 8
    assert rows["LayerNorm"]["trainable parameters"] == 2 * 8 * 40 * 36
    assert rows["GroupNorm"]["trainable parameters"] == 2 * 8
    assert rows["InstanceNorm"]["trainable parameters"] == 0  # torch's default: affine=False
    assert rows["BatchNorm"]["output depends on other images"] == "yes"
    assert rows["BatchNorm"]["train and eval differ"] == "yes"
    for name in ("LRN", "LayerNorm", "InstanceNorm", "GroupNorm"):
        assert rows[name]["output depends on other images"] == "no", name
        assert rows[name]["train and eval differ"] == "no", name
    assert rows["LRN"]["normalises over"].startswith("channels c-2..c+2")
    stats = compare.compare(feats, 0, mates, ACROSS, compare.BatchNormSettings()).stats
    assert compare.properties(feats, 0, mates, ACROSS, compare.BatchNormSettings(), stats) == \
        list(rows.values())  # the page reuses the comparison's running statistics
    # and measures LRN's row on every move, the others (which need no LRN settings) cached
    lrn_row = compare.properties(feats, 0, mates, ACROSS, compare.BatchNormSettings(), stats,
                                 names=["LRN"])
    others = compare.properties(feats, 0, mates, {}, compare.BatchNormSettings(), stats,
                                names=compare.NORMALISATIONS[1:])
    assert lrn_row + others == list(rows.values())


def test_histograms_share_bins_and_count_every_finite_value():
    maps = {"a": np.array([0.0, 1.0, 2.0]), "b": np.array([-1.0, np.nan, 3.0])}
    edges, counts = compare.histograms(maps, bins=4)
    assert edges[0] == -1.0 and edges[-1] == 3.0
    assert counts["a"].sum() == 3 and counts["b"].sum() == 2


def test_batch_squares_and_augments():
    image = np.random.default_rng(0).random((30, 50), dtype=np.float32)
    sq = batch.square(image, 16)
    assert sq.shape == (16, 16, 3) and np.allclose(sq[..., 0], sq[..., 2])  # grey -> RGB
    np.testing.assert_array_equal(batch.augment(sq, "flip"), sq[:, ::-1])
    assert batch.augment(sq, "brighter").max() <= 1.0
    np.testing.assert_allclose(batch.augment(sq, "darker"), sq * 0.5)
    assert batch.augment(sq, "crop").shape == sq.shape
    labels = batch.batch_labels(["cat", "my photo (1).png"], ["flip"])
    assert labels == ["cat", "my photo (1).png", "cat (flip)", "my photo (1).png (flip)"]
    assert [batch.split_label(label) for label in labels] == [
        ("cat", None), ("my photo (1).png", None), ("cat", "flip"), ("my photo (1).png", "flip")]
    with pytest.raises(ValueError, match="unknown augmentation"):
        batch.augment(sq, "rotate")




def test_compare_with_batchnorms_side_given_is_the_same_comparison():
    feats = relu_features((4, 6, 10, 10), seed=7)
    mates = relu_features((2, 6, 10, 10), seed=8)
    bn = compare.BatchNormSettings(training=False, gamma=1.3, warmup=3)
    whole = compare.compare(feats, 2, mates, ACROSS, bn)
    given = compare.compare(
        feats, 2, mates, ACROSS, bn, compare.batchnorm_side(feats, 2, mates, bn)
    )
    for name in whole.maps:
        np.testing.assert_array_equal(whole.maps[name], given.maps[name])
    np.testing.assert_array_equal(whole.swapped_batchnorm, given.swapped_batchnorm)
    assert (whole.swap_change, whole.train_eval_change) == (
        given.swap_change,
        given.train_eval_change,
    )
