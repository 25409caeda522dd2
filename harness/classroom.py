"""A classroom at once, measured at the server: students as websocket sessions that speak
Streamlit's own protocol, with no browser sharing the server's CPU.

    python -m benchmarks.classroom [--students 30] [--seconds 60] [--think 2.0]
        [--pages explorer,gradients,compare,conventions] [--arrive 2.0] [--trainer]
        [--url http://host:port | --replicas 2]

Each student opens one page of the mix (round robin), arriving at a random moment within
``--arrive`` seconds, and then, for ``--seconds``, moves the page's α slider one step at
random intervals (exponential, mean ``--think`` seconds; at least once), as a person
dragging it would.
A move is a ``BackMsg`` rerun carrying the slider's new value (a fragment rerun where the
slider lives in one, as the browser sends it); its latency runs until the server's
``script_finished``. An error is a closed connection, a move or page open that takes more
than ``--timeout`` seconds, or an exception element in the page. ``--trainer`` adds one
more session that opens the Training lab and presses its Run button (the lab's defaults:
three variants at four or more rates, three seeds each).

Without ``--url`` it starts the app itself (``streamlit run app.py`` on a free loopback
port, a fresh server; or ``--replicas`` of them behind nginx, warmed first) and also
reports the server's CPU (cores busy over the run) and peak RSS. Bounded: at most 200
students, 600 seconds; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.WidgetStates_pb2 import WidgetState

from harness.browser import app_server, cpu_seconds
from harness.protocol import PAGES, SLIDER_LABEL, Session, connect, move_state

MAX_STUDENTS, MAX_SECONDS = 200, 600


@dataclass
class Student:
    """One session's record."""

    page: str
    open_seconds: float | None = None
    opened_at: float | None = None  # time.monotonic() when the page had opened
    moves: list[float] = field(default_factory=list)  # seconds per move
    move_starts: list[float] = field(default_factory=list)  # time.monotonic() at each start
    errors: list[str] = field(default_factory=list)


async def student(url: str, page: str, record: Student, arrive: float, until: float,
                  think: float, timeout: float) -> None:
    await asyncio.sleep(arrive)
    try:
        async with connect(url, timeout) as ws:
            session = Session(ws, page, timeout)
            record.open_seconds = await session.run()
            record.opened_at = time.monotonic()
            widget = session.widgets.get(SLIDER_LABEL)
            if widget is None or session.exceptions:
                record.errors += session.exceptions or [f"no {SLIDER_LABEL} slider on {page}"]
                return
            while not session.exceptions and (not record.moves
                                                or time.monotonic() + think < until):
                await asyncio.sleep(random.expovariate(1.0 / think))
                record.move_starts.append(time.monotonic())
                record.moves.append(await session.run([move_state(widget)],
                                                      widget.fragment_id))
            record.errors += session.exceptions
    except TimeoutError:
        record.errors.append(f"timeout after {timeout:g} s")
    except (OSError, websockets.exceptions.WebSocketException) as err:
        record.errors.append(f"connection: {err!r}")


async def trainer(url: str, record: Student, timeout: float) -> None:
    """One more session: the Training lab, and a press of its Run button."""
    try:
        async with connect(url, timeout) as ws:
            session = Session(ws, "training", timeout)
            record.open_seconds = await session.run()
            record.opened_at = time.monotonic()
            button = next((w for label, w in session.widgets.items()
                           if label.startswith(("Train (", "Run on this server ("))), None)
            if button is None:
                record.errors.append("no Train or Run button")
                return
            session.timeout = MAX_SECONDS
            record.moves.append(await session.run([WidgetState(id=button.id,
                                                               trigger_value=True)]))
            record.errors += session.exceptions
    except TimeoutError:
        record.errors.append("training did not finish")
    except (OSError, websockets.exceptions.WebSocketException) as err:
        record.errors.append(f"connection: {err!r}")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def classroom(url: str, students: int, seconds: float, think: float, pages: list[str],
                    arrive: float, timeout: float, with_trainer: bool) -> list[Student]:
    until = time.monotonic() + arrive + seconds
    records = [Student(pages[i % len(pages)]) for i in range(students)]
    tasks = [student(url, r.page, r, random.uniform(0, arrive), until, think, timeout)
             for r in records]
    if with_trainer:
        records.append(Student("training (trainer)"))
        tasks.append(trainer(url, records[-1], timeout))
    await asyncio.gather(*tasks)
    return records


def report(records: list[Student], wall: float, server: dict | None) -> str:
    lines = ["| page | students | moves | p50 | p95 | max | errors | slowest page open |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for page in dict.fromkeys(r.page for r in records):
        group = [r for r in records if r.page == page]
        moves = [m for r in group for m in r.moves]
        opens = [r.open_seconds for r in group if r.open_seconds is not None]
        lines.append(
            f"| {page} | {len(group)} | {len(moves)} | {1000 * percentile(moves, 50):.0f} ms"
            f" | {1000 * percentile(moves, 95):.0f} ms | "
            f"{1000 * max(moves, default=float('nan')):.0f} ms | "
            f"{sum(len(r.errors) for r in group)} | "
            f"{max(opens, default=float('nan')):.1f} s |"
        )
    students = [r for r in records if not r.page.startswith("training")]
    moves = [m for r in students for m in r.moves]
    errors = [e for r in records for e in r.errors]
    lines.append(
        f"all students: {len(moves)} moves in {wall:.0f} s, p50 "
        f"{1000 * percentile(moves, 50):.0f} ms, p95 {1000 * percentile(moves, 95):.0f} ms,"
        f" errors: {len(errors)} {sorted(set(errors))[:5]}"
    )
    # The moves made once every page had opened: the class at work, without the queue that
    # thirty page opens at once build up.
    opened = [r.opened_at for r in students if r.opened_at is not None]
    if opened:
        last_open = max(opened)
        steady = [m for r in students for start, m in zip(r.move_starts, r.moves)
                  if start >= last_open]
        lines.append(f"after the last page opened: {len(steady)} moves, p50 "
                     f"{1000 * percentile(steady, 50):.0f} ms, p95 "
                     f"{1000 * percentile(steady, 95):.0f} ms")
    if server:
        lines.append(f"server: {server['cores']:.2f} cores busy on average, peak RSS "
                     f"{server['rss']:.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None, cluster=None) -> list[Student]:
    """The classroom's command line; ``cluster(replicas)`` starts replicas behind nginx for
    ``--replicas`` (deploy.cluster.cluster, which benchmarks/classroom.py passes: the harness
    itself knows nothing of deploy/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between moves")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--arrive", type=float, default=2.0,
                        help="students arrive within this many seconds of the start")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--trainer", action="store_true")
    parser.add_argument("--url", help="a running server (default: start a fresh one here)")
    parser.add_argument("--replicas", type=int, default=1,
                        help="start this many replicas behind nginx (deploy/cluster.py) "
                             "instead of one server; their CPU and peak RSS are summed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.students <= MAX_STUDENTS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--students must be 1..{MAX_STUDENTS}, --seconds 0..{MAX_SECONDS}")
    pages = [p for p in args.pages.split(",") if p]
    unknown = [p for p in pages if p not in PAGES]
    if unknown or not pages:
        parser.error(f"--pages: choose from {', '.join(PAGES)}")
    random.seed(args.seed)

    def run(url: str):
        started = time.monotonic()
        records = asyncio.run(classroom(url, args.students, args.seconds, args.think, pages,
                                        args.arrive, args.timeout, args.trainer))
        return records, time.monotonic() - started

    print(f"{args.students} students on {', '.join(pages)}, a move every {args.think:g} s "
          f"on average for {args.seconds:g} s" + (", one trainer" if args.trainer else ""))
    if args.url:
        records, wall = run(args.url)
        print(report(records, wall, None))
        return records
    if args.replicas > 1:  # replicas behind nginx, each warmed
        if cluster is None:
            parser.error("--replicas: run it as python -m benchmarks.classroom")
        with cluster(args.replicas) as c:
            pids = [p.pid for p in c.replicas.values()]
            cpu0 = sum(map(cpu_seconds, pids))
            records, wall = run(c.url)
            server = {"cores": (sum(map(cpu_seconds, pids)) - cpu0) / wall,
                      "rss": sum(map(_peak_rss_mib, pids))}
    else:
        with app_server(with_process=True) as (url, proc):
            cpu0 = cpu_seconds(proc.pid)
            records, wall = run(url)
            server = {"cores": (cpu_seconds(proc.pid) - cpu0) / wall,
                      "rss": _peak_rss_mib(proc.pid)}
    print(report(records, wall, server))
    return records
