"""Feature maps for LRN to work on.

Across-channel LRN only means something with many channels, so an image becomes either
its raw colour channels or the rectified responses of a fixed bank of Gabor filters:

    channel index = (scale * orientations + orientation) * 2 + phase

so neighbouring channels are the two phases, then neighbouring orientations, of one
scale: across-channel LRN then makes nearby orientations compete, as in V1 models.
Wavelengths are 4, 8, 16 and 32 pixels; each kernel is zero-mean with unit L1 norm
(so every scale responds alike), and responses are multiplied by FEATURE_GAIN = 10 so
that strong edges give activations near 1, like the units of a trained network.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch

SOURCES = {"gabor": "Gabor filter bank + ReLU", "rgb": "Raw colour channels",
           "learned": "Filters a CNN learned (Training lab) + ReLU"}
# The learned source's default: the first layer of the Training lab's BatchNorm CNN
# (default settings, seed 0, at its chosen rate). Regenerate it with `lrn-train --variants
# batchnorm --seeds 5 --save-filters lrn_app/assets/learned/filters.npz`; the file records
# that command, the settings, the versions and the five seeds' test accuracies
# (lrn_lab.trainer.load_record), since on another CPU the same command gives other weights of
# the same accuracy. The lab can replace it per session.
LEARNED_DEFAULT = Path(__file__).resolve().parents[1] / "assets" / "learned" / "filters.npz"
# channels -> (scales, orientations); two phases each.
BANKS = {8: (1, 4), 16: (2, 4), 32: (2, 8), 48: (3, 8), 64: (4, 8), 96: (4, 12)}
WAVELENGTHS = (4.0, 8.0, 16.0, 32.0)
FEATURE_GAIN = 10.0


def describe_channel(index: int, channels: int) -> str:
    """'scale 2 (wavelength 8 px), 45°, odd phase' for a Gabor channel."""
    scales, orientations = BANKS[channels]
    phase = index % 2
    orientation = (index // 2) % orientations
    scale = index // (2 * orientations)
    degrees = 180 * orientation / orientations
    return (f"wavelength {WAVELENGTHS[scale]:g} px, {degrees:.0f}°, "
            f"{'odd' if phase else 'even'} phase")


def gabor_kernels(channels: int) -> torch.Tensor:
    """The bank's kernels, (channels, K, K) with K fitting the largest, float32."""
    if channels not in BANKS:
        raise ValueError(
            f"the filter bank has {', '.join(map(str, BANKS))} channels, not {channels}"
        )
    scales, orientations = BANKS[channels]
    radius = math.ceil(1.5 * 0.5 * WAVELENGTHS[scales - 1])  # 1.5 sigma of the largest
    coords = torch.arange(-radius, radius + 1, dtype=torch.float64)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    kernels = []
    for s in range(scales):
        wavelength = WAVELENGTHS[s]
        sigma = 0.5 * wavelength
        envelope = torch.exp(-(x**2 + y**2) / (2 * sigma**2))
        for o in range(orientations):
            theta = math.pi * o / orientations
            u = x * math.cos(theta) + y * math.sin(theta)
            for phase in (0.0, math.pi / 2):
                k = envelope * torch.cos(2 * math.pi * u / wavelength - phase)
                k = k - envelope * (k.sum() / envelope.sum())  # zero mean: flat areas give 0
                kernels.append(k / k.abs().sum())
    return torch.stack(kernels).float()


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an RGB image; a grey image as it is."""
    if image.ndim == 2:
        return image
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


@functools.lru_cache(maxsize=4)
def load_learned(path: Path = LEARNED_DEFAULT) -> tuple[np.ndarray, np.ndarray, float]:
    """(filters (C, 1, K, K), bias (C,), gain) as ``lrn-train --save-filters`` saves them
    (never unpickled: plain arrays only)."""
    with np.load(path, allow_pickle=False) as saved:
        return (saved["filters"].astype(np.float32), saved["bias"].astype(np.float32),
                float(saved["gain"]))


def source_channels(source: str, channels: int, learned: np.ndarray | None = None) -> int:
    """How many feature maps a source gives (rgb: 3, or 1 for a grey image)."""
    if source == "gabor":
        return channels
    if source == "learned":
        return len((learned if learned is not None else load_learned())[0])
    return 3


def feature_maps(image: np.ndarray, source: str = "gabor", channels: int = 16,
                 learned: tuple | None = None) -> np.ndarray:
    """(C, H, W) float32 feature maps of an image in [0, 1]. ``learned``: (filters, bias,
    gain) for the learned source, the network's first layer and ReLU (default: shipped)."""
    if source == "learned":
        filters, bias, gain = learned if learned is not None else load_learned()
        return _convolve(luminance(image), torch.from_numpy(filters[:, 0]), gain,
                         torch.from_numpy(bias))
    if source == "rgb":
        return np.ascontiguousarray((image[None] if image.ndim == 2 else image.transpose(2, 0, 1)),
                                    dtype=np.float32)
    if source != "gabor":
        raise ValueError(f"unknown feature source {source!r}; choose one of {', '.join(SOURCES)}")
    return _convolve(luminance(image), gabor_kernels(channels), FEATURE_GAIN)


def _convolve(grey: np.ndarray, kernels: torch.Tensor, gain: float,
              bias: torch.Tensor | None = None) -> np.ndarray:
    """ReLU(grey correlated with each kernel + bias, reflect padding) * gain, as (C, H, W)."""
    grey = torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32))
    # FFT convolution: the cost does not grow with the 49 x 49 kernels of the largest scale.
    radius = kernels.shape[-1] // 2
    padded = torch.nn.functional.pad(grey[None, None], (radius,) * 4, mode="reflect"
                                     if min(grey.shape) > radius else "replicate")[0, 0]
    h, w = padded.shape
    spectrum = torch.fft.rfft2(padded) * torch.fft.rfft2(kernels.flip(-1, -2), s=(h, w))
    full = torch.fft.irfft2(spectrum, s=(h, w))
    # circular convolution; the valid part starts at 2 * radius
    responses = full[:, 2 * radius:, 2 * radius:][:, : grey.shape[0], : grey.shape[1]]
    if bias is not None:
        responses = responses + bias[:, None, None]
    return responses.relu_().mul_(gain).contiguous().numpy()
