"""Run the app on a free loopback port and drive it with Debian's Chromium via Playwright.

Shared by the browser tests (tests/browser/), the benchmarks and deploy/. Chromium comes from
Debian's `chromium` package (/usr/bin/chromium); Playwright never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags the workplace documents for a closed network (no background connections).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def unavailable() -> str | None:
    """Why a browser session cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (make test installs it)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_pids(driver: bool = False) -> list[int]:
    """Chromium's processes (renderer, GPU, network, browser), and Playwright's driver too if
    ``driver``: the benchmarks run one browser at a time, so they are all the run's."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:  # ended meanwhile
                continue
            if b"chromium" in cmdline.split(b"\0")[0] or (driver and b"playwright" in cmdline):
                pids.append(int(proc.name))
    return pids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(timeout: float = 90.0, with_process: bool = False, script: str = "app.py",
               root: Path = ROOT):
    """Start `streamlit run <script>` (the app by default) on 127.0.0.1 with the project's
    configuration, from the checkout at ``root`` (this one by default); yield its base URL
    (and the process, when ``with_process``); stop it."""
    port = free_port()
    log = open(ROOT / "artifacts" / f"server-{port}.log", "w") if (ROOT / "artifacts").is_dir() \
        else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (exit code {proc.poll()})")
            time.sleep(0.3)
        yield (url, proc) if with_process else url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def browser_page(width: int = 1600, height: int = 1000):
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Until the script has finished running and the charts are drawn.

    The app root's ``data-test-script-state`` says whether a run is under way from the moment
    the browser asks for one; the status widget ("Running...") shows only after a delay, so a
    page can be mid-run without it. A key pressed mid-run can be lost (the lesson walk's →
    was, 1 run in 4, with the page still rendering), so tests wait for the run to end."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
                   ?.getAttribute('data-test-script-state') === 'notRunning'
                 && !document.querySelector('[data-testid="stStatusWidget"]')""",
        timeout=timeout)
    page.wait_for_timeout(300)


def open_page(page, url: str, charts: int = 0) -> None:
    """Go to ``url`` and wait until the app has run and drawn at least ``charts`` figures."""
    page.goto(url)
    wait_for_app(page)
    if charts:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=60_000
        )
        wait_for_app(page)  # charts can be drawn before the script run has ended
        page.wait_for_timeout(500)


def exception_boxes(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]


def slider(page, label: str):
    """A Streamlit slider: a visually hidden range input labelled with the widget's label."""
    return page.locator(f'input[type="range"][aria-label="{label}"]')


# The Explorer's last caption reads "server compute N ms on DEVICE · update M"; M grows by
# one each time the sliders' panel has been redrawn.
_PANEL_CAPTION = '[data-testid="stCaptionContainer"]:has-text("server compute")'


def panel_update(page) -> tuple[int, float]:
    """The panel's update number and the server compute (ms) it reported."""
    page.wait_for_selector(_PANEL_CAPTION, timeout=60_000)
    text = page.locator(_PANEL_CAPTION).last.inner_text()
    match = re.search(r"server compute (\d+) ms .* update (\d+)", text)
    return int(match.group(2)), float(match.group(1))


def wait_for_panel_update(page, after: int, timeout: float = 30_000) -> None:
    """Until the panel's update number exceeds ``after``."""
    page.wait_for_function(
        """after => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                     .map(e => e.innerText).filter(t => t.includes('server compute'))
                     .some(t => Number((t.match(/update (\\d+)/) || [0, 0])[1]) > after)""",
        arg=after, polling="raf", timeout=timeout)


# The scrub view's output image (the first image of the figure keyed "scrub_view"): its data
# URI changes when a frame is drawn.
scrub_figure_image = """() => {
    const plot = document.querySelector('.st-key-scrub_view .js-plotly-plot');
    const img = plot?.querySelector('image');
    return img ? img.getAttribute('href') || img.getAttribute('xlink:href') : null; }"""
# The Gradients page's scrub view: its title (which names the frame's value within a channel)
# and its bars (across channels, where the title stays).
jacobian_scrub_frame = """() => {
    const plot = document.querySelector('.st-key-jacobian_scrub .js-plotly-plot');
    const bars = plot && [...plot.querySelectorAll('.point path')].map(p => p.getAttribute('d'));
    return plot ? plot.querySelector('.gtitle').textContent + bars.join() : null; }"""
