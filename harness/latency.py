"""A slider move timed in Chromium, from the key press to the page's last change, with the
server's and the browser's CPU per move; and a scrub view's step, timed in the page.

Used by benchmarks/app_latency.py (its docstring says what each figure means) and by the
browser tests, which check that it still finds what it times.
"""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass
from pathlib import Path

from harness.browser import (
    ROOT,
    app_server,
    browser_page,
    browser_pids,
    cpu_seconds,
    jacobian_scrub_frame,
    open_page,
    panel_update,
    scrub_figure_image,
    slider,
    wait_for_app,
    wait_for_panel_update,
)

# page -> (figures to wait for when opening it, target key press to last change in ms,
#          target server CPU per move in ms): issue 11's targets. Last, the Explorer with its
#          α scrub view open, which moving α must not rebuild (no target of its own).
PAGES = {"explorer": (2, 250, 60), "gradients": (4, 350, 120), "compare": (4, 350, 120),
         "conventions": (2, 350, 120), "explorer?scrub=alpha": (3, "", "")}
START = "alpha=1e-06"  # the slider's lowest non-zero stop: → gives a new value each time


def address(url: str, path: str) -> str:
    """A page's address at START (after the page's own query, if it has one)."""
    return f"{url}/{path}{'&' if '?' in path else '?'}{START}"

_OBSERVE = """() => {
    if (window.__observing) return;
    window.__observing = true;
    window.__lastChange = performance.now();
    window.__keyAt = 0;
    new MutationObserver(() => { window.__lastChange = performance.now(); }).observe(
        document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    document.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, true);
}"""
_SETTLED = """quiet => performance.now() - window.__lastChange > quiet
                     && !document.querySelector('[data-testid="stStatusWidget"]')"""


def browser_cpu_seconds() -> float:
    """CPU time so far of all of Chromium's processes (not Playwright's driver: that is the
    benchmark's own work, not the laptop's)."""
    total = 0.0
    for pid in browser_pids():
        try:
            total += cpu_seconds(pid)
        except OSError:  # ended meanwhile
            continue
    return total


@dataclass
class Moves:
    latency_ms: list[float]  # key press to the last change of the page
    reported_ms: list[float]  # the server compute the page's caption reports
    cpu_ms_per_move: float  # the server process's CPU time per move
    browser_cpu_ms_per_move: float = float("nan")  # all of Chromium's processes, per move


def measure(page, moves: int, pid: int | None = None, slider_label: str = "α (log scale)",
            quiet_ms: int = 500) -> Moves:
    """Press → on a slider ``moves`` times; time each move to the page's last change."""
    page.evaluate(_OBSERVE)
    thumb = slider(page, slider_label)
    latencies, reported = [], []
    cpu_before = cpu_seconds(pid) if pid else 0.0
    browser_before = browser_cpu_seconds()
    for _ in range(moves):
        before, _ = panel_update(page)
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_for_panel_update(page, before)
        page.wait_for_function(_SETTLED, arg=quiet_ms, polling=50, timeout=60_000)
        latencies.append(page.evaluate("() => window.__lastChange - window.__keyAt"))
        reported.append(panel_update(page)[1])
    cpu = (cpu_seconds(pid) - cpu_before) / moves * 1e3 if pid else float("nan")
    return Moves(latencies, reported, cpu, (browser_cpu_seconds() - browser_before) / moves * 1e3)


def measure_server(url: str, pid: int, path: str, charts: int, moves: int) -> Moves:
    with browser_page(1600, 1000) as page:
        open_page(page, address(url, path), charts=charts)
        measure(page, 2)  # warm-up: the first moves of a page load code and fill caches
        return measure(page, moves, pid)


# Each page's scrub view: its address, the key of its chart, how many charts the page draws
# with it open, and a script that tells its frames apart.
SCRUB_VIEWS = {"Explorer": ("explorer?scrub=alpha", "scrub_view", 3, scrub_figure_image),
               "Gradients": ("gradients?scrub=alpha", "jacobian_scrub", 5, jacobian_scrub_frame)}

_SCRUB_TIMER = """key => {
    const figure = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    window.__scrub = {down: 0, drawn: 0};
    figure.addEventListener('mousedown', () => { window.__scrub.down = performance.now(); }, true);
    // the last change of the figure after the click, then the next painted frame
    new MutationObserver(() => requestAnimationFrame(() => {
        window.__scrub.drawn = performance.now(); })).observe(
        figure, {subtree: true, childList: true, attributes: true});
}"""


def scrub_steps(url: str, steps: int, view: str = "Explorer") -> list[float]:
    """Milliseconds from the mouse-down of a click on a step of a scrub view's plotly slider
    to the frame painted after the figure's last change, timed inside the page."""
    address, key, charts, frame = SCRUB_VIEWS[view]
    with browser_page(1600, 1000) as page:
        open_page(page, f"{url}/{address}", charts=charts)
        figure = page.locator(f".st-key-{key} .js-plotly-plot")
        figure.scroll_into_view_if_needed()
        page.evaluate(_SCRUB_TIMER, key)
        ticks = figure.locator("rect.slider-tick-rect")
        rail = figure.locator("rect.slider-rail-touch-rect").bounding_box()
        count = ticks.count()
        times = []
        for i in range(steps + 2):
            box = ticks.nth((i * 7 + 3) % count).bounding_box()  # steps in no order
            old = page.evaluate(frame)
            page.mouse.click(box["x"] + box["width"] / 2, rail["y"] + rail["height"] / 2)
            page.wait_for_function(f"old => ({frame})() !== old", arg=old,
                                   polling="raf", timeout=10_000)
            page.wait_for_timeout(200)  # the paint after the change has happened
            times.append(page.evaluate("() => window.__scrub.drawn - window.__scrub.down"))
        return times[2:]  # the first steps warm plotly's code paths


# A live view's drag step: from each `input` event of the α slider to the paint after the
# page's first live figure's next frame (data-live-frame), timed in the page; and the
# websocket's bytes.
_DRAG_TIMER = """() => {
    const input = document.querySelector('input[type=range][aria-label="α (log scale)"]');
    const plot = document.querySelector('.live-plot');
    window.__drag = {inputs: [], painted: []};
    input.addEventListener('input', () => window.__drag.inputs.push(performance.now()));
    new MutationObserver(() => requestAnimationFrame(() => setTimeout(
        () => window.__drag.painted.push(performance.now())))).observe(
        plot, {attributes: true, attributeFilter: ['data-live-frame']});
}"""


@dataclass
class Drag:
    step_ms: list[float]  # input event to the painted frame, one per step
    sent_during: int  # websocket messages the page sent before the release
    view_bytes: int  # what the page received over its websocket to open the view


def drag_steps(url: str, steps: int, path: str = "explorer") -> Drag:
    """Drag the live α slider of the page at ``path`` with the mouse held down, ``steps``
    stops one at a time (a value not seen before each time), then release; the page's first
    live figure is the one timed."""
    with browser_page(1600, 1000) as page:
        received, sent = [], []
        page.on("websocket", lambda ws: (
            ws.on("framereceived", lambda f: received.append(len(f) if isinstance(f, (bytes, str))
                                                            else 0)),
            ws.on("framesent", lambda f: sent.append(1))))
        page.goto(f"{url}/{path}")
        page.wait_for_selector(".live-plot[data-live-frame]", timeout=90_000)
        wait_for_app(page)
        view_bytes = sum(received)
        page.evaluate(_DRAG_TIMER)
        alpha = slider(page, "α (log scale)")
        alpha.scroll_into_view_if_needed()  # the mouse reaches what the window shows
        box = alpha.bounding_box()
        y = box["y"] + box["height"] / 2
        stops = len(page.evaluate("() => [...document.querySelectorAll('.live-value')]"))
        x0 = box["x"] + 8
        step = (box["width"] - 16) / 40  # the α slider has 41 stops
        page.mouse.move(x0 + step * 2, y)
        page.mouse.down()
        sent_before = len(sent)
        for i in range(steps):
            frames = page.evaluate("() => window.__drag.painted.length")
            page.mouse.move(x0 + step * (3 + i), y)
            page.wait_for_function("n => window.__drag.painted.length > n", arg=frames,
                                   polling="raf", timeout=10_000)
        sent_during = len(sent) - sent_before
        times = page.evaluate("() => window.__drag")
        page.mouse.up()
        wait_for_app(page)
        assert stops == 4
        pairs = zip(times["inputs"], times["painted"])
        return Drag([p - i for i, p in pairs], sent_during, view_bytes)


def measure_pair(other: Path, path: str, charts: int, moves: int) -> dict[str, Moves]:
    """The same page served from this checkout ("this") and from ``other`` ("other"), open in
    one browser; ``moves`` moves on each, alternated two at a time (which side goes first
    alternates too)."""
    with contextlib.ExitStack() as stack:
        servers = {side: stack.enter_context(app_server(with_process=True, root=root))
                   for side, root in (("this", ROOT), ("other", other))}
        first = stack.enter_context(browser_page(1600, 1000))
        pages = {"this": first, "other": first.context.browser.new_page(
            viewport={"width": 1600, "height": 1000})}  # a second tab of the same browser
        for side, (url, _) in servers.items():
            open_page(pages[side], address(url, path), charts=charts)
            measure(pages[side], 2)  # warm-up, as in measure_server
        runs = {side: [] for side in servers}
        for i in range(moves // 2):
            for side in (("this", "other") if i % 2 == 0 else ("other", "this")):
                runs[side].append(measure(pages[side], 2, servers[side][1].pid))
    return {side: Moves([t for m in r for t in m.latency_ms], [t for m in r for t in m.reported_ms],
                        statistics.mean(m.cpu_ms_per_move for m in r),
                        statistics.mean(m.browser_cpu_ms_per_move for m in r))
            for side, r in runs.items()}
