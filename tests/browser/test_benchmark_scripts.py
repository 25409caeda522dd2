"""The benchmarks' measurements still find what they time (no speed is asserted here)."""

import re

import pytest

from harness.browser import ROOT, open_page
from tests.browser.support import benchmark


def test_latency_script_can_measure_the_current_page(server, page):
    # benchmarks/app_latency.py must keep finding what it times (no speed is asserted).
    from harness.latency import PAGES, address, measure
    for path in ("explorer", "explorer?scrub=alpha"):  # a page, and one with its own query
        open_page(page, address(server, path), charts=PAGES[path][0])
        moves = measure(page, 2)
        assert len(moves.latency_ms) == len(moves.reported_ms) == 2
        assert all(latency > 0 for latency in moves.latency_ms)
        assert "alpha=3.16e-06" in page.url  # two quarter-decade stops up: a new value each move
    assert "scrub=alpha" in page.url


@pytest.mark.parametrize("view", ["Explorer", "Gradients"])
def test_latency_script_times_each_scrub_view(server, view):
    from harness.latency import scrub_steps
    times = scrub_steps(server, 2, view)
    assert len(times) == 2 and all(step > 0 for step in times)


def test_latency_script_can_pair_two_checkouts():
    # --against: two servers (this checkout twice here), the same page, moves alternated.
    from harness.latency import measure_pair
    pair = measure_pair(ROOT, "explorer", 2, moves=4)
    assert set(pair) == {"this", "other"}
    for moves in pair.values():
        assert len(moves.latency_ms) == 4 and all(latency > 0 for latency in moves.latency_ms)
        assert moves.cpu_ms_per_move > 0 and moves.browser_cpu_ms_per_move > 0


def test_load_script_runs_one_short_session():
    # benchmarks/load.py must keep working (no speed is asserted here); run as a user runs it.
    done = benchmark("load", "--sessions", "1", "--seconds", "3")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "errors: 0 []" in out and "slider moves:" in out and "server peak memory" in out
    assert benchmark("load", "--sessions", "500").returncode != 0  # bounded


def test_the_latency_benchmark_runs_as_a_command():
    # the whole command, as its user runs it: one move on the Explorer and the trivial page
    done = benchmark("app_latency", "--moves", "1", "--pages", "explorer", "--no-scrub",
                     "--no-drag")
    assert done.returncode == 0, done.stderr
    for page in ("trivial", "explorer"):  # a row of figures per page, measured in one run
        assert re.search(rf"^{page}\s+\d+ms", done.stdout, re.M), done.stdout


def test_the_drag_measurement_finds_the_live_view(server):
    from harness.latency import drag_steps
    drag = drag_steps(server, 3)
    assert len(drag.step_ms) >= 3 and all(step > 0 for step in drag.step_ms)
    assert drag.sent_during == 0  # nothing goes to the server while the mouse is down
    assert drag.view_bytes > 0
