"""The pages' inputs (lrn_app.inputs): filter banks against a direct convolution, the
feature sources, and the learned first layer.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app.inputs.features import BANKS, FEATURE_GAIN, feature_maps, gabor_kernels


def test_gabor_features_match_direct_convolution():
    rng = np.random.default_rng(0)
    image = rng.random((40, 56), dtype=np.float32)
    kernels = gabor_kernels(8)
    r = kernels.shape[-1] // 2
    padded = F.pad(torch.from_numpy(image)[None, None], (r,) * 4, mode="reflect")
    direct = F.conv2d(padded, kernels[:, None]).relu()[0] * FEATURE_GAIN
    np.testing.assert_allclose(feature_maps(image, "gabor", 8), direct.numpy(), atol=1e-5)


def test_feature_sources_and_banks():
    image = np.random.default_rng(1).random((20, 30, 3), dtype=np.float32)
    assert feature_maps(image, "rgb").shape == (3, 20, 30)
    for channels in BANKS:
        kernels = gabor_kernels(channels)
        assert kernels.shape[0] == channels
        assert torch.allclose(kernels.sum((1, 2)), torch.zeros(channels), atol=1e-6)  # zero mean
    with pytest.raises(ValueError, match="unknown feature source"):
        feature_maps(image, "sift")


def test_learned_feature_source_is_the_shipped_first_layer():
    from lrn_app.inputs.features import load_learned, source_channels
    from lrn_lab.trainer import TrainConfig
    filters, bias, gain = load_learned()
    w = TrainConfig().width  # the labs' network's first layer
    assert filters.shape == (w, 1, 5, 5) and bias.shape == (w,) and gain > 0
    image = np.random.default_rng(2).random((30, 40), dtype=np.float32)
    padded = F.pad(torch.from_numpy(image)[None, None], (2,) * 4, mode="reflect")
    direct = F.conv2d(padded, torch.from_numpy(filters), torch.from_numpy(bias)).relu()[0] * gain
    np.testing.assert_allclose(feature_maps(image, "learned"), direct.numpy(), atol=1e-5)
    assert source_channels("learned", 16) == w and source_channels("rgb", 16) == 3
