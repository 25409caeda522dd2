"""The training lab's core: the shapes data set, the CNN variants and the training loop."""

import re
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

import lrn_core.local_response as local_response
from lrn_core import LocalResponseNorm
from lrn_core.shapes import CLASSES, make_shapes
from lrn_core.train import (VARIANTS, Run, Summary, TrainConfig, Trainer, differs, first_layer,
                            load_record, main, make_model, summarise, train, verdict)

TINY = replace(TrainConfig(), epochs=3, train_size=192, val_size=96, batch_size=32, width=4,
               image_size=16, lr=0.05)


def test_shapes_are_fixed_balanced_and_distinct():
    x, y = make_shapes(60, 16, seed=0)
    assert x.shape == (60, 1, 16, 16) and x.dtype == torch.float32
    assert torch.bincount(y).tolist() == [10] * len(CLASSES)
    x2, y2 = make_shapes(60, 16, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)  # a fixed split
    x3, _ = make_shapes(60, 16, seed=1)
    assert not torch.equal(x, x3)
    # without noise, every class has its own mean image
    clean, labels = make_shapes(600, 16, seed=2, noise=0.0)
    means = torch.stack([clean[labels == c].mean(0) for c in range(len(CLASSES))]).flatten(1)
    assert torch.cdist(means, means).add(torch.eye(len(CLASSES))).min() > 0.1


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_lowers_the_loss(variant):
    # A trajectory, so it was checked against last-bit differences: the smallest fall, LRN
    # within a channel's, is 0.4% of the first epoch's loss (BatchNorm's 36%), and scaling
    # every initial weight by 1 + 1e-6 noise (more than CPUs' rounding differences) moved
    # these ratios by under 0.01%.
    run = train(variant, 0, TINY)
    losses = [e.train_loss for e in run.epochs]
    assert len(losses) == TINY.epochs and losses[-1] < losses[0]
    assert run.first_filters.shape == (TINY.width, 1, 5, 5)
    assert all(0 <= e.val_acc <= 1 and e.seconds > 0 for e in run.epochs)


def test_a_fixed_seed_reproduces_the_run_and_another_does_not():
    # Exact equality of two runs in one process on one machine (the same kernels and thread
    # count), which holds on any CPU; across CPUs only the accuracy is comparable (below).
    a, b = train("batchnorm", 1, TINY), train("batchnorm", 1, TINY)
    assert [e.train_loss for e in a.epochs] == [e.train_loss for e in b.epochs]
    assert torch.equal(a.first_filters, b.first_filters)
    c = train("batchnorm", 2, TINY)
    assert [e.train_loss for e in a.epochs] != [e.train_loss for e in c.epochs]


@pytest.mark.parametrize("variant", ["lrn_across", "lrn_within"])
def test_lrn_variants_backpropagate_through_the_closed_form(variant, monkeypatch):
    calls = []
    original = local_response._backward

    def counting(*args, **kwargs):
        calls.append(args[2].mode)  # the Window
        return original(*args, **kwargs)

    monkeypatch.setattr(local_response, "_backward", counting)
    model = make_model(variant, TINY)
    assert sum(isinstance(m, LocalResponseNorm) for m in model) == 2
    x, y = make_shapes(8, TINY.image_size)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    assert calls == [variant.removeprefix("lrn_")] * 2  # both layers, no autograd fallback
    assert model[0].weight.grad is not None and model[0].weight.grad.abs().sum() > 0


def test_parameter_counts_differ_only_by_batchnorms_scale_and_shift():
    counts = {v: sum(p.numel() for p in make_model(v, TINY).parameters()) for v in VARIANTS}
    assert counts["none"] == counts["lrn_across"] == counts["lrn_within"]
    assert counts["batchnorm"] - counts["none"] == 2 * (TINY.width + 2 * TINY.width)


def test_trainer_steps_one_epoch_at_a_time():
    trainer = Trainer("none", 0, TINY)
    first = trainer.step()
    assert first.epoch == 1 and len(trainer.run.epochs) == 1 and not trainer.done
    trainer.step(), trainer.step()
    assert trainer.done


def test_verdict_is_honest_about_spread():
    close = [Summary("batchnorm", [0.80, 0.70, 0.75], 1.0, 10), Summary("none", [0.74, 0.72, 0.70], 1.0, 8)]
    assert "within the seed-to-seed spread" in verdict(close)
    apart = [Summary("batchnorm", [0.90, 0.91, 0.92], 1.0, 10), Summary("none", [0.60, 0.61, 0.62], 1.0, 8)]
    assert "more than the seed-to-seed spread" in verdict(apart)
    one_seed = [Summary("batchnorm", [0.9], 1.0, 10), Summary("none", [0.6], 1.0, 8)]
    assert "cannot tell a result from noise" in verdict(one_seed)
    assert verdict([]) == "No run has finished yet."


def test_summaries_average_over_seeds():
    runs = [train("none", seed, replace(TINY, epochs=1)) for seed in (0, 1)]
    (summary,) = summarise(runs)
    assert summary.final_val_acc == [r.epochs[-1].val_acc for r in runs]
    assert summary.mean == pytest.approx(sum(summary.final_val_acc) / 2)


def test_command_line_prints_the_table(capsys):
    main(["--epochs", "1", "--seeds", "1", "--train-size", "96", "--val-size", "48",
          "--width", "4", "--image-size", "16", "--variants", "none", "batchnorm"])
    out = capsys.readouterr().out
    assert "no normalisation" in out and "BatchNorm" in out and "ended best" in out
    with pytest.raises(SystemExit):
        main(["--variants", "dropout"])


def test_runs_side_by_side_equal_runs_one_at_a_time():
    # Weight init draws from torch's global generator; two threads must not interleave it.
    # Exact equality is fair: both sides run here, with torch's one global thread count.
    from concurrent.futures import ThreadPoolExecutor
    jobs = [("none", 0), ("batchnorm", 1), ("lrn_across", 2), ("none", 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(lambda job: train(*job, TINY), jobs))
    for job, run in zip(jobs, parallel):
        alone = train(*job, TINY)
        assert torch.equal(run.first_filters, alone.first_filters), job
        assert [e.val_acc for e in run.epochs] == [e.val_acc for e in alone.epochs], job


# --- The shipped filters (lrn_app/assets/learned/filters.npz) ---------------------------------
# They are one training run's first layer. The same command gives other weights on another
# CPU: its kernels sum in another order and six epochs of SGD amplify the last bits (here,
# scaling the initial weights by 1 + 1e-6 noise moved seed 0's accuracy from 80% to anywhere
# in 72-83%, as wide as the seeds themselves). So these tests check what holds on any machine:
# the file says how it was made, it is well formed and self-consistent, and the recorded
# command still reaches the recorded accuracy by the lab's own rule for "no difference".

def shipped():
    from lrn_app.features import LEARNED_DEFAULT
    from lrn_core.train import load_record, parse_args
    record = load_record(LEARNED_DEFAULT)
    args, config = parse_args(record["command"][1:])  # the recorded command line, re-read
    return LEARNED_DEFAULT, record, args, config


def test_shipped_filters_record_how_they_were_made():
    path, record, args, config = shipped()
    assert record["command"][0] == "lrn-train" and args.save_filters
    # The settings the command gives today are the ones the file was made with: a changed
    # default (epochs, learning rate, LRN parameters...) makes the file stale, and this fails.
    assert record["config"] == asdict(config)
    assert (record["variant"], record["seed"]) == (args.variants[0], 0)
    assert len(record["seeds_val_acc"]) == args.seeds >= 5
    assert record["val_acc"] == record["seeds_val_acc"][0]
    assert record["spread"] == pytest.approx(
        (max(record["seeds_val_acc"]) - min(record["seeds_val_acc"])) / 2)
    assert all(0 < a <= 1 for a in record["seeds_val_acc"])
    assert re.fullmatch(r"\d+\.\d+.*", record["torch"]) and record["machine"]


def test_shipped_filters_are_well_formed_and_their_gain_is_theirs():
    from lrn_app.features import load_learned
    path, record, args, config = shipped()
    filters, bias, gain = load_learned(path)
    assert filters.shape == (config.width, 1, 5, 5) and bias.shape == (config.width,)
    assert np.isfinite(filters).all() and np.isfinite(bias).all() and filters.std() > 0
    # The gain is recomputed from the filters on the validation shapes. Tolerance: the shapes
    # and the convolution differ between CPUs in the last bits only (float32, 1e-7 relative),
    # and a quantile moves with them by as little; 1e-4 leaves a wide margin.
    run = Run(record["variant"], record["seed"], first_filters=torch.from_numpy(filters),
              first_bias=torch.from_numpy(bias))
    assert float(first_layer(run, config)["gain"]) == pytest.approx(gain, rel=1e-4)


def test_the_recorded_command_still_reaches_the_recorded_accuracy(tmp_path):
    # Five seeds of the recorded command (about 13 s on 2 cores) against the recorded ten,
    # by the lab's own rule (`differs`: the gap between the means against the two spreads
    # added). On this machine the five equal the first five recorded. Elsewhere each run is
    # in effect a new draw: resampling 12 runs measured here (seeds and perturbed starts),
    # the rule calls two such sets different in about 0.14% of draws.
    path, record, args, config = shipped()
    command = record["command"][1:]
    command[command.index("--seeds") + 1] = "5"
    command[command.index("--save-filters") + 1] = str(tmp_path / "fresh.npz")
    main(command)
    fresh = load_record(tmp_path / "fresh.npz")
    assert fresh["config"] == record["config"] and len(fresh["seeds_val_acc"]) == 5
    recorded = Summary(record["variant"], record["seeds_val_acc"], 0.0, 0)
    again = Summary(fresh["variant"], fresh["seeds_val_acc"], 0.0, 0)
    assert not differs(recorded, again), (recorded.mean, recorded.spread, again.mean, again.spread)


# --- training out of the server's process (lrn_app.training_pool) --------------------------------

def _same_run(a: Run, b: Run) -> None:
    assert [asdict(e) | {"seconds": 0} for e in a.epochs] == \
        [asdict(e) | {"seconds": 0} for e in b.epochs]
    torch.testing.assert_close(a.first_filters, b.first_filters, rtol=0, atol=0)


def test_a_trainer_round_trips_through_pickle_between_epochs():
    """What the pool does between epochs, in one process with one thread count: a trainer
    pickled and unpickled after each epoch trains exactly as one that stays put."""
    import pickle  # the test's own round trip; the app never unpickles user data
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        stay = Trainer("batchnorm", 1, TINY)
        travel = Trainer("batchnorm", 1, TINY)
        while not stay.done:
            stay.step()
            travel = pickle.loads(pickle.dumps(travel))
            assert travel.optimizer.param_groups[0]["params"][0] is travel.model[0].weight
            travel.step()
    finally:
        torch.set_num_threads(threads)
    _same_run(stay.run, travel.run)


def test_the_pool_trains_in_worker_processes_and_keeps_a_line():
    from lrn_app.training_pool import QueueFull, TrainingPool
    pool = TrainingPool(workers=1, max_waiting=1)
    try:
        first, second = pool.join(), pool.join()
        assert (pool.place(first), pool.place(second)) == (0, 1)  # the second sees its place
        with pytest.raises(QueueFull):
            pool.join()
        trainers = [Trainer("none", 0, TINY), Trainer("lrn_across", 0, TINY)]
        while not trainers[0].done:
            trainers = pool.epochs(trainers)
        assert [len(t.run.epochs) for t in trainers] == [TINY.epochs] * 2
        assert pool.epochs_trained == 2 * TINY.epochs
        assert all(np.isfinite(e.val_loss) for t in trainers for e in t.run.epochs)
        pool.leave(first)
        assert pool.place(second) == 0  # its turn
    finally:
        pool.shutdown()
