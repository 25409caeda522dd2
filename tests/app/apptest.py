"""Driving the app through Streamlit's AppTest, as the app tests do: a page opened from an
address, and what it shows."""

import io
import json

import pyarrow as pa
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


def release(at: AppTest, prefix: str = "x_", **settings) -> AppTest:
    """What releasing a page's live sliders does (lrn_app.ui.live: the browser's ``released``
    event sets the page's controls; ``prefix``: the page's keys, the Explorer's by default),
    then the rerun it starts."""
    for name, value in settings.items():
        at.session_state[f"{prefix}{name}"] = value
    return at.run()


def live_data(at: AppTest, kind: str) -> dict | None:
    """The data the page sent to its live view of ``kind`` (sliders, panels, grid)."""
    for element in at.get("bidi_component"):
        proto = element.proto  # JSON, or JSON beside Arrow tables (the sliders' pack)
        data = json.loads(proto.json or proto.mixed.json)
        if data.get("kind") == kind:
            return data
    return None


def live_pack(at: AppTest) -> dict:
    """The pack the page sent with its live sliders, its arrays read back from Arrow."""
    for element in at.get("bidi_component"):
        mixed = element.proto.mixed
        data = json.loads(mixed.json or element.proto.json)
        if data.get("kind") == "sliders" and data.get("pack"):
            pack = dict(data["pack"])
            for name in pack["arrays"]:
                blob = mixed.arrow_blobs[data[f"pack_{name}"]["__streamlit_arrow_ref__"]].data
                pack[name] = pa.ipc.open_stream(blob).read_all().column("v").to_numpy().copy()
            return pack
    raise AssertionError("the page sent no pack")


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    """A PNG file's bytes: a grey ramp, in ``mode``."""
    image = Image.new(mode, (width, height))
    image.paste(Image.linear_gradient("L").resize((width, height)).convert(mode))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
