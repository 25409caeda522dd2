"""Driving the app through Streamlit's AppTest, as the app tests do: a page opened from an
address, and what it shows."""

import io

from PIL import Image
from streamlit.testing.v1 import AppTest

from tests import ROOT

APP = str(ROOT / "app.py")


def open_page(script: str, query: dict | None = None) -> AppTest:
    """app.py, switched to ``app_pages/<script>.py`` with ``query`` in its address, run once."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.switch_page(f"app_pages/{script}.py")
    return at.run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def percent(text: str) -> float:
    return float(text.rstrip("%"))


def messages(at: AppTest) -> str:
    return " ".join(m.value for m in list(at.warning) + list(at.info))


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    """A PNG file's bytes: a grey ramp, in ``mode``."""
    image = Image.new(mode, (width, height))
    image.paste(Image.linear_gradient("L").resize((width, height)).convert(mode))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
