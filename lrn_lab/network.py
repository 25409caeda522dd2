"""The labs' network: a small all-convolutional CNN whose result is its normalisation's.

    conv 5x5 (1 -> w)  - ReLU - norm - max-pool 2
    conv 3x3 (w -> 2w) - ReLU - norm - max-pool 2
    conv 3x3 (2w -> 4w) - ReLU - norm
    head: global average pool - linear (4w -> 6)          ("gap", the default)
      or: flatten - linear (4w * (size/4)^2 -> 6)        ("flatten", a set-up variation)

``norm`` is nothing, LRN across channels, LRN within a channel (lrn_core's
LocalResponseNorm, closed-form backward) or BatchNorm, after the ReLU (or before it, with
``norm_before_relu``). Real CNNs pool globally before the classifier; with a flatten head
the linear layer sees thousands of unit-scale features after BatchNorm and its own
curvature, not the convolutions', sets the highest stable learning rate.

LRN where it acts as LRN. ``y = x (k + a S)^-beta`` rises with ``x`` only while
``a S (2 beta - 1) <= k`` for a window of equal values (S = taps x^2, a = alpha / taps in
oneDNN's convention, which the lab uses: ``alpha`` is per element in both modes, so that
changing n does not also change alpha); past that fold a larger input gives a smaller
output. AlexNet's k = 2, alpha = 1e-4 on activations in the tens to hundreds stays below
the fold. The lab does the same from the measured scale: with ``alpha_scaled`` each LRN
layer's alpha is ``alpha * k / q^2``, q the 99.9th percentile of that layer's input at
initialisation on a fixed batch of training images, so that at q the window's term
equals ``alpha * k`` and the fold lies at ``q / sqrt(alpha (2 beta - 1))`` (1.41 q at the
defaults).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lrn_core.local_response import LocalResponseNorm

VARIANTS = {  # name -> label
    "none": "no normalisation",
    "lrn_across": "LRN across channels",
    "lrn_within": "LRN within a channel",
    "batchnorm": "BatchNorm",
}
HEADS = {"gap": "global average pool, linear", "flatten": "flatten, linear"}
CLASSES = 6
QUANTILE = 0.999  # the scale of an LRN layer's input, for alpha_scaled
CALIBRATION_IMAGES = 256


def norm_layer(variant: str, channels: int, config) -> nn.Module:
    if variant == "none":
        return nn.Identity()
    if variant in ("lrn_across", "lrn_within"):
        return LocalResponseNorm(config.n, config.alpha, config.beta, config.k,
                                 mode=variant.removeprefix("lrn_"), convention=config.convention)
    if variant == "batchnorm":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")


def make_model(variant: str, config) -> nn.Sequential:
    """The network for ``variant`` and ``config`` (lrn_lab.trainer.TrainConfig), LRN not yet
    calibrated (``calibrate`` does that with a batch of images)."""
    w = config.width

    def block(c_in: int, c_out: int, kernel: int) -> list[nn.Module]:
        pair = [nn.ReLU(), norm_layer(variant, c_out, config)]
        return [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2),
                *(pair[::-1] if config.norm_before_relu else pair)]

    side = config.image_size // 4
    head = ([nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, CLASSES)]
            if config.head == "gap" else [nn.Flatten(), nn.Linear(4 * w * side * side, CLASSES)])
    if config.head not in HEADS:
        raise ValueError(f"unknown head {config.head!r}; choose one of {', '.join(HEADS)}")
    model = nn.Sequential(*block(1, w, 5), nn.MaxPool2d(2), *block(w, 2 * w, 3),
                          nn.MaxPool2d(2), *block(2 * w, 4 * w, 3), *head)
    # He initialisation, as torchvision initialises its VGG and ResNets: torch's default
    # (uniform, a = sqrt(5)) shrinks the activations by about 1/sqrt(3) a layer, and a
    # network without normalisation then starts with a vanishing signal that the
    # normalised ones do not have, which is the set-up's doing, not the normalisation's.
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def lrn_layers(model: nn.Sequential) -> list[LocalResponseNorm]:
    return [m for m in model if isinstance(m, LocalResponseNorm)]


def _set_alpha(layer: LocalResponseNorm, alpha: float) -> None:
    fresh = LocalResponseNorm(layer.size, alpha, layer.beta, layer.k, mode=layer.mode,
                              convention=layer.convention)
    layer.alpha, layer.window = fresh.alpha, fresh.window


@torch.no_grad()
def lrn_inputs(model: nn.Sequential, images: torch.Tensor) -> list[torch.Tensor]:
    """What each LRN layer receives for ``images``, in order."""
    seen = []
    hooks = [m.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
             for m in lrn_layers(model)]
    try:
        model(images)
    finally:
        for h in hooks:
            h.remove()
    return seen


def scale(t: torch.Tensor) -> float:
    """The QUANTILE of |t| (of a subsample: torch.quantile takes at most 16M elements)."""
    flat = t.abs().flatten()
    return float(torch.quantile(flat[:: max(1, flat.numel() // 1_000_000)], QUANTILE))


@torch.no_grad()
def calibrate(model: nn.Sequential, config,
              images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Measure the scale q of each LRN layer's input on ``images`` and, with
    ``config.alpha_scaled``, set that layer's alpha to alpha * k / q^2, layer by layer (a
    layer's alpha changes what the next one sees). Returns the alphas in force and the
    scales."""
    alphas, scales = [], []
    for i, layer in enumerate(lrn_layers(model)):
        scales.append(max(scale(lrn_inputs(model, images)[i]), 1e-6))
        if config.alpha_scaled:
            _set_alpha(layer, config.alpha * config.k / scales[-1] ** 2)
        alphas.append(layer.alpha)
    return alphas, scales


def fold(alpha: float, beta: float, k: float) -> float:
    """The input beyond which a window of equal values gives a smaller output as it grows
    (alpha per element, as oneDNN divides it); inf where the output never falls."""
    if alpha <= 0 or beta <= 0.5:
        return math.inf
    return math.sqrt(k / (alpha * (2 * beta - 1)))


def response(x: torch.Tensor, alpha: float, beta: float, k: float) -> torch.Tensor:
    """y(x) for a window of equal values x (alpha per element): x (k + alpha x^2)^-beta."""
    return x * (k + alpha * x * x) ** -beta
