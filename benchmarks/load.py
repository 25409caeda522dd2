"""A classroom on one server: N concurrent real browser sessions on the Explorer.

    python -m benchmarks.load [--sessions 10] [--seconds 60] [--think 1.0]

Starts the app on a free loopback port (nothing leaves this machine) and opens N
sessions, each a separate context (own cookies, own websocket, own Streamlit session) of
one headless Debian Chromium. Each loads the Explorer and, for ``--seconds``, moves the
alpha slider by keyboard, waiting ``--think`` seconds between moves as a student would.
A move's latency runs from the key press until the panel's last element, its "update N"
caption, has arrived and the browser painted the next frame.
Reports latency percentiles, errors (exception boxes, timeouts), the server's peak
memory (VmHWM), and the CPU time the server and the browsers took. Bounded: at most 40
sessions and 300 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    app_server,
    browser_pids,
    cpu_seconds,
    unavailable,
)

SLIDER = 'input[type="range"][aria-label="α (log scale)"]'
CAPTION = '[data-testid="stCaptionContainer"]'
UPDATE = f"""() => Math.max(0, ...[...document.querySelectorAll('{CAPTION}')]
             .map(e => (e.innerText.match(/server compute .* update (\\d+)/) || [0, 0])[1])
             .map(Number))"""


class CpuSampler:
    """CPU seconds of the server and of every Chromium process, sampled once a second
    while they live (a process's last sample stands for its total)."""

    def __init__(self, server_pid: int):
        self.server_pid, self.last, self.stop = server_pid, {}, False

    def sample(self) -> None:
        for pid in browser_pids(driver=True) + [self.server_pid]:
            try:
                self.last[pid] = cpu_seconds(pid)
            except OSError:  # exited between listing and reading
                pass

    def run(self) -> None:
        while not self.stop:
            self.sample()
            time.sleep(1.0)

    def totals(self, start: dict) -> tuple[float, float]:
        server = self.last[self.server_pid] - start.get(self.server_pid, 0.0)
        browsers = sum(v - start.get(pid, 0.0) for pid, v in self.last.items()
                       if pid != self.server_pid)
        return server, browsers


def peak_memory_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


async def student(browser, url: str, seconds: float, think: float, out: dict) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/explorer", timeout=120_000)
        await page.wait_for_function(f"{UPDATE} > 0", polling=200, timeout=120_000)
        out["load"].append(time.perf_counter() - start)
        deadline = time.monotonic() + seconds
        thumb, i = page.locator(SLIDER), 0
        while time.monotonic() < deadline:
            before = await page.evaluate(UPDATE)
            await thumb.focus()
            t0 = time.perf_counter()
            await page.keyboard.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")
            try:
                # Polled every 50 ms, not every frame: ten pages polling at 60 Hz would
                # themselves load the CPU they are measuring.
                await page.wait_for_function(f"before => {UPDATE}() > before", arg=before,
                                             polling=50, timeout=30_000)
                await page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                out["latency"].append(time.perf_counter() - t0)
                text = await page.locator(CAPTION, has_text="server compute").last.inner_text()
                out["server"].append(float(re.search(r"server compute (\d+) ms", text).group(1)))
            except Exception:  # a timeout: counted, and the session goes on
                out["errors"].append("no update within 30 s")
            if await page.locator('[data-testid="stException"]').count():
                out["errors"].append("exception box")
            i += 1
            await asyncio.sleep(think)
    except Exception as err:  # the page did not even load
        out["errors"].append(f"session failed: {type(err).__name__}")
    finally:
        await context.close()


async def classroom(url: str, sessions: int, seconds: float, think: float) -> dict:
    from playwright.async_api import async_playwright

    out = {"latency": [], "errors": [], "load": [], "server": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(student(browser, url, seconds, think, out)
                                   for _ in range(sessions)))
        finally:
            await browser.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="pause between moves (s)")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 40 or not 1 <= args.seconds <= 300:
        raise SystemExit("bounded: 1..40 sessions, 1..300 seconds")
    reason = unavailable()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    with app_server(with_process=True) as (url, server):
        sampler = CpuSampler(server.pid)
        sampler.sample()
        start, wall0 = dict(sampler.last), time.perf_counter()
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        me0 = sum(os.times()[:2])
        out = asyncio.run(classroom(url, args.sessions, args.seconds, args.think))
        sampler.stop = True
        thread.join()
        wall = time.perf_counter() - wall0
        server_cpu, browsers = sampler.totals(start)
        browsers += sum(os.times()[:2]) - me0  # this script drives them
        peak = peak_memory_mib(server.pid)
    ms = np.array(out["latency"]) * 1e3
    cores = os.cpu_count()
    server_ms = np.array(out["server"])
    print(f"{args.sessions} concurrent sessions on the Explorer for {args.seconds:.0f} s "
          f"(think time {args.think:g} s), headless Chromium on the same {cores}-core machine")
    if len(ms):
        print(f"  slider moves: {len(ms)}; latency median {statistics.median(ms):.0f} ms, "
              f"p95 {np.percentile(ms, 95):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms, "
              f"max {ms.max():.0f} ms")
    if len(server_ms):
        print(f"  of which server compute (reported by the page): median "
              f"{statistics.median(server_ms):.0f} ms, p95 {np.percentile(server_ms, 95):.0f} ms")
    if out["load"]:
        print(f"  page load to first panel: median {statistics.median(out['load']):.1f} s, "
              f"max {max(out['load']):.1f} s")
    print(f"  errors: {len(out['errors'])} {sorted(set(out['errors']))}")
    print(f"  server peak memory (VmHWM): {peak:.0f} MiB")
    print(
        f"  CPU over {wall:.0f} s of {cores} cores: "
        f"server {100 * server_cpu / (wall * cores):.0f}%, "
        f"browsers with their driver {100 * browsers / (wall * cores):.0f}%"
    )


if __name__ == "__main__":
    main()
