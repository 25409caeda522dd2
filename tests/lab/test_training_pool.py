"""Training out of the server's process (lrn_app.serving.training_pool): the workers train
exactly what the command line trains."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest
import torch

from lrn_lab.trainer import TrainConfig, Trainer, train

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



# --- training out of the server's process (lrn_app.serving.training_pool) -------------------------

def test_a_trainer_round_trips_through_pickle_between_epochs():
    import pickle  # the test's own round trip; the app never unpickles user data
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        stay, travel = Trainer("batchnorm", 1, TINY), Trainer("batchnorm", 1, TINY)
        while not stay.done:
            stay.step()
            travel = pickle.loads(pickle.dumps(travel))
            assert travel.optimizer.param_groups[0]["params"][0] is travel.model[0].weight
            travel.step()
    finally:
        torch.set_num_threads(threads)
    assert [asdict(e) | {"seconds": 0} for e in stay.run.epochs] == \
        [asdict(e) | {"seconds": 0} for e in travel.run.epochs]
    assert stay.run.final == travel.run.final


def test_the_pool_trains_in_worker_processes_and_keeps_a_line():
    from lrn_app.serving.training_pool import QueueFull, TrainingPool
    pool = TrainingPool(workers=1, max_waiting=1)
    try:
        first, second = pool.join(), pool.join()
        assert (pool.place(first), pool.place(second)) == (0, 1)
        with pytest.raises(QueueFull):
            pool.join()
        trainers = [Trainer("none", 0, TINY), Trainer("lrn_across", 0, TINY)]
        while not trainers[0].done:
            trainers = pool.epochs(trainers)
        assert [len(t.run.epochs) for t in trainers] == [TINY.epochs] * 2
        assert pool.epochs_trained == 2 * TINY.epochs
        assert all(t.run.final for t in trainers)
        pool.leave(first)
        assert pool.place(second) == 0
    finally:
        pool.shutdown()


class _Store(dict):
    def put(self, key, value):
        self[key] = value


def test_a_run_the_app_trains_is_the_run_the_command_line_trains():
    """The pool starts a job's trainer in its single-threaded worker, as the command line
    builds it on one thread: the same data, initialisation, calibration and trajectory, so
    that the app reproduces the shipped results on the machine that made them. (Built in
    the server's process, which runs torch on more threads, trainers started from other
    last bits, and the sensitivity claim's verdict came out otherwise.)"""
    from lrn_app.serving.training_pool import TrainingPool
    job = ("lrn_across", 4, TINY)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        alone = train(*job)
    finally:
        torch.set_num_threads(threads)
    pool = TrainingPool(workers=1)
    try:
        (pooled,) = pool.train([job], _Store(), {}).values()
    finally:
        pool.shutdown()
    assert pooled.alphas == alone.alphas and pooled.final == alone.final
    assert [e.train_loss for e in pooled.epochs] == [e.train_loss for e in alone.epochs]
