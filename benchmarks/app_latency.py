"""Slider move to the last change of the page, in real Chromium, for every page.

    python -m benchmarks.app_latency [--moves 10] [--pages explorer gradients ...]

For each page, opened at α = 1e-6 (from the address), the → key is pressed on the α slider
``--moves`` times (after two warm-up moves), so that every move asks for a value not seen
before and no cache can answer; last, the Explorer again with its α scrub view open (whose
sweep moving α must find cached). Per move it measures
- key press to the last change of the page: from the key's keydown event to the last change
  a MutationObserver sees in the page (the page counts as settled after 500 ms without one
  and without Streamlit's running indicator);
- the server's CPU per move: its process's user + system time over the measured moves,
  divided by their number (read from /proc), so work after the page has drawn counts too;
- the browser's CPU per move, the same for all of Chromium's processes: the work the page
  costs the student's laptop, which (unlike the latency) does not count the time spent
  waiting for a core that another program holds, on this shared machine;
- the server compute the page reports in its last caption.
A trivial Streamlit page (one slider and one caption, benchmarks/trivial_app.py) is measured
in the same run on its own server, and every page's median is also given as a ratio to it:
this machine is shared and noisy, and the ratio holds better than the milliseconds.
Unless ``--no-scrub``, it also times the scrub views (the Explorer's and the Gradients
page's): a click on a step of the plotly slider to the redrawn figure, no server round trip.

    python -m benchmarks.app_latency --against ../old [--moves 32] [--pages ...]

compares this checkout with another one (a git worktree of an older commit, say) instead:
one server from each, the same page open on both in one browser, and the moves alternated
two at a time between them, so that the machine's swings in speed (the trivial page's
median moves from 28 to 65 ms here within the hour) fall on both alike. It prints each
side's median key press to last change, server CPU and browser CPU per move, and the
median of the paired differences.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.browser import (ROOT, app_server, browser_page, browser_pids, cpu_seconds,
                                jacobian_scrub_frame, open_page, panel_update, scrub_figure_image,
                                slider, unavailable, wait_for_panel_update)

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


def print_pairs(other: Path, pages: list[str], moves: int) -> None:
    print(f"This checkout against {other}: key press on the α slider to the last change of the "
          f"page, {moves // 2 * 2} moves on each side, alternated two at a time")
    print(f"{'page':<22}{'this':>8}{'other':>8}{'paired diff':>13}{'server CPU':>12}{'other':>8}"
          f"{'browser CPU':>13}{'other':>8}")
    for name in pages:
        r = measure_pair(other, name, PAGES[name][0], moves)
        diff = statistics.median(a - b for a, b in zip(r["this"].latency_ms, r["other"].latency_ms))
        print(f"{name:<22}{statistics.median(r['this'].latency_ms):>6.0f}ms"
              f"{statistics.median(r['other'].latency_ms):>6.0f}ms{diff:>+11.0f}ms"
              f"{r['this'].cpu_ms_per_move:>10.0f}ms{r['other'].cpu_ms_per_move:>6.0f}ms"
              f"{r['this'].browser_cpu_ms_per_move:>11.0f}ms"
              f"{r['other'].browser_cpu_ms_per_move:>6.0f}ms")
    print("paired diff: the median of (this - other) over the pairs of moves; negative: this "
          "checkout is faster")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--no-scrub", dest="scrub", action="store_false")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="compare with the app in another checkout, moves alternated")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    if not 1 <= args.moves <= 35:  # the α slider has 40 stops above 1e-6
        raise SystemExit("--moves: 1 to 35")
    if args.against:
        if not (args.against / "app.py").is_file() or args.moves < 2:
            raise SystemExit("--against: a checkout of this app (with its app.py); --moves >= 2")
        print_pairs(args.against.resolve(), args.pages, args.moves)
        return
    results = {}
    with app_server(with_process=True, script="benchmarks/trivial_app.py") as (url, server):
        results["trivial"] = measure_server(url, server.pid, "", 0, args.moves)
    with app_server(with_process=True) as (url, server):
        for name in args.pages:
            results[name] = measure_server(url, server.pid, name, PAGES[name][0], args.moves)
        steps = {view: scrub_steps(url, 12, view) for view in SCRUB_VIEWS} if args.scrub else {}
    reference = statistics.median(results["trivial"].latency_ms)
    print(f"Key press on the α slider (a new value each move, {args.moves} moves) to the last "
          "change of the page, headless Chromium, and the server's CPU per move")
    print(f"{'page':<22}{'median':>8}{'p95':>8}{'target':>8}{'x trivial':>11}"
          f"{'server CPU':>12}{'target':>8}{'reported':>10}{'browser CPU':>13}")
    for name, r in results.items():
        median = statistics.median(r.latency_ms)
        target, cpu_target = PAGES[name][1:] if name in PAGES else ("", "")
        print(f"{name:<22}{median:>6.0f}ms{np.percentile(r.latency_ms, 95):>6.0f}ms"
              f"{target:>6}{'ms' if target else '  '}{median / reference:>10.1f}x"
              f"{r.cpu_ms_per_move:>10.0f}ms{cpu_target:>6}{'ms' if cpu_target else '  '}"
              f"{statistics.median(r.reported_ms):>8.0f}ms{r.browser_cpu_ms_per_move:>11.0f}ms")
    for view, times in steps.items():
        what = "α, 256 px cat" if view == "Explorer" else "α, the Jacobian row"
        print(f"Scrub view ({view}, {what}): click on a slider step to the redrawn figure, "
              f"{len(times)} steps: median {statistics.median(times):.0f} ms, "
              f"p95 {np.percentile(times, 95):.0f} ms (target 80 ms)")


if __name__ == "__main__":
    main()
