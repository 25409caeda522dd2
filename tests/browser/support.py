"""What the browser tests share: screenshots, and running a benchmark as its user does."""

import subprocess
import sys
from pathlib import Path

from tests import ROOT

SHOTS = ROOT / "artifacts" / "screenshots"  # look at them


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def benchmark(name: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m benchmarks.<name> args`` from the repository's root (nothing imports the
    benchmarks: a test runs one as its user does)."""
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def press_until_address(page, key: str, address: str, tries: int = 3) -> None:
    """Press ``key`` until the address matches, at most ``tries`` times. Streamlit's frontend
    now and then loses a shortcut key pressed soon after a page has rendered, even with its
    run ended (two CI runs failed on it, and 1 lesson start in 24 here under load; the key
    never reached the server), and a person presses again; a keyboard that never works
    still fails here."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # only where installed
    for _ in range(tries):
        page.keyboard.press(key)
        try:
            page.wait_for_url(address, timeout=15_000)
            return
        except PlaywrightTimeout:  # not there yet
            continue
    raise AssertionError(f"{key} pressed {tries} times, the address is still {page.url}")
