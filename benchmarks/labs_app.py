"""Each claim as the app runs it: through the server's training workers (lrn_app.training_pool,
one per core but one), with empty stores, as the first session to ask for it.

    python -m benchmarks.claims_app [NAME ...]

Prints each claim's seconds from "Run" to its verdict (issue 14's budget: 90 s each) and the
epochs it trained. No browser: on a real server a student's browser runs on the student's
laptop, and here it would share this machine's two cores with the workers.
"""

from __future__ import annotations

import sys
import time

from lrn_app.claims import missing_epochs, run_claim
from lrn_app.training_pool import TrainingPool
from lrn_core.claims import CLAIMS


class Store(dict):
    def put(self, key, value):
        self[key] = value


def main(argv: list[str]) -> None:
    names = argv or list(CLAIMS)
    pool = TrainingPool()
    pool.call(time.sleep, 0)  # start the worker before the clock does
    print(f"{pool.workers} training worker(s)")
    print(f"{'claim':<18}{'epochs':>8}{'seconds':>9}  verdict")
    try:
        for name in names:
            claim = CLAIMS[name]
            runs, results = Store(), Store()
            epochs = missing_epochs(name, claim.defaults, runs)
            started = time.perf_counter()
            result = run_claim(name, claim.defaults, pool, runs, results, lambda *_: None)
            print(f"{name:<18}{epochs:>8}{time.perf_counter() - started:>9.1f}  {result.verdict}",
                  flush=True)
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
