"""Stores shared by every session of a server process."""

from __future__ import annotations

import threading
from collections import OrderedDict


class RunStore:
    """Finished training runs, shared by every session of this server: a class that trains
    once shows the result to all. Bounded (least recently used out) and thread-safe."""

    def __init__(self, max_runs: int = 256):
        self._runs: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_runs = max_runs

    def get(self, key: tuple):
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        return None

    def put(self, key: tuple, run) -> None:
        with self._lock:
            self._runs[key] = run
            self._runs.move_to_end(key)
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)
