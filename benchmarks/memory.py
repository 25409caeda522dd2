"""Does the server's memory stay bounded over many slider moves? (post-run GC is off)

    python -m benchmarks.memory [--moves 1000]

`.streamlit/config.toml` turns off Streamlit's full garbage collection after every run
(`runner.postScriptGC`), which cost about 100 ms of CPU per move with torch, plotly and
pandas loaded; Python's generational collector still runs on its own. This starts the app,
opens the Explorer in headless Chromium and sweeps its α slider up and down (each move waits
for the page's redraw), and prints the server's resident memory (RSS, from /proc) after 100
moves and after ``--moves``: the criterion is that the second is within 15% of the first.
"""

from __future__ import annotations

import argparse
import time

from harness.browser import (
    app_server,
    browser_page,
    open_page,
    panel_update,
    slider,
    unavailable,
    wait_for_panel_update,
)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=1000)
    args = parser.parse_args(argv)
    if not 100 < args.moves <= 5000:
        raise SystemExit("--moves: 101 to 5000")
    reason = unavailable()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    started = time.monotonic()
    samples = {}
    with app_server(with_process=True) as (url, server), browser_page(1600, 1000) as page:
        open_page(page, f"{url}/explorer?alpha=1e-06", charts=2)
        samples[0] = rss_mib(server.pid)
        for move in range(1, args.moves + 1):
            # Up through 30 of the slider's stops and back down again.
            key = "ArrowRight" if (move // 30) % 2 == 0 else "ArrowLeft"
            before, _ = panel_update(page)
            slider(page, "α (log scale)").focus()
            page.keyboard.press(key)
            wait_for_panel_update(page, before)
            if move in (100, 250, 500) or move == args.moves:
                samples[move] = rss_mib(server.pid)
                print(f"after {move:>5} moves: server RSS {samples[move]:.0f} MiB "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
    growth = samples[args.moves] / samples[100] - 1
    print(f"RSS after {args.moves} moves is {100 * growth:+.1f}% of RSS after 100 moves "
          f"(criterion: within 15%): {'met' if abs(growth) <= 0.15 else 'NOT met'}")


if __name__ == "__main__":
    main()
