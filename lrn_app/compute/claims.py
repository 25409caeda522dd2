"""The Claims page's logic: a claim's experiment run through the server's training workers,
its runs shared with the Training lab, its result shared by every session, and the shipped
results (lrn_lab.results) the page opens with. No Streamlit here: the page passes the
stores, the pool and a progress callback.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from lrn_app.serving.training_pool import JobView, TrainingPool
from lrn_lab.claim_parts import Result, Settings
from lrn_lab.claims import CLAIMS, all_jobs, judge, missing_jobs
from lrn_lab.results import CLAIMS_FILE, load


def result_key(name: str, settings: Settings) -> tuple:
    return (name, settings)


def missing_epochs(name: str, settings: Settings, runs) -> int:
    """Epochs still to train that the runs so far can name (a claim that needs the rates its
    first runs choose names the rest after them); 0: it can be judged now."""
    return sum(job[2].epochs for job in missing_jobs(CLAIMS[name], settings, JobView(runs)))


@functools.lru_cache(maxsize=1)
def _shipped_file() -> dict:
    return load(CLAIMS_FILE)["results"]


@functools.lru_cache(maxsize=1)
def shipped() -> dict[str, Result]:
    """The results that ship with the app, by claim (made by ``lrn-claims --save``)."""
    return {name: Result.from_dict({k: v for k, v in r.items() if k != "settings"})
            for name, r in _shipped_file().items()}


def shipped_settings(name: str) -> Settings | None:
    saved = _shipped_file().get(name)
    return Settings(**saved["settings"]) if saved else None


def known_result(name: str, settings: Settings, results) -> tuple[Result | None, bool]:
    """This server's result for these settings, else the shipped one when they are the
    settings it was made with; and whether it is the shipped one."""
    result = results.get(result_key(name, settings))
    if result is not None:
        return result, False
    if shipped_settings(name) == settings and name in shipped():
        return shipped()[name], True
    return None, False


def run_claim(name: str, settings: Settings, pool: TrainingPool, runs, results,
              on_progress: Callable[[float, str], None]) -> Result:
    """Train what the claim needs and is not stored yet, round after round (a claim may need
    the rates its first runs choose), one run per worker at a time, an epoch per call so that
    ``on_progress(fraction, text)`` can follow; then judge it in a worker (the cost claim
    times layers there, off the interactive process). Finished runs go to ``runs``, the
    result to ``results`` (both shared by the server's sessions)."""
    started = time.perf_counter()
    claim = CLAIMS[name]
    collected: dict = {}  # held here, not looked up again: the store may evict some
    trained = 0
    while jobs := missing_jobs(claim, settings, JobView(runs, collected)):
        total = trained + sum(j[2].epochs for j in jobs)

        def progress(done: int, before: int = trained, total: int = total) -> None:
            on_progress(min(1.0, (before + done) / total),
                        f"{before + done} of at least {total} epochs trained")
        collected.update(pool.train(jobs, runs, {}, progress))
        trained = total
    on_progress(1.0, "judging the figures")
    lookup = JobView(runs, collected)
    # the runs travel to the worker as a plain dict (the store does not pickle)
    result = pool.call(judge, name, settings,
                       {j: lookup[j] for j in all_jobs(claim, settings, lookup)})
    result.seconds = time.perf_counter() - started
    results.put(result_key(name, settings), result)
    return result
