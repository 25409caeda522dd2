"""A batch of images for BatchNorm: every image the same square size, plus simple augmentations.

BatchNorm needs a batch, and a batch needs one shape, so each image is cropped to its
central square and resized to ``side`` x ``side``; grey images are repeated to RGB so
that the raw-colour feature source gives every image three channels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

AUGMENTATIONS = {  # name -> what it does (the label shown in the batch's thumbnails)
    "flip": "mirrored left-right",
    "crop": "central 60%, zoomed back",
    "brighter": "brightness x 1.5, clipped at white",
    "darker": "brightness x 0.5",
}
BATCH_MAX = 16  # images in one batch: 16 x 96 channels x 512^2 is already 1.6 GB of float32


def square(image: np.ndarray, side: int) -> np.ndarray:
    """The central square of a float [0, 1] image, resized to side x side, as RGB."""
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
    h, w = rgb.shape[:2]
    edge = min(h, w)
    top, left = (h - edge) // 2, (w - edge) // 2
    crop = rgb[top:top + edge, left:left + edge]
    return _resize(crop, side)


def _resize(rgb: np.ndarray, side: int) -> np.ndarray:
    channels = [Image.fromarray(np.ascontiguousarray(rgb[..., c], dtype=np.float32), mode="F")
                .resize((side, side), Image.Resampling.BILINEAR) for c in range(3)]
    return np.clip(np.stack([np.asarray(c) for c in channels], axis=2), 0.0, 1.0).astype(np.float32)


def member(image: np.ndarray, side: int, augmentation: str | None = None) -> np.ndarray:
    """A batch member as the batch pages build it: the image's central square at side x side,
    then its augmentation, if any."""
    square_image = square(image, side)
    return augment(square_image, augmentation) if augmentation else square_image


def augment(image: np.ndarray, name: str) -> np.ndarray:
    """One of AUGMENTATIONS applied to a square RGB image (the size is kept)."""
    if name == "flip":
        return np.ascontiguousarray(image[:, ::-1])
    if name == "crop":
        side = image.shape[0]
        margin = round(side * 0.2)
        return _resize(image[margin:side - margin, margin:side - margin], side)
    if name == "brighter":
        return np.clip(image * 1.5, 0.0, 1.0)
    if name == "darker":
        return image * 0.5
    raise ValueError(f"unknown augmentation {name!r}; choose one of {', '.join(AUGMENTATIONS)}")


def batch_labels(images: list[str], augmentations: list[str]) -> list[str]:
    """The batch's members: each image, then each image under each augmentation."""
    return list(images) + [f"{image} ({aug})" for aug in augmentations for image in images]


def split_label(label: str) -> tuple[str, str | None]:
    """'cat (flip)' -> ('cat', 'flip'); 'cat' -> ('cat', None)."""
    if label.endswith(")") and " (" in label:
        image, aug = label[:-1].rsplit(" (", 1)
        if aug in AUGMENTATIONS:
            return image, aug
    return label, None


def relative_change(a: np.ndarray, b: np.ndarray) -> float:
    """How much a swap of batch-mates changed one image's result ``a`` (now ``b``):
    max |a - b| relative to max |a| (when a is all zero: 1 if b is not, else 0)."""
    scale = float(np.abs(a).max())
    return float(np.abs(a - b).max()) / scale if scale > 0 else float(np.any(b != 0))
