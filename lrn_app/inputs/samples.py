"""The built-in sample images: four photographs shipped in lrn_app/assets/samples (public domain
or CC0, see lrn_app/assets/samples/LICENSES.md) and four generated test patterns that make
LRN's effect plain."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lrn_app.inputs.images import decode_image

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "samples"

PHOTOS = {  # name -> (file, caption)
    "cat": ("cat.jpg", "Chelsea the cat (CC0)"),
    "coffee": ("coffee.jpg", "Coffee cup (CC0)"),
    "camera": ("camera.png", "Camera man, grey (CC0)"),
    "astronaut": ("astronaut.jpg", "Astronaut Eileen Collins (public domain, NASA)"),
}
PATTERNS = {
    "gratings": "Sine gratings, contrast rising left to right",
    "checkerboard": "Checkerboard",
    "spot": "A bright spot on a dim field",
    "noise": "Gaussian noise (fixed seed)",
}
SAMPLES = {**{k: v[1] for k, v in PHOTOS.items()}, **PATTERNS}  # name -> caption
DEFAULT_SAMPLE = "cat"


def load_sample(name: str, max_side: int = 256) -> np.ndarray:
    """A sample image as float32 in [0, 1], long side at most ``max_side``."""
    if name in PHOTOS:
        path = ASSETS / PHOTOS[name][0]
        return decode_image(path.read_bytes(), path.name, max_side)
    if name in PATTERNS:
        return _pattern(name, max_side)
    raise KeyError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")


def _pattern(name: str, side: int) -> np.ndarray:
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    if name == "gratings":
        # Horizontal bands of different spatial frequency; contrast grows with x.
        freq = np.where(y < 1 / 3, 8, np.where(y < 2 / 3, 16, 32))
        return 0.5 + 0.5 * x * np.sin(2 * np.pi * freq * x)
    if name == "checkerboard":
        return ((np.floor(x * 8) + np.floor(y * 8)) % 2).astype(np.float32)
    if name == "spot":
        spot = np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) / (2 * 0.04**2))
        return (0.1 + 0.05 * np.sin(2 * np.pi * 12 * x) + 0.85 * spot).astype(np.float32)
    rng = np.random.default_rng(0)  # noise
    return np.clip(0.5 + 0.2 * rng.standard_normal((side, side)), 0, 1).astype(np.float32)
