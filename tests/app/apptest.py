"""Driving the app through Streamlit's AppTest, as the app tests do: a page opened from an
address, and what it shows."""

import io
import json

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


def release(at: AppTest, **settings) -> AppTest:
    """What releasing the Explorer's live sliders does (lrn_app.ui.live: the browser's
    ``released`` event sets the page's controls), then the rerun it starts."""
    for name, value in settings.items():
        at.session_state[f"x_{name}"] = value
    return at.run()


def live_data(at: AppTest, kind: str) -> dict | None:
    """The data the page sent to its live view of ``kind`` (sliders, panels, grid)."""
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        if data.get("kind") == kind:
            return data
    return None


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    """A PNG file's bytes: a grey ramp, in ``mode``."""
    image = Image.new(mode, (width, height))
    image.paste(Image.linear_gradient("L").resize((width, height)).convert(mode))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
