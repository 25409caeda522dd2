"""The labs' data set and network (lrn_lab.shapes, lrn_lab.network): fixed splits, the
normalisation where it belongs, LRN's calibration and its response."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import pytest
import torch

from lrn_lab.network import VARIANTS, calibrate, fold, lrn_inputs, make_model, response, scale
from lrn_lab.shapes import CLASSES, make_shapes
from lrn_lab.trainer import TrainConfig, data, train

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



# --- the data -------------------------------------------------------------------------------

def test_shapes_are_fixed_balanced_and_distinct():
    x, y = make_shapes(60, 16, seed=0)
    assert x.shape == (60, 1, 16, 16) and x.dtype == torch.float32
    assert torch.bincount(y).tolist() == [10] * len(CLASSES)
    x2, y2 = make_shapes(60, 16, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)  # a fixed split
    assert not torch.equal(x, make_shapes(60, 16, seed=1)[0])
    clean, labels = make_shapes(600, 16, seed=2, noise=0.0)
    means = torch.stack([clean[labels == c].mean(0) for c in range(len(CLASSES))]).flatten(1)
    assert torch.cdist(means, means).add(torch.eye(len(CLASSES))).min() > 0.1


def test_the_three_splits_differ_and_are_standardised_by_the_training_images():
    splits = data(TINY)
    assert {s: len(x) for s, (x, _) in splits.items()} == {"train": 128, "val": 64, "test": 64}
    x = splits["train"][0]
    assert abs(float(x.mean())) < 1e-5 and float(x.std()) == pytest.approx(1, abs=1e-5)
    assert not torch.equal(splits["val"][0], splits["test"][0])


# --- the network ------------------------------------------------------------------------------

def test_the_head_pools_globally_or_flattens():
    gap, flat = make_model("none", TINY), make_model("none", replace(TINY, head="flatten"))
    assert gap[-1].in_features == 4 * TINY.width
    assert flat[-1].in_features == 4 * TINY.width * (TINY.image_size // 4) ** 2
    x = torch.randn(2, 1, TINY.image_size, TINY.image_size)
    assert gap(x).shape == flat(x).shape == (2, len(CLASSES))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_conv_block_has_its_norm_after_the_relu(variant):
    names = [type(m).__name__ for m in make_model(variant, TINY)]
    expected = {"none": "Identity", "batchnorm": "BatchNorm2d"}.get(variant, "LocalResponseNorm")
    assert names.count(expected) == 3 and names.count("Conv2d") == 3
    for i, name in enumerate(names):
        if name == "Conv2d":
            assert names[i + 1:i + 3] == ["ReLU", expected]


def test_lrn_with_alpha_zero_and_k_one_trains_bit_for_bit_like_no_normalisation():
    plain = replace(TINY, k=1.0, alpha=0.0, alpha_scaled=False)
    none, lrn = train("none", 3, plain), train("lrn_across", 3, plain)
    assert [asdict(e) | {"seconds": 0} for e in none.epochs] == \
        [asdict(e) | {"seconds": 0} for e in lrn.epochs]
    assert none.final == lrn.final and torch.equal(none.first_filters, lrn.first_filters)


@pytest.mark.parametrize("variant", ["lrn_across", "lrn_within"])
def test_alpha_is_set_from_each_layers_measured_input_scale(variant):
    torch.manual_seed(0)
    model = make_model(variant, TINY)
    images = data(TINY)["train"][0][:64]
    alphas, scales = calibrate(model, TINY, images)
    inputs = lrn_inputs(model, images)  # what each layer sees with every alpha in force
    assert len(alphas) == len(scales) == 3
    for alpha, q_measured, seen in zip(alphas, scales, inputs):
        q = scale(seen)
        assert q_measured == pytest.approx(q, rel=1e-6)
        assert alpha == pytest.approx(TINY.alpha * TINY.k / q ** 2, rel=1e-6)
        # at the defaults the fold lies at sqrt(2) q: the scale is on the rising side
        assert fold(alpha, TINY.beta, TINY.k) == pytest.approx(math.sqrt(2) * q, rel=1e-6)


def test_without_scaling_alpha_is_left_as_it_is_and_the_scale_still_measured():
    config = replace(TINY, alpha=1e-4, alpha_scaled=False)
    alphas, scales = calibrate(make_model("lrn_across", config), config,
                               data(config)["train"][0][:64])
    assert alphas == [1e-4] * 3 and all(q > 0 for q in scales)


def test_the_fold_is_where_the_response_stops_rising():
    alpha, beta, k = 0.3, 0.75, 2.0
    x = torch.linspace(0, 10, 100_001, dtype=torch.float64)
    y = response(x, alpha, beta, k)
    assert float(x[y.argmax()]) == pytest.approx(fold(alpha, beta, k), abs=1e-3)
    assert fold(alpha, 0.5, k) == math.inf and fold(0.0, beta, k) == math.inf
