"""A small image-classification data set drawn procedurally: nothing to download.

Six classes of grey shapes, each at a random position, size, rotation and contrast,
on a random background level with Gaussian noise:

    circle, ring, square, triangle, cross, bar

Shapes are drawn from signed distances ``d`` (negative inside) with a one-pixel soft
edge, ``mask = clamp(0.5 - d, 0, 1)``; the image is ``background + contrast * mask +
noise``. The splits are fixed by their seeds (train 0, validation 1, test 2), so every run,
in the app or from the command line, sees the same images.
"""

from __future__ import annotations

import math

import torch

CLASSES = ("circle", "ring", "square", "triangle", "cross", "bar")
TRAIN_SEED, VAL_SEED, TEST_SEED = 0, 1, 2


def _signed_distances(u: torch.Tensor, v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """(classes, N, S, S) signed distance of each pixel to each class's shape of size r,
    in the shape's own rotated coordinates (u, v), in pixels."""
    w = 0.3 * r  # stroke half-width of the ring, cross and bar
    radius = torch.sqrt(u * u + v * v)
    circle = radius - r
    ring = (radius - 0.75 * r).abs() - 0.5 * w
    square = torch.maximum(u.abs(), v.abs()) - 0.8 * r
    # An equilateral triangle: the largest of three half-plane distances.
    triangle = torch.stack([u * math.cos(a) + v * math.sin(a)
                            for a in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3,
                                      math.pi / 2 + 4 * math.pi / 3)]).amax(0) - 0.5 * r
    cross = torch.minimum(torch.maximum(u.abs() - w, v.abs() - r),
                          torch.maximum(u.abs() - r, v.abs() - w))
    bar = torch.maximum(u.abs() - r, v.abs() - w)
    return torch.stack([circle, ring, square, triangle, cross, bar])


def make_shapes(count: int, size: int = 32, seed: int = TRAIN_SEED,
                noise: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` images (count, 1, size, size) float32 in about [0, 1.3], and their labels
    (count,) int64, balanced over CLASSES and shuffled."""
    g = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float) -> torch.Tensor:
        return (low + (high - low) * torch.rand(count, 1, 1, generator=g))

    labels = (torch.arange(count) % len(CLASSES))[torch.randperm(count, generator=g)]
    r = uniform(0.18, 0.32) * size
    cy, cx = uniform(0.35, 0.65) * size, uniform(0.35, 0.65) * size
    angle = uniform(0.0, 2 * math.pi)
    rows, cols = torch.meshgrid(torch.arange(size, dtype=torch.float32) + 0.5,
                                torch.arange(size, dtype=torch.float32) + 0.5, indexing="ij")
    dy, dx = rows - cy, cols - cx
    u = dx * torch.cos(angle) + dy * torch.sin(angle)
    v = -dx * torch.sin(angle) + dy * torch.cos(angle)
    d = _signed_distances(u, v, r)[labels, torch.arange(count)]
    mask = (0.5 - d).clamp(0.0, 1.0)
    background, contrast = uniform(0.0, 0.3), uniform(0.4, 1.0)
    images = background + contrast * mask + noise * torch.randn(count, size, size, generator=g)
    return images[:, None].float(), labels
