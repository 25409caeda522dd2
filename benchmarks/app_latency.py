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
Unless ``--no-drag``, it drags the live α slider with the mouse held down (the Explorer at 16
and 96 channels, the Gradients page, LRN vs BatchNorm) and times each step from the slider's
``input`` event to the paint after the figure's next frame, counts the messages sent to the
server before the release, and the bytes received to open the view.

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
import statistics
from pathlib import Path

import numpy as np

from harness.browser import app_server, unavailable
from harness.latency import (
    PAGES,
    SCRUB_VIEWS,
    drag_steps,
    measure_pair,
    measure_server,
    scrub_steps,
)

# The live views dragged (their address) and their drag step's target, ms: the Explorer's
# at 16 and 96 channels (issue 28's targets), the other pages' at their defaults.
LIVE_VIEWS = {"Explorer, 256 px, 16 channels": ("explorer?channels=16", 33),
              "Explorer, 256 px, 96 channels": ("explorer?channels=96", 50),
              "Gradients, the Jacobian row": ("gradients", 33),
              "LRN vs BatchNorm, after LRN": ("compare", 33)}


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
    parser.add_argument("--no-drag", dest="drag", action="store_false",
                        help="leave out the live view's drag steps")
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
        drags = {view: drag_steps(url, 16, path)
                 for view, (path, _) in LIVE_VIEWS.items()} if args.drag else {}
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
    for view, drag in drags.items():
        times = drag.step_ms[2:]  # the first steps warm the page's code paths
        print(f"Live view ({view}): α dragged with the mouse held down, {len(times)} steps, "
              f"input event to the painted frame: median {statistics.median(times):.1f} ms, "
              f"p95 {np.percentile(times, 95):.1f} ms (target {LIVE_VIEWS[view][1]} ms, "
              f"{statistics.median(times) / reference:.2f}x the trivial page's key press); "
              f"messages to the server during the drag: {drag.sent_during}; received to open "
              f"the view: {drag.view_bytes / 1e6:.2f} MB (target 1.5 MB)")

if __name__ == "__main__":
    main()
