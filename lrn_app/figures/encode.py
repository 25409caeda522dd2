"""Arrays as images inside a figure: colour scales as lookup tables, PNG and JPEG data
addresses (a layout image costs the browser one decode where a heatmap costs a trace).
"""

from __future__ import annotations

import base64
import functools
import io

import numpy as np
import plotly.colors
from PIL import Image


def downsampled(z: np.ndarray, max_side: int) -> np.ndarray:
    """Every k-th pixel of the last two axes so that their long side is at most max_side
    (a panel a few hundred pixels wide shows no more, and the browser gets far less data)."""
    step = max(1, -(-max(z.shape[-2:]) // max_side))
    return z[..., ::step, ::step]


@functools.lru_cache(maxsize=8)
def colour_scale(name: str) -> tuple:
    """A named plotly colour scale as its stops, as plotly's validation writes it (plotly.js
    knows some names too, but with other colours); a tuple, as it is shared."""
    return tuple(map(tuple, plotly.colors.get_colorscale(name)))


@functools.lru_cache(maxsize=8)
def lookup_table(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 colours of a plotly colour scale."""
    colours = plotly.colors.sample_colorscale(colorscale, list(np.linspace(0, 1, 256)),
                                              colortype="tuple")
    return (
        (np.array(colours) * (255 if max(max(c) for c in colours) <= 1 else 1))
        .round()
        .astype(np.uint8)
    )


def png_source(image: np.ndarray, palette: np.ndarray | None = None,
                compress_level: int = 1) -> str:
    """A PNG data URL of a uint8 image: grey (H, W), RGB or RGBA (H, W, 3 or 4), or (H, W)
    indices into a (256, 3) ``palette``. A palette image of a colour-mapped map encodes in a
    third of the time of the same image in RGB, and comes out less than half the size."""
    image = Image.fromarray(image)
    if palette is not None:
        image.putpalette(palette.ravel().tolist())  # an "L" image with a palette is a "P" one
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)  # 1: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def jpeg_source(image: np.ndarray, quality: int = 90) -> str:
    """A JPEG data URL of a grey (H, W) uint8 image."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# Grey tiles this large are pictures of maps, where JPEG's error of a few grey levels does not
# show, and JPEG encodes them about ten times faster than PNG, on every slider move. Smaller
# tiles (kernels, filters) keep PNG: there each pixel counts.
JPEG_MIN_TILE = 64


def paired_png_source(left: np.ndarray, right: np.ndarray, gap: int) -> str:
    """Two maps of 0..126 side by side in one palette PNG, the left in Viridis (indices
    0..126), the right in Magma (127..253), white between: one image per frame is one image
    for the browser to decode and draw, and a palette PNG is several times smaller than RGB."""
    h, w = left.shape
    canvas = np.full((h, 2 * w + gap), 255, dtype=np.uint8)
    canvas[:, :w], canvas[:, w + gap:] = left, right + 127
    palette = np.concatenate([lookup_table("Viridis")[::2][:127],
                              lookup_table("Magma")[::2][:127], [[255, 255, 255]] * 2])
    return png_source(canvas, palette, compress_level=6)  # built once per view: size first


def quantised(stack: np.ndarray, low: float, high: float, levels: int = 127) -> np.ndarray:
    """Values mapped to 0..levels-1 on one range shared by the whole stack."""
    if high <= low:
        return np.zeros(stack.shape, dtype=np.uint8)
    return ((np.clip(stack, low, high) - low) / (high - low) * (levels - 1) + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def colour_bar_source(colorscale: str) -> str:
    """A vertical strip of a colour scale, its top the scale's high end."""
    return png_source(lookup_table(colorscale)[::-1, None, :].repeat(6, axis=1))


@functools.lru_cache(maxsize=1)
def dot_source() -> str:
    """A red dot on a transparent square, for the scrub view's current value."""
    side = 32
    yy, xx = np.mgrid[:side, :side]
    inside = (yy - (side - 1) / 2) ** 2 + (xx - (side - 1) / 2) ** 2 <= (side / 2 - 1) ** 2
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    rgba[inside] = (214, 39, 40, 255)
    return png_source(rgba)
