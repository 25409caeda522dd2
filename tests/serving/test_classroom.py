"""A classroom at the protocol level (harness/classroom.py, which benchmarks/classroom.py
runs): sessions that speak Streamlit's websocket protocol against a real server. No speed
is asserted here (that is the benchmark's job); errors are."""

import pytest

from harness.classroom import main
from harness.protocol import PAGES


def test_a_short_classroom_run_moves_every_pages_slider_without_errors(capsys):
    records = main(["--students", "4", "--seconds", "6", "--think", "1", "--timeout", "120"])
    out = capsys.readouterr().out
    assert [r.page for r in records] == list(PAGES)
    assert all(r.errors == [] for r in records), [r.errors for r in records]
    assert all(r.open_seconds is not None and r.moves for r in records)
    assert "errors: 0 []" in out and "cores busy" in out and "peak RSS" in out
    assert all(len(r.move_starts) == len(r.moves) for r in records)
    assert all(start >= r.opened_at for r in records for start in r.move_starts)
    assert "after the last page opened: " in out


def test_many_sessions_arriving_at_once_on_a_fresh_server_see_no_exception():
    """The cold start: modules and caches first used by several script threads at once
    (it once raised "partially initialized module 'pandas'" in most sessions)."""
    records = main(["--students", "16", "--seconds", "1", "--arrive", "1", "--timeout", "180"])
    assert all(r.open_seconds is not None for r in records)  # every page opened
    assert all(r.errors == [] for r in records), [r.errors for r in records]


def test_it_is_bounded():
    with pytest.raises(SystemExit):
        main(["--students", "500"])
    with pytest.raises(SystemExit):
        main(["--seconds", "3600"])
    with pytest.raises(SystemExit):
        main(["--pages", "home"])
