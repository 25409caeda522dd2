"""Uploads: every odd file gets a clear message or a sensible image, never a traceback."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from lrn_app.inputs.images import ImageError, decode_image
from lrn_app.inputs.samples import SAMPLES, load_sample


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def gradient(mode: str = "RGB", size=(64, 32)) -> Image.Image:
    """A colour image (red rises downwards, green rightwards), or its grey ramp for "L"."""
    down = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return down
    across = Image.linear_gradient("L").rotate(90).resize(size)
    return Image.merge("RGB", [down, across, Image.new("L", size, 128)]).convert(mode)


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"hello, I am text in a .png", "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not an image"),
    (b"<html><body>hi</body></html>", "not an image"),
])
def test_non_images_are_refused_clearly(data, message):
    with pytest.raises(ImageError, match=message):
        decode_image(data, "upload.png")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused_clearly(fmt):
    data = encode(gradient(size=(300, 200)), fmt)
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2], f"cut.{fmt.lower()}")


def test_decompression_bomb_is_refused_before_decoding():
    # A valid PNG header claiming 100000 x 100000 pixels, in a few hundred bytes.
    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    assert len(data) < 2000
    with pytest.raises(ImageError, match="megapixels|not an image"):
        decode_image(data, "bomb.png")


def test_large_images_are_downscaled():
    array = decode_image(encode(gradient(size=(3000, 1500)), "JPEG"), "big.jpg", max_side=256)
    assert array.shape == (128, 256, 3) and array.dtype == np.float32


@pytest.mark.parametrize("mode, expected_ndim", [
    ("RGB", 3), ("L", 2), ("P", 3), ("RGBA", 3), ("LA", 2), ("CMYK", 3), ("1", 2),
])
def test_every_mode_becomes_grey_or_rgb_in_unit_range(mode, expected_ndim):
    image = (
        gradient("RGB").convert(mode)
        if mode not in ("L", "LA", "1")
        else gradient("L").convert(mode)
    )
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    array = decode_image(encode(image, fmt), f"x.{fmt.lower()}")
    assert array.ndim == expected_ndim and array.shape[:2] == (32, 64)
    assert 0.0 <= array.min() and array.max() <= 1.0 and np.isfinite(array).all()


def test_sixteen_bit_png_keeps_its_range():
    values = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    array = decode_image(encode(Image.fromarray(values), "PNG"), "deep.png")
    assert array.ndim == 2 and array.max() == pytest.approx(1.0) and array.min() == 0.0


def test_transparent_pixels_show_as_white():
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red
    array = decode_image(encode(image, "PNG"), "clear.png")
    np.testing.assert_allclose(array, 1.0)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("L", (16, 16), v) for v in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    array = decode_image(buffer.getvalue(), "anim.gif")
    assert array.ndim == 2 and abs(float(array.mean()) - 10 / 255) < 0.02


def test_exif_orientation_is_honoured():
    image = gradient(size=(64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    array = decode_image(encode(image, "JPEG", exif=exif.tobytes()), "phone.jpg")
    assert array.shape[:2] == (64, 32)  # displayed upright: taller than wide


@pytest.mark.parametrize("fmt", ["WEBP", "BMP", "TIFF"])
def test_other_formats(fmt):
    array = decode_image(encode(gradient(), fmt), f"x.{fmt.lower()}")
    assert array.shape == (32, 64, 3)


def test_every_sample_loads():
    for name in SAMPLES:
        image = load_sample(name, 96)
        assert max(image.shape[:2]) == 96 and 0 <= image.min() and image.max() <= 1
