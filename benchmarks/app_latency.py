"""Key press on a slider to redrawn figure, in real Chromium, against the 400 ms budget.

    python -m benchmarks.app_latency [--moves 20] [--page explorer|gradients|compare|conventions]

Starts the app on a free loopback port, opens a page in headless Debian Chromium,
focuses its alpha slider and presses an arrow key `--moves` times, alternating
direction. Each latency runs from the key press until the page's "update N" caption has
advanced and the browser has painted the next frame (on the Explorer, also until its
output figure changed). Prints the median and 95th percentile, and the server compute
the page reported for the same moves.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.browser import (app_server, browser_page, next_frame, open_page, panel_update,
                                slider, unavailable, wait_for_panel_update)

# The 'output y' image of the one-channel panels; its data URI changes when it is redrawn.
OUTPUT_PANEL = """() => { const img = document.querySelector('.st-key-one_channel_panels .js-plotly-plot')
                                 ?.querySelectorAll('image.image-layer, g.imagelayer image')[3];
                           return img ? img.getAttribute('href') || img.getAttribute('xlink:href') : null; }"""


def measure(page, moves: int, slider_label: str = "α (log scale)"):
    """Per move: seconds to the redrawn output figure, to the whole panel, and the server's ms."""
    thumb = slider(page, slider_label)
    figure, latencies, server = [], [], []
    for i in range(moves):
        before, _ = panel_update(page)
        old_panel = page.evaluate(OUTPUT_PANEL)
        thumb.focus()
        key = "ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft"
        start = time.perf_counter()
        page.keyboard.press(key)
        page.wait_for_function(f"old => ({OUTPUT_PANEL})() !== old", arg=old_panel,
                               polling="raf", timeout=30_000)
        next_frame(page)
        figure.append(time.perf_counter() - start)
        wait_for_panel_update(page, before)
        next_frame(page)
        latencies.append(time.perf_counter() - start)
        server.append(panel_update(page)[1])
    return figure, latencies, server


def measure_page(page, moves: int, slider_label: str = "α (log scale)"):
    """Per move: seconds until the page's update caption advanced, and the server's ms."""
    thumb = slider(page, slider_label)
    latencies, server = [], []
    for i in range(moves):
        before, _ = panel_update(page)
        thumb.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")
        wait_for_panel_update(page, before)
        next_frame(page)
        latencies.append(time.perf_counter() - start)
        server.append(panel_update(page)[1])
    return latencies, server


CHARTS = {"gradients": 4, "compare": 6, "conventions": 2}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--page", default="explorer", choices=["explorer", *CHARTS])
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    if args.page != "explorer":
        with app_server() as url, browser_page(1600, 2600) as page:
            open_page(page, f"{url}/{args.page}", charts=CHARTS[args.page])
            measure_page(page, 2)  # warm-up
            latencies, server = measure_page(page, args.moves)
        whole = np.array(latencies) * 1e3
        print(f"{args.page} page, defaults: key press on the alpha slider to the page's last "
              f"caption in headless Chromium, {args.moves} moves")
        print(f"  median {statistics.median(whole):.0f} ms, p95 {np.percentile(whole, 95):.0f} ms; "
              f"server compute reported by the page: median {statistics.median(server):.0f} ms")
        return
    with app_server() as url, browser_page() as page:
        open_page(page, f"{url}/explorer", charts=2)
        measure(page, 2)  # warm-up
        figure, latencies, server = measure(page, args.moves)
    ms = np.array(figure) * 1e3
    whole = np.array(latencies) * 1e3
    print(f"Explorer, 256 px cat, 16 channels: key press on the alpha slider to redrawn panel "
          f"in headless Chromium, {args.moves} moves")
    print(f"  to the redrawn output figure: median {statistics.median(ms):.0f} ms, "
          f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms (budget: median 400 ms)")
    print(f"  to the whole panel (its last caption): median {statistics.median(whole):.0f} ms, "
          f"p95 {np.percentile(whole, 95):.0f} ms")
    print(f"  server compute reported by the page: median {statistics.median(server):.0f} ms")


if __name__ == "__main__":
    main()
