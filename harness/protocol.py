"""A client that speaks Streamlit's websocket protocol, as a browser's page does: it opens a
page, finds its widgets and moves a slider, without a browser's CPU on the machine.
Used by the classroom (harness.classroom) and to warm a cluster's replicas (deploy/cluster.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

PAGES = ("explorer", "gradients", "compare", "conventions")
SLIDER_LABEL = "α (log scale)"


@dataclass
class Widget:
    id: str
    fragment_id: str
    options: list  # a slider's values (strings for Streamlit's, numbers for the live view's)
    index: int
    settings: dict | None = None  # the live view's settings: it is moved by its release event


# How the frontend names a component's trigger events (streamlit's _make_trigger_id).
_TRIGGERS = "$$STREAMLIT_INTERNAL_KEY_{}__events"


class Session:
    """A Streamlit session over its websocket: run the script, read the page it draws."""

    def __init__(self, ws, page: str, timeout: float):
        self.ws, self.page, self.timeout = ws, page, timeout
        self.query_string = ""
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}  # label -> slider or button
        self.exceptions: list[str] = []

    async def run(self, states: list | None = None, fragment_id: str = "") -> float:
        """Ask for a rerun (the first one opens the page); wait for it to finish. Returns its
        seconds; raises TimeoutError or a websockets error."""
        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query_string
        client.page_name = self.page
        client.page_script_hash = self.page_hash
        if fragment_id:
            client.fragment_id = fragment_id
        for state in states or []:
            client.widget_states.widgets.append(state)
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        async with asyncio.timeout(self.timeout):
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await self.ws.recv())
                kind = forward.WhichOneof("type")
                if kind == "navigation":  # the page now shown (st.navigation's pages)
                    self.page_hash = forward.navigation.page_script_hash
                elif kind == "page_info_changed":
                    self.query_string = forward.page_info_changed.query_string
                elif kind == "delta":
                    self._read(forward.delta)
                elif kind == "script_finished" and forward.script_finished in (
                        ForwardMsg.FINISHED_SUCCESSFULLY,
                        ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
                        ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    return time.perf_counter() - started

    def _read(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "slider":
            s = element.slider
            options = list(s.options)
            # Its value: the one the script set (raw_value), else its default index.
            if s.set_value and s.raw_value and s.raw_value[0] in options:
                index = options.index(s.raw_value[0])
            else:
                index = int(s.default[0]) if s.default else 0
            old = self.widgets.get(s.label)
            if old is None or old.id != s.id or s.set_value:
                self.widgets[s.label] = Widget(s.id, delta.fragment_id, options, index)
        elif kind == "bidi_component" and (element.bidi_component.json
                                           or element.bidi_component.mixed.json):
            # JSON, or JSON beside Arrow tables (the sliders' view when it brings its pack)
            data = json.loads(element.bidi_component.json or element.bidi_component.mixed.json)
            if data.get("kind") == "sliders":  # the live view's sliders (lrn_app/ui/live.py)
                spec = data["sliders"]["alpha"]
                settings = data["settings"]
                self.widgets[spec["label"]] = Widget(
                    _TRIGGERS.format(element.bidi_component.id), delta.fragment_id,
                    spec["values"], spec["values"].index(settings["alpha"]), settings)
        elif kind == "button":
            self.widgets[element.button.label] = Widget(element.button.id, delta.fragment_id,
                                                        [], 0)


def connect(url: str, timeout: float):
    """A websocket to the app's stream, as its browser page opens one."""
    stream = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    return websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                              open_timeout=timeout)


def move_state(widget: Widget):
    """The slider one step along its options (back at the ends), as the browser sends it:
    a Streamlit slider's new value, or the live view's release with its settings."""
    if widget.index + 1 >= len(widget.options):
        widget.index -= 1
    elif widget.index == 0 or random.random() < 0.5:
        widget.index += 1
    else:
        widget.index -= 1
    state = WidgetState(id=widget.id)
    if widget.settings is not None:
        widget.settings = {**widget.settings, "alpha": widget.options[widget.index]}
        state.json_trigger_value = json.dumps([{"event": "released", "value": widget.settings}])
    else:
        state.string_array_value.data.append(widget.options[widget.index])
    return state


async def _open(url: str, page: str, timeout: float) -> list[str]:
    async with connect(url, timeout) as ws:
        session = Session(ws, page, timeout)
        await session.run()
        return session.exceptions


def warm(url: str, pages=PAGES, timeout: float = 120.0) -> list[str]:
    """Open each page once, one after the other, so that a new server's first students do
    not pay for its first runs (imports, caches, plotly's templates); the exceptions seen."""
    return [e for page in pages for e in asyncio.run(_open(url, page, timeout))]
