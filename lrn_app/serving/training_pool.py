"""Training out of the interactive server process: a small pool of worker processes that
train the Training lab's runs an epoch at a time, and a queue of the sessions that train.

The pages' slider moves need the server's Python and its torch threads; a training run
holds a core for a minute. So epochs run in worker processes (one per core, each
single-threaded and at a lower CPU priority, so that the server's reruns come first when
the class is busy and the workers have the cores when it is not), and one session trains at
a time, the others waiting in line, each told its place. Between epochs a trainer travels
to a worker and back (lrn_lab.trainer.Trainer pickles), so the page still draws every
epoch, and Stop and Continue work as before. No Streamlit here; the app keeps one pool per
server (lrn_app.ui.cached.training_pool).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import torch

from lrn_lab.trainer import Trainer

WORKERS = os.cpu_count() or 1  # at nice 10: the pages' reruns still come first
MAX_WAITING = 16  # sessions in line at most; one more is told to come back later
# One epoch of one run on one worker, for the pages' estimates before a run (the labs'
# timings are in docs/labs.md; LRN's epochs cost about twice the others').
SECONDS_PER_EPOCH = 0.5


def _worker_setup() -> None:
    """Each worker: one torch thread, and a lower CPU priority, so that when the machine is
    busy the students' slider moves run before the training epochs."""
    torch.set_num_threads(1)
    os.nice(10)


def _epoch(trainer: Trainer | tuple) -> Trainer:
    """In a worker process: one epoch of one run; the trainer, one epoch on, goes back. A
    job (variant, seed, config) starts its trainer here: built in a single-threaded worker,
    its initialisation and LRN's calibration sum as the command line's do, so that a run
    trained by the app is the run `lrn-claims` trains on the same machine."""
    if not isinstance(trainer, Trainer):
        trainer = Trainer(*trainer)
    trainer.step()
    return trainer


def run_key(job: tuple) -> tuple:
    """A run's key in the server's store of finished runs, for a job (variant, seed, config):
    one key for the Training lab and the Claims lab, so they share runs of equal settings."""
    variant, seed, config = job
    return (config.key(), variant, seed)


class JobView:
    """A store of runs (keyed by run_key) seen as lrn_lab reads runs, by job; the runs in
    ``held`` come first (a caller's own, which the shared store may have evicted)."""

    def __init__(self, store, held: dict | None = None):
        self.store, self.held = store, {} if held is None else held

    def get(self, job, default=None):
        found = self.held.get(job) or self.store.get(run_key(job))
        return default if found is None else found

    def __getitem__(self, job):
        return self.get(job)


class QueueFull(RuntimeError):
    """More sessions wait to train than the queue holds."""


class TrainingPool:
    def __init__(self, workers: int = WORKERS, max_waiting: int = MAX_WAITING):
        self.workers = workers
        self.max_waiting = max_waiting
        # spawn: a worker starts clean (no copy of the server's threads, locks or caches)
        self._executor = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"),
                                             initializer=_worker_setup)
        self._lock = threading.Lock()
        self._line: list[int] = []  # tickets of the sessions training or waiting, in order
        self._tickets = itertools.count(1)
        self.epochs_trained = 0

    def join(self) -> int:
        """A ticket in the line (raises QueueFull when the line is full)."""
        with self._lock:
            if len(self._line) > self.max_waiting:
                raise QueueFull(f"{len(self._line)} sessions are training or waiting to train")
            ticket = next(self._tickets)
            self._line.append(ticket)
            return ticket

    def place(self, ticket: int) -> int:
        """How many sessions are ahead of this ticket (0: its turn to train)."""
        with self._lock:
            return self._line.index(ticket) if ticket in self._line else 0

    def leave(self, ticket: int) -> None:
        with self._lock:
            if ticket in self._line:
                self._line.remove(ticket)

    @contextmanager
    def turn(self, on_wait=None):
        """Wait in line for the workers (``on_wait(ahead)`` every half second meanwhile), hold
        them inside the ``with`` block, and leave the line however the block ends. Raises
        QueueFull when the line is full."""
        ticket = self.join()
        try:
            while (ahead := self.place(ticket)) > 0:
                if on_wait:
                    on_wait(ahead)
                time.sleep(0.5)
            yield
        finally:
            self.leave(ticket)

    def call(self, fn, *args):
        """``fn(*args)`` in a worker (fn must be importable there); its result."""
        return self._executor.submit(fn, *args).result()

    def epochs(self, trainers: list) -> list[Trainer]:
        """One more epoch of each trainer (or the first of a job), side by side on the
        workers; the trainers back."""
        done = [f.result() for f in [self._executor.submit(_epoch, t) for t in trainers]]
        with self._lock:
            self.epochs_trained += len(done)
        return done

    def train(self, jobs: list[tuple], store, trainers: dict, on_epochs=None) -> dict:
        """Every job (variant, seed, config) trained to its end, one run per worker at a time
        and an epoch per call: a run the ``store`` has (also one another session finished
        meanwhile) is taken from it; a run in ``trainers`` (by run_key: a caller that keeps
        this dict can continue after a stop) goes on from where it is. Finished runs go into
        ``store``; ``on_epochs(done)`` follows each round of epochs. Returns the runs by job."""
        runs, queue, active, done = {}, list(dict.fromkeys(jobs)), [], 0
        while queue or active:
            while len(active) < self.workers and queue:
                job = queue.pop(0)
                runs[job] = store.get(run_key(job))
                if runs[job] is None:
                    active.append(job)
            if not active:
                break
            started = [trainers.get(run_key(j), j) for j in active]  # a job starts in a worker
            for job, trainer in zip(active, self.epochs(started)):
                trainers[run_key(job)] = trainer
            done += len(active)
            for job in [j for j in active if trainers[run_key(j)].done]:
                runs[job] = trainers.pop(run_key(job)).run
                store.put(run_key(job), runs[job])
                active.remove(job)
            if on_epochs:
                on_epochs(done)
        return runs

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
