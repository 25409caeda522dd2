"""The training lab's core: the shapes data set, the CNN variants and the training loop."""

from dataclasses import replace

import pytest
import torch

import lrn_core.local_response as local_response
from lrn_core import LocalResponseNorm
from lrn_core.shapes import CLASSES, make_shapes
from lrn_core.train import (VARIANTS, Summary, TrainConfig, Trainer, main, make_model, summarise,
                            train, verdict)

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
    run = train(variant, 0, TINY)
    losses = [e.train_loss for e in run.epochs]
    assert len(losses) == TINY.epochs and losses[-1] < losses[0]
    assert run.first_filters.shape == (TINY.width, 1, 5, 5)
    assert all(0 <= e.val_acc <= 1 and e.seconds > 0 for e in run.epochs)


def test_a_fixed_seed_reproduces_the_run_and_another_does_not():
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
    from concurrent.futures import ThreadPoolExecutor
    jobs = [("none", 0), ("batchnorm", 1), ("lrn_across", 2), ("none", 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(lambda job: train(*job, TINY), jobs))
    for job, run in zip(jobs, parallel):
        alone = train(*job, TINY)
        assert torch.equal(run.first_filters, alone.first_filters), job
        assert [e.val_acc for e in run.epochs] == [e.val_acc for e in alone.epochs], job
