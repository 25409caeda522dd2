"""The live view: LRN's sliders and the figures they drive, drawn by the browser while a
slider moves (static/live/view.js, an ``st.components.v2`` component).

A Streamlit slider sends its value only when released, so nothing moves while a student
drags it. Here the page sends, once per image and mode (or output), what the browser needs
to compute the figures itself (lrn_app.compute.live), with the figures as the server draws
them, less what the settings change; the browser redraws them on every ``input`` event and,
on release, hands the settings back once: ``released`` sets the page's controls, and the
page reruns as after any control.

The views of one page share its settings: ``sliders`` (which bring the pack), ``panels`` (a
row of one channel's maps), ``grid`` (every channel) and ``jacobian`` (one output's row).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import streamlit as st

from lrn_app.compute import live
from lrn_app.figures import encode, look, maps
from lrn_app.figures.encode import downsampled
from lrn_app.serving.static import PLOTLY_JS_URL
from lrn_app.state import BETA_MAX, K_MAX, alpha_choices, limits
from lrn_app.ui import session, widgets
from lrn_app.ui.session import PageState

# Loads the view's module from this server once per page; every rerun calls it again.
_BOOT = """
let module = null;
export default function (args) {
  module = module || import(new URL("/app/static/live/view.js", window.location.origin).href);
  module.then((m) => m.render(args));
}
"""
# Streamlit's slider look: a thin grey track, red up to a red thumb, the value in red.
_CSS = """
.live-view {container-type: inline-size;}
.live-sliders {display: grid; grid-template-columns: repeat(4, 1fr); gap: 1.5rem;
               padding: 0.25rem 0 0.75rem;}
/* two to a row in a narrow column (LRN vs BatchNorm's): a slider of 41 stops stays wide */
@container (max-width: 40rem) {.live-sliders {grid-template-columns: repeat(2, 1fr);}}
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
    """The figure as the browser's view gets it: without its datarevision, a digest of its
    data, which the settings change (the view sets its own on each frame)."""
    if session.presenting():
        look.enlarge_text(figure, widgets.PRESENT_FONT)
    figure = json.loads(figure.to_json())
    figure["layout"].pop("datarevision", None)
    return figure


def _settings(state) -> dict:
    """The settings the live sliders hold, as the browser reads and sends them."""
    return dict(n=state.n, k=state.k, alpha=state.alpha, beta=state.beta)


def _apply(page: PageState, key: str) -> None:
    """A slider released: its settings become the page's controls (then the page reruns).
    They come from the browser, so they are checked like a hand-edited address
    (lrn_app.compute.live.released: numbers only, within the sliders' ranges)."""
    state = live.released(page.get(), (st.session_state.get(key) or {}).get("released"))
    if state is not None:
        page.set(state)


def pack_id(features: np.ndarray, *names) -> str:
    """What names a pack: the features' bytes, and what else it was made for (the mode, the
    convention, and within a channel the size its S holds; the output a Jacobian is of)."""
    digest = hashlib.blake2b(features.tobytes(), digest_size=8).hexdigest()
    return ":".join(map(str, (digest, *names)))


def sliders(page: PageState, channels: int, pack: str, make_pack: Callable[[], dict]) -> None:
    """n, k, α and β as live sliders, with the ranges the convention allows for ``channels``.
    The page's pack (``make_pack()``, lrn_app.compute.live) goes to the browser once per
    ``pack`` id in a session; the browser keeps it."""
    state = page.get()
    lim = limits(state.convention, state.mode, channels)
    key = page.prefix + "live"
    new = st.session_state.get(key + "_pack") != pack
    st.session_state[key + "_pack"] = pack
    packed = make_pack() if new else {}
    # binary, not JSON: Streamlit sends a table at the data's first level as Arrow
    arrays = {f"pack_{name}": pa.table({"v": packed.pop(name)})
              for name in [n for n, v in packed.items() if isinstance(v, np.ndarray)]}
    _VIEW(key=key, on_released_change=lambda: _apply(page, key), data=dict(
        kind="sliders", page=page.prefix, pack_id=pack,
        pack=dict(packed, arrays=[name[5:] for name in arrays]) if new else None, **arrays,
        settings=_settings(state),
        sliders=dict(
            n=dict(label=f"n ({lim.size_name})", min=lim.n_min, max=lim.n_max,
                   step=lim.n_step),
            k=dict(label="k", min=lim.k_min, max=K_MAX, step=0.01, digits=2),
            alpha=dict(label="α (log scale)", values=alpha_choices(state.alpha), format=True),
            beta=dict(label="β", min=lim.beta_min, max=BETA_MAX, step=0.01, digits=2))))


def _common(page: PageState, pack: str) -> dict:
    return dict(page=page.prefix, pack_id=pack, plotly=PLOTLY_JS_URL, config=widgets.PLOT,
                settings=_settings(page.get()))


def _without_pictures(figure: dict, which: list[int]) -> dict:
    """The figure with its layout images ``which`` left out: the browser paints them from
    the pack, so they need not travel."""
    for i in which:
        figure["layout"]["images"][i]["source"] = ""
    return figure


def panels(page: PageState, shown: dict[str, np.ndarray], channel: int, pack: str,
           parts: dict[str, str], titles: dict[str, str] | None = None) -> None:
    """A row of one channel's maps (figures.maps.panels_row): ``shown`` (C, H, W) maps as the
    server has them at the page's settings, by panel; ``parts`` names the panels the browser
    redraws live and the part of LRN each shows (lrn.js ``parts``: input, S, denominator,
    output, gain). The others keep the server's picture until the page reruns."""
    side = live.figure_side(shown[next(iter(shown))].shape, page.get().mode)
    names = list(shown)
    zs = {name: downsampled(m[channel], side) for name, m in shown.items()}
    figure = _json(maps.panels_row(zs, max_side=side, titles=titles))
    # the maps' pictures (even images; odd ones are colour bars) and labels: drawn live
    _without_pictures(figure, [2 * names.index(name) for name in parts])
    labels = figure["data"][0]
    sizes = labels["textfont"].pop("size")  # a colour bar's label's, then a title's
    sizes = sizes if isinstance(sizes, list) else [sizes]
    for field in ("text", "x", "y", "textposition"):  # one per label: as many as the ticks
        labels.pop(field, None)
    _VIEW(key=page.prefix + "live_panels", data=dict(
        _common(page, pack), kind="panels", channel=channel, figure=figure, panel_names=names,
        live=parts, titles=titles or maps.TITLES, titles_at=look.TITLES_AT,
        fixed={name: [float(z.min()), float(z.max())] for name, z in zs.items()
               if name not in parts},
        label_size=sizes[0], title_size=sizes[-1],
        luts={name: encode.lookup_table(name).ravel().tolist() for name in ("Viridis", "Magma")}))


def grid(page: PageState, stack: np.ndarray, name: str, per_channel: bool, title: str,
         pack: str) -> None:
    """Every channel's ``name`` map (a part of LRN, as in ``panels``) in one figure, redrawn
    live; ``stack`` is the server's, at the page's settings."""
    side = live.figure_side(stack.shape, page.get().mode)
    figure = maps.channel_grid(stack, per_channel, title, max_side=side)
    _VIEW(key=page.prefix + "live_grid", data=dict(
        _common(page, pack), kind="grid", map=name, per_channel=per_channel, wrap=8,
        figure=_without_pictures(_json(figure), [0])))


def jacobian(page: PageState, figure, pack: str) -> None:
    """One output's Jacobian row (figures.charts.jacobian_bars across channels, or
    maps.jacobian_heatmap within one, its title with "{centre}" where the centre's value
    goes), redrawn live from a jacobian_pack; ``figure`` is the server's at the page's
    settings."""
    figure = _json(figure)
    trace = figure["data"][0]
    for field in ("x", "y", "z", "zmin", "zmax"):  # what the settings change: drawn live
        trace.pop(field, None)
    trace.get("marker", {}).pop("color", None)
    _VIEW(key=page.prefix + "live_jacobian", data=dict(
        _common(page, pack), kind="jacobian", figure=figure))
