"""The Claims page's logic: a claim's experiment run through the server's training workers,
its runs shared with the Training lab, its result shared by every session. No Streamlit here:
the page passes the stores, the pool and a progress callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lrn_core.claims import CLAIMS, Result, Settings, judge

from .training_pool import TrainingPool, run_key


def result_key(name: str, settings: Settings) -> tuple:
    return (name, settings)


def missing_epochs(name: str, settings: Settings, runs) -> int:
    """Epochs still to train before the claim can be judged (0: every run is stored)."""
    return sum(job[2].epochs for job in dict.fromkeys(CLAIMS[name].jobs(settings))
               if runs.get(run_key(job)) is None)


def run_claim(name: str, settings: Settings, pool: TrainingPool, runs, results,
              on_progress: Callable[[float, str], None]) -> Result:
    """Train what the claim needs and is not stored yet, one run per worker at a time, an
    epoch per call so that ``on_progress(fraction, text)`` can follow; then judge it in a
    worker (the cost claim times layers there, off the interactive process). Finished runs
    go to ``runs``, the result to ``results`` (both shared by the server's sessions)."""
    started = time.perf_counter()
    jobs = CLAIMS[name].jobs(settings)
    total = max(1, missing_epochs(name, settings, runs))
    # the runs are held here, not looked up again: the store may evict some before the end
    collected = pool.train(jobs, runs, {}, lambda done: on_progress(
        min(1.0, done / total), f"{done} of {total} epochs trained"))
    on_progress(1.0, "judging the figures" if jobs else "timing the layers")
    result = pool.call(judge, name, settings, collected)
    result.seconds = time.perf_counter() - started
    results.put(result_key(name, settings), result)
    return result
