"""Images in: decode what users upload into float arrays, safely and sensibly.

Every image becomes a float32 array in [0, 1], (H, W) for grey or (H, W, 3) for colour,
with its long side at most ``max_side``. Files are only ever decoded as images.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "MPO")  # MPO: phone JPEGs
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif"]
# Refused before decoding: a few KB of PNG can claim gigapixels (a decompression bomb).
MAX_PIXELS = 50_000_000


class ImageError(ValueError):
    """An upload that is not a usable image; the message is meant for the user."""


def decode_image(data: bytes, name: str = "image", max_side: int = 256) -> np.ndarray:
    """Decode ``data`` (any supported format and mode) into a float32 array in [0, 1]."""
    if not data:
        raise ImageError(f"{name}: the file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: not an image this app can read "
                         f"({', '.join(UPLOAD_TYPES)}).") from None
    if image.format not in FORMATS:
        raise ImageError(f"{name}: {image.format} files are not supported "
                         f"({', '.join(UPLOAD_TYPES)}).")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: {width} x {height} pixels is more than this app decodes "
                         f"({MAX_PIXELS // 1_000_000} megapixels).")
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image has no pixels.")
    try:
        image.seek(0)  # animated GIF, multi-page TIFF: the first frame
        if image.format == "JPEG":  # decode big JPEGs at a reduced scale: much faster
            image.draft(image.mode, (2 * max_side, 2 * max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        array = _to_float_array(image)
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(f"{name}: the file is truncated or corrupt ({err}).") from None
    return resize_long_side(array, max_side)


def _to_float_array(image: Image.Image) -> np.ndarray:
    """Any PIL mode to grey (H, W) or RGB (H, W, 3), float32 in [0, 1]."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):  # 16-bit (or 32-bit int) grey
        array = np.asarray(image, dtype=np.float32)
        return np.clip(array / (65535.0 if array.max() > 255 else 255.0), 0, 1)
    if mode == "F":  # float grey: stretch its range
        array = np.nan_to_num(np.asarray(image, dtype=np.float32))
        span = float(array.max() - array.min())
        return (array - array.min()) / span if span > 0 else np.zeros_like(array)
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or (mode == "P" and "transparency" in image.info):
        # Transparent pixels over white, as a viewer shows them.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0  # P, CMYK, YCbCr, LAB...
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return rgb[..., 0].copy()  # a grey image stored as colour
    return rgb


def resize_long_side(array: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale (never upscale) so that the long side is at most ``max_side``, antialiased."""
    height, width = array.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return np.ascontiguousarray(array, dtype=np.float32)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    t = t.unsqueeze(0).unsqueeze(0) if t.dim() == 2 else t.permute(2, 0, 1).unsqueeze(0)
    t = F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)
    t = t.clamp_(0, 1)[0]
    return (t[0] if array.ndim == 2 else t.permute(1, 2, 0)).contiguous().numpy()
