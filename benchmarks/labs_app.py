"""Each lab as the app runs it: through the server's training workers
(lrn_app.serving.training_pool, one per core at nice 10), with empty stores, as the first
session to ask for it.

    python -m benchmarks.labs_app [training] [NAME ...]

Prints the seconds from "Run" to the result of the Training lab's defaults (budget: 60 s)
and of each claim (budget: 90 s each), and the epochs each trained. No browser: on a real
server a student's browser runs on the student's laptop, and here it would share this
machine's two cores with the workers.
"""

from __future__ import annotations

import sys
import time

from lrn_app.compute import training
from lrn_app.compute.claims import run_claim
from lrn_app.serving.training_pool import TrainingPool
from lrn_app.state import Training
from lrn_lab.claims import CLAIMS


class Store(dict):
    def put(self, key, value):
        self[key] = value


def train_the_lab(pool: TrainingPool) -> str:
    """The Training lab's defaults as its page trains them: rounds until every grid is
    settled. Returns each variant's chosen rate."""
    state, store = Training(), Store()
    config = state.config()
    while missing := training.missing(state.variants, state.seeds, config, store):
        pool.train(missing, store, {})
    done = training.outcomes(state.variants, state.seeds, config, store)
    return ", ".join(f"{o.variant} at {o.rate:g}" for o in done)


def main(argv: list[str]) -> None:
    names = argv or ["training", *CLAIMS]
    pool = TrainingPool()
    pool.call(time.sleep, 0)  # start the worker before the clock does
    print(f"{pool.workers} training worker(s)")
    print(f"{'lab':<18}{'epochs':>8}{'seconds':>9}  result")
    try:
        for name in names:
            started = time.perf_counter()
            before = pool.epochs_trained
            if name == "training":
                result = train_the_lab(pool)
            else:
                result = run_claim(name, CLAIMS[name].defaults, pool, Store(), Store(),
                                   lambda *_: None).verdict
            print(f"{name:<18}{pool.epochs_trained - before:>8}"
                  f"{time.perf_counter() - started:>9.1f}  {result}", flush=True)
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
