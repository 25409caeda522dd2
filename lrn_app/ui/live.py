"""The live view: LRN's sliders and the figures they drive, drawn by the browser while a
slider moves (static/live/explorer.js, an ``st.components.v2`` component).

A Streamlit slider sends its value only when released, so nothing moves while a student
drags it. Here the page sends, once per image and mode, what the browser needs to compute
the figures itself (lrn_app.compute.live), with the figures as the server draws them; the
browser redraws them on every ``input`` event and, on release, hands the settings back once:
``released`` sets the page's controls, and the page reruns as after any control.

Three views share one page's settings: ``sliders``, ``panels`` (the one-channel panel row)
and ``grid`` (every channel). The pack travels with the sliders' view only.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import streamlit as st

from lrn_app.compute import live
from lrn_app.figures import encode, look, maps
from lrn_app.serving.static import PLOTLY_JS_URL
from lrn_app.state import BETA_MAX, K_MAX, alpha_choices, limits
from lrn_app.ui import session, widgets
from lrn_app.ui.session import PageState

# Loads the view's module from this server once per page; every rerun calls it again.
_BOOT = """
let module = null;
export default function (args) {
  module = module || import(new URL("/app/static/live/explorer.js", window.location.origin).href);
  module.then((m) => m.render(args));
}
"""
# Streamlit's slider look: a thin grey track, red up to a red thumb, the value in red.
_CSS = """
.live-sliders {display: grid; grid-template-columns: repeat(4, 1fr); gap: 1.5rem;
               padding: 0.25rem 0 0.75rem;}
.live-slider {display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem;
              font-size: 0.875rem; color: #31333f;}
.live-value {color: #ff4b4b; font-variant-numeric: tabular-nums;}
.live-slider input {flex-basis: 100%; margin: 0.6rem 0 0; height: 4px; border-radius: 2px;
  appearance: none; -webkit-appearance: none; cursor: pointer;
  background: linear-gradient(to right, #ff4b4b var(--fill, 0%), #e6eaf1 var(--fill, 0%));}
.live-slider input::-webkit-slider-thumb {-webkit-appearance: none; width: 16px; height: 16px;
  border-radius: 50%; background: #ff4b4b; border: none;}
.live-slider input::-moz-range-thumb {width: 16px; height: 16px; border-radius: 50%;
  background: #ff4b4b; border: none;}
.live-slider input:focus-visible {outline: 2px solid #ff4b4b66; outline-offset: 4px;}
"""
_VIEW = st.components.v2.component("lrn_live", html='<div class="live-view"></div>', js=_BOOT,
                                   css=_CSS, isolate_styles=False)


def _json(figure) -> dict:
    if session.presenting():
        look.enlarge_text(figure, widgets.PRESENT_FONT)
    return json.loads(figure.to_json())


def _apply(page: PageState, key: str) -> None:
    """A slider released: its settings become the page's controls (then the page reruns).
    They come from the browser, so they are checked like a hand-edited address
    (lrn_app.compute.live.released: numbers only, within the sliders' ranges)."""
    state = live.released(page.get(), (st.session_state.get(key) or {}).get("released"))
    if state is not None:
        page.set(state)


def pack_id(features: np.ndarray, state) -> str:
    """What names a pack: the features' bytes, the mode, the convention, and within a channel
    the size (its S is packed)."""
    digest = hashlib.blake2b(features.tobytes(), digest_size=8).hexdigest()
    return f"{digest}:{state.mode}:{state.convention}" + (
        f":{state.n}" if state.mode == "within" else "")


def sliders(page: PageState, features: np.ndarray, pack: str) -> None:
    """n, k, α and β as live sliders, with the ranges the convention allows. The pack goes
    to the browser once per ``pack`` id in a session; the browser keeps it."""
    state = page.get()
    lim = limits(state.convention, state.mode, features.shape[0])
    key = page.prefix + "live"
    new = st.session_state.get(key + "_pack") != pack
    st.session_state[key + "_pack"] = pack
    _VIEW(key=key, on_released_change=lambda: _apply(page, key), data=dict(
        kind="sliders", page=page.prefix, pack_id=pack,
        pack=live.pack(features, state) if new else None,
        settings=dict(n=state.n, k=state.k, alpha=state.alpha, beta=state.beta),
        sliders=dict(
            n=dict(label=f"n ({lim.size_name})", min=lim.n_min, max=lim.n_max,
                   step=lim.n_step),
            k=dict(label="k", min=lim.k_min, max=K_MAX, step=0.01, digits=2),
            alpha=dict(label="α (log scale)", values=alpha_choices(state.alpha), format=True),
            beta=dict(label="β", min=lim.beta_min, max=BETA_MAX, step=0.01, digits=2))))


def _common(page: PageState, pack: str) -> dict:
    state = page.get()
    return dict(page=page.prefix, pack_id=pack, plotly=PLOTLY_JS_URL, config=widgets.PLOT,
                settings=dict(n=state.n, k=state.k, alpha=state.alpha, beta=state.beta))


def panels(page: PageState, shown: dict, channel: int, pack: str) -> None:
    """The one-channel panel row, redrawn live; ``shown`` are the server's maps at the
    page's settings, drawn first."""
    figure = _json(maps.panels_row({p: shown[p][channel] for p in maps.PANELS}))
    sizes = figure["data"][0]["textfont"]["size"]  # presentation mode's, where it is on
    sizes = sizes if isinstance(sizes, list) else [sizes]
    _VIEW(key=page.prefix + "live_panels", data=dict(
        _common(page, pack), kind="panels", channel=channel, panels=figure,
        panel_names=list(maps.PANELS), titles=maps.TITLES, titles_at=look.TITLES_AT,
        label_size=sizes[0], title_size=sizes[-1],
        luts={name: encode.lookup_table(name).ravel().tolist() for name in ("Viridis", "Magma")}))


def grid(page: PageState, stack: np.ndarray, name: str, per_channel: bool, title: str,
         pack: str) -> None:
    """Every channel's ``name`` map in one figure, redrawn live."""
    figure = maps.channel_grid(stack, per_channel, title)
    _VIEW(key=page.prefix + "live_grid", data=dict(
        _common(page, pack), kind="grid", map=name, per_channel=per_channel, wrap=8,
        grid=_json(figure)))
