"""The labs (lrn_lab): the data set, the network, the training protocol, the verdict rule,
every claim on a tiny configuration, and the shipped results. Accuracies and timings depend
on the CPU, so no test asserts a real experiment's verdict: only the rule on simulated
seeds, exact identities within one process, shapes, and records."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from scipy import stats as scipy_stats

from lrn_lab import claims, stats
from lrn_lab.claims import CLAIMS, VARIATIONS, Result, Settings
from lrn_lab.network import VARIANTS, calibrate, fold, lrn_inputs, make_model, response, scale
from lrn_lab.results import CLAIMS_FILE, TRAINING_FILE, defaults, load
from lrn_lab.shapes import CLASSES, make_shapes
from lrn_lab.train import (RATES, Run, TrainConfig, Trainer, choose_rate, data, first_layer, job,
                           load_record, main, rates_for, recompute_batchnorm, schedule, settled,
                           train)

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)


def test_shapes_are_fixed_balanced_and_distinct():
    x, y = make_shapes(60, 16, seed=0)
    assert x.shape == (60, 1, 16, 16) and x.dtype == torch.float32
    assert torch.bincount(y).tolist() == [10] * len(CLASSES)
    x2, y2 = make_shapes(60, 16, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)  # a fixed split
    assert not torch.equal(x, make_shapes(60, 16, seed=1)[0])
    clean, labels = make_shapes(600, 16, seed=2, noise=0.0)
    means = torch.stack([clean[labels == c].mean(0) for c in range(len(CLASSES))]).flatten(1)
    assert torch.cdist(means, means).add(torch.eye(len(CLASSES))).min() > 0.1


def test_the_three_splits_differ_and_are_standardised_by_the_training_images():
    splits = data(TINY)
    assert {s: len(x) for s, (x, _) in splits.items()} == {"train": 128, "val": 64, "test": 64}
    x = splits["train"][0]
    assert abs(float(x.mean())) < 1e-5 and float(x.std()) == pytest.approx(1, abs=1e-5)
    assert not torch.equal(splits["val"][0], splits["test"][0])


# --- the network ------------------------------------------------------------------------------

def test_the_head_pools_globally_or_flattens():
    gap, flat = make_model("none", TINY), make_model("none", replace(TINY, head="flatten"))
    assert gap[-1].in_features == 4 * TINY.width
    assert flat[-1].in_features == 4 * TINY.width * (TINY.image_size // 4) ** 2
    x = torch.randn(2, 1, TINY.image_size, TINY.image_size)
    assert gap(x).shape == flat(x).shape == (2, len(CLASSES))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_conv_block_has_its_norm_after_the_relu(variant):
    names = [type(m).__name__ for m in make_model(variant, TINY)]
    expected = {"none": "Identity", "batchnorm": "BatchNorm2d"}.get(variant, "LocalResponseNorm")
    assert names.count(expected) == 3 and names.count("Conv2d") == 3
    for i, name in enumerate(names):
        if name == "Conv2d":
            assert names[i + 1:i + 3] == ["ReLU", expected]


def test_lrn_with_alpha_zero_and_k_one_trains_bit_for_bit_like_no_normalisation():
    plain = replace(TINY, k=1.0, alpha=0.0, alpha_scaled=False)
    none, lrn = train("none", 3, plain), train("lrn_across", 3, plain)
    assert [asdict(e) | {"seconds": 0} for e in none.epochs] == \
        [asdict(e) | {"seconds": 0} for e in lrn.epochs]
    assert none.final == lrn.final and torch.equal(none.first_filters, lrn.first_filters)


@pytest.mark.parametrize("variant", ["lrn_across", "lrn_within"])
def test_alpha_is_set_from_each_layers_measured_input_scale(variant):
    torch.manual_seed(0)
    model = make_model(variant, TINY)
    images = data(TINY)["train"][0][:64]
    alphas, scales = calibrate(model, TINY, images)
    inputs = lrn_inputs(model, images)  # what each layer sees with every alpha in force
    assert len(alphas) == len(scales) == 3
    for alpha, q_measured, seen in zip(alphas, scales, inputs):
        q = scale(seen)
        assert q_measured == pytest.approx(q, rel=1e-6)
        assert alpha == pytest.approx(TINY.alpha * TINY.k / q ** 2, rel=1e-6)
        # at the defaults the fold lies at sqrt(2) q: the scale is on the rising side
        assert fold(alpha, TINY.beta, TINY.k) == pytest.approx(math.sqrt(2) * q, rel=1e-6)


def test_without_scaling_alpha_is_left_as_it_is_and_the_scale_still_measured():
    config = replace(TINY, alpha=1e-4, alpha_scaled=False)
    alphas, scales = calibrate(make_model("lrn_across", config), config,
                               data(config)["train"][0][:64])
    assert alphas == [1e-4] * 3 and all(q > 0 for q in scales)


def test_the_fold_is_where_the_response_stops_rising():
    alpha, beta, k = 0.3, 0.75, 2.0
    x = torch.linspace(0, 10, 100_001, dtype=torch.float64)
    y = response(x, alpha, beta, k)
    assert float(x[y.argmax()]) == pytest.approx(fold(alpha, beta, k), abs=1e-3)
    assert fold(alpha, 0.5, k) == math.inf and fold(0.0, beta, k) == math.inf


# --- the protocol -----------------------------------------------------------------------------

def test_the_schedule_warms_up_over_the_first_epoch_then_decays_to_zero():
    factors = [schedule(step, 10, 4) for step in range(40)]
    assert factors[0] == pytest.approx(0.1) and factors[10] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(factors[:10], factors[1:11]))
    assert all(a >= b for a, b in zip(factors[10:], factors[11:])) and factors[-1] < 0.01


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_lowers_the_loss_and_reports_every_split(variant):
    # A trajectory, so checked against last-bit differences: the smallest fall, LRN's, is
    # 0.3% of the first epoch's loss, and scaling every initial weight by 1 + 1e-6 noise
    # moved these ratios by under 0.01%.
    run = train(variant, 0, replace(TINY, epochs=3))
    assert not run.diverged and len(run.epochs) == 3
    assert run.epochs[-1].train_loss < run.epochs[0].train_loss
    for by_split in run.final.values():
        assert set(by_split) == {"train", "val", "test"}
        assert all(0 <= acc <= 1 for _, acc in by_split.values())


def test_a_fixed_seed_reproduces_the_run_and_another_does_not():
    a, b, c = (train("batchnorm", s, TINY) for s in (1, 1, 2))
    assert [e.train_loss for e in a.epochs] == [e.train_loss for e in b.epochs]
    assert [e.train_loss for e in a.epochs] != [e.train_loss for e in c.epochs]


def test_a_diverging_run_stops_and_never_counts_as_an_accuracy():
    run = train("none", 0, replace(TINY, lr=1e4, epochs=3))
    assert run.diverged and len(run.epochs) == 1 and math.isnan(run.epochs[0].val_acc)
    assert math.isnan(run.accuracy()) and run.final == {}
    fine = train("none", 0, TINY)
    assert choose_rate({1e4: [run], 0.05: [fine]}) == 0.05
    assert choose_rate({1e4: [run]}) is None


def test_choose_rate_takes_the_best_mean_validation_accuracy():
    def ran(acc):
        r = Run("none", 0)
        r.final = {"recomputed": {"val": (0.0, acc)}}
        return r
    assert choose_rate({0.01: [ran(0.5), ran(0.7)], 0.1: [ran(0.65), ran(0.64)]}) == 0.1


def _fake_runs(config: TrainConfig, val_by_rate: dict) -> dict:
    """Runs of 'none', seed 0, with these validation accuracies (nan: diverged)."""
    runs = {}
    for rate, acc in val_by_rate.items():
        r = Run("none", 0, diverged=math.isnan(acc))
        r.final = {} if r.diverged else {"recomputed": {"val": (0.0, acc)}}
        runs[job("none", 0, replace(config, lr=rate))] = r
    return runs


def test_the_grid_grows_past_an_end_that_holds_the_best_rate():
    c = TINY
    assert rates_for("none", [0], c, {}) == list(RATES)  # nothing trained: the start
    inside = _fake_runs(c, {0.01: 0.3, 0.03: 0.5, 0.1: 0.4, 0.3: 0.2})
    assert rates_for("none", [0], c, inside) == list(RATES)
    top = _fake_runs(c, {0.01: 0.3, 0.03: 0.4, 0.1: 0.5, 0.3: 0.6})
    assert rates_for("none", [0], c, top) == [*RATES, 1.0]  # one step up, untrained yet
    assert not settled(["none"], [0], c, top)
    top.update(_fake_runs(c, {1.0: math.nan}))  # diverged there: 0.3 is the best, inside
    assert rates_for("none", [0], c, top) == [*RATES, 1.0] and settled(["none"], [0], c, top)
    bottom = _fake_runs(c, {0.003: 0.7, 0.01: 0.6, 0.03: 0.5, 0.1: 0.4, 0.3: 0.2})
    assert rates_for("none", [0], c, bottom) == [0.001, 0.003, *RATES]


def test_batchnorm_statistics_are_recomputed_over_the_training_images():
    model = make_model("batchnorm", TINY)
    x = data(TINY)["train"][0]
    seen = []
    hook = model[2].register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    assert recompute_batchnorm(model, x, 32)
    hook.remove()
    inputs = torch.cat(seen)  # 4 equal batches: the mean of their means is the mean
    torch.testing.assert_close(model[2].running_mean, inputs.mean((0, 2, 3)), rtol=1e-5,
                               atol=1e-6)
    assert model[2].momentum == 0.1  # restored
    assert not recompute_batchnorm(make_model("none", TINY), x, 32)


# --- the verdict rule -------------------------------------------------------------------------

@pytest.mark.parametrize("seeds", [2, 3, 5, 8])
def test_the_rule_calls_identical_variants_different_at_most_five_percent(seeds):
    # A/A: the two sides are the same distribution
    rates = stats.error_rates(seeds, 0.0, margin=1.0, trials=20_000)
    assert rates["supported"] + rates["contradicted"] <= 0.05


def test_the_rules_power_grows_with_seeds_where_the_old_rule_loses_it():
    power = [stats.error_rates(n, 2.0, margin=1.0, trials=20_000)["supported"]
             for n in (2, 3, 5, 8, 16)]
    assert all(a < b for a, b in zip(power, power[1:])) and power[-1] > 0.95
    old = [stats.old_rule_rates(n, 2.0) for n in (2, 3, 5, 8)]
    assert all(a > b for a, b in zip(old, old[1:]))  # the reason for the change


def test_welchs_interval_matches_scipys():
    a, b = [0.71, 0.74, 0.69, 0.77], [0.61, 0.66, 0.58]
    d, low, high = stats.welch(a, b)
    ci = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert d == pytest.approx(np.mean(a) - np.mean(b))


@pytest.mark.parametrize("a, b, expected", [
    ([0.80, 0.81, 0.82], [0.60, 0.61, 0.62], "supported"),
    ([0.60, 0.61, 0.62], [0.80, 0.81, 0.82], "contradicted"),
    ([0.700, 0.701, 0.702], [0.700, 0.701, 0.702], "no difference"),
    ([0.5, 0.9, 0.6], [0.7, 0.4, 0.8], "inconclusive"),
    ([0.8, math.nan], [0.6, 0.61], "inconclusive"),  # one finite figure: cannot tell
])
def test_the_rule_on_constructed_figures(a, b, expected):
    assert stats.compare(a, b, margin=0.02).verdict == expected


def test_figures_on_a_grid_get_the_grids_resolution():
    same = stats.compare([0.0] * 3, [-0.5] * 3, margin=0.25)
    widened = stats.compare([0.0] * 3, [-0.5] * 3, margin=0.25, resolution=0.5)
    assert same.low == same.high == 0.5 and widened.low < 0.5 < widened.high


# --- every claim, tiny ------------------------------------------------------------------------

SMALL = Settings(seeds=2, epochs=1, train_size=64, val_size=48, test_size=48)


@pytest.fixture(scope="module")
def tiny_results(monkeypatch_module):
    # a smaller network and images for speed: the claims take their config from TrainConfig
    monkeypatch_module.setattr(claims, "TrainConfig",
                               lambda: replace(TrainConfig(), width=4, image_size=16))
    done, results = {}, {}
    for name, claim in CLAIMS.items():
        settings = replace(SMALL, train_size=64)
        results[name] = claims.run(claim, settings, done)
    return results, done


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize("name", list(CLAIMS))
def test_each_claim_is_judged_under_the_base_and_each_of_its_variations(name, tiny_results):
    result = tiny_results[0][name]
    claim = CLAIMS[name]
    assert list(result.variations) == ["base", *claim.variations]
    assert all(v in stats.VERDICTS for v in result.variations.values())
    changed = [n for n, v in result.variations.items() if v != result.variations["base"]]
    assert result.verdict == (f"depends on {', '.join(changed)}" if changed
                              else result.variations["base"])
    assert result.agrees == (result.variations["base"] == claim.reported.direction)
    assert set(result.differences) == set(result.measured) == set(result.variations)
    assert result.charts
    assert Result.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_variation_changes_only_its_choice():
    s = SMALL
    base, flat = s.config(VARIATIONS["base"]), s.config(VARIATIONS["head: flatten"])
    assert replace(flat, head="gap") == base
    paper = s.config(VARIATIONS["LRN: AlexNet's literal values"])
    assert (paper.k, paper.alpha, paper.alpha_scaled, paper.convention) == \
        (2.0, 1e-4, False, "alexnet")


def test_the_shared_rate_judges_both_sides_at_one_rate(tiny_results):
    _, done = tiny_results
    s = replace(SMALL, train_size=64)
    own = claims._sides(s, VARIATIONS["base"], done, "lrn_across", "none")
    shared = claims._sides(s, VARIATIONS["learning rate: shared"], done, "lrn_across", "none")
    assert shared[0].rate == shared[1].rate == own[1].rate


def test_another_first_seed_trains_other_runs():
    s = replace(SMALL, first_seed=10)
    jobs = CLAIMS["lrn-effect"].jobs(s, VARIATIONS["base"], {})
    assert {seed for _, seed, _ in jobs} == {10, 11}


def test_the_command_line_prints_json(capsys):
    claims.main(["cost", "--json", "--recheck-seed", "7"])
    out = json.loads(capsys.readouterr().out)
    (claim,) = out["claims"]
    # no "other_seeds": the cost claim trains nothing, so another set of seeds is no check
    assert set(claim) == {"name", "verdict", "reported", "agrees", "variations", "seconds"}
    assert claim["name"] == "cost" and set(claim["reported"]) == {"source", "direction", "size"}
    assert set(claim["variations"]) == {"base", "implementation: lrn_core across",
                                        "implementation: lrn_core within"}


def test_the_labs_benchmark_runs_a_claim_through_the_training_workers(capsys):
    from benchmarks.labs_app import main as labs_app
    labs_app(["cost"])  # timing only: the benchmark's path without minutes of training
    out = capsys.readouterr().out
    assert "training worker" in out
    assert re.search(r"^cost\s+0\s+[\d.]+\s+(depends on|supported|contradicted|no difference|"
                     r"inconclusive)", out, re.M), out


# --- what ships -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CLAIMS_FILE, TRAINING_FILE])
def test_the_shipped_results_were_made_with_todays_defaults(path):
    saved = load(path)
    record = saved["record"]
    assert record["defaults"] == json.loads(json.dumps(defaults()))
    assert re.fullmatch(r"\d+\.\d+.*", record["torch"]) and record["machine"]


def test_the_shipped_claims_are_every_claim_at_its_defaults():
    results = load(CLAIMS_FILE)["results"]
    assert list(results) == list(CLAIMS)
    for name, saved in results.items():
        assert Settings(**saved["settings"]) == CLAIMS[name].defaults
        assert Result.from_dict({k: v for k, v in saved.items() if k != "settings"}).claim == name


def test_the_shipped_training_result_is_the_training_labs_default():
    from lrn_app.controls import Training
    settings = load(TRAINING_FILE)["results"]["settings"]
    page = Training()
    assert tuple(settings["variants"]) == page.variants and settings["seeds"] == page.seeds
    assert TrainConfig(**settings["config"]) == page.config()
    assert tuple(settings["rates"]) == RATES


# --- the shipped filters (lrn_app/assets/learned/filters.npz) ---------------------------------

def shipped_filters():
    from lrn_app.features import LEARNED_DEFAULT
    from lrn_lab.train import parse_args
    record = load_record(LEARNED_DEFAULT)
    args, config = parse_args(record["command"][1:])
    return LEARNED_DEFAULT, record, args, config


def test_shipped_filters_record_how_they_were_made():
    path, record, args, config = shipped_filters()
    assert record["command"][0] == "lrn-train" and args.save_filters
    assert replace(TrainConfig(**record["config"]), lr=config.lr) == config
    assert record["config"]["lr"] in args.rates
    assert (record["variant"], record["seed"]) == (args.variants[0], args.first_seed)
    assert len(record["seeds_test_acc"]) == args.seeds >= 5
    assert record["test_acc"] == record["seeds_test_acc"][0]


def test_shipped_filters_are_well_formed_and_their_gain_is_theirs():
    from lrn_app.features import load_learned
    path, record, args, config = shipped_filters()
    filters, bias, gain = load_learned(path)
    assert filters.shape == (config.width, 1, 5, 5) and bias.shape == (config.width,)
    assert np.isfinite(filters).all() and filters.std() > 0
    run = Run(record["variant"], record["seed"], first_filters=torch.from_numpy(filters),
              first_bias=torch.from_numpy(bias))
    assert float(first_layer(run, config)["gain"]) == pytest.approx(gain, rel=1e-4)


def test_the_recorded_command_still_reaches_the_recorded_accuracy(tmp_path):
    # Elsewhere each run is a new draw of the same distribution: the two sets must not be
    # told apart by the lab's own rule, at 99.9% so that another CPU fails 0.1% of the time.
    path, record, args, config = shipped_filters()
    command = record["command"][1:]
    command[command.index("--save-filters") + 1] = str(tmp_path / "fresh.npz")
    main(command)
    fresh = load_record(tmp_path / "fresh.npz")
    c = stats.compare(fresh["seeds_test_acc"], record["seeds_test_acc"], margin=0.05,
                      level=0.999)
    assert c.verdict not in ("supported", "contradicted"), c


# --- training out of the server's process (lrn_app.training_pool) -----------------------------

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
    from lrn_app.training_pool import QueueFull, TrainingPool
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
    from lrn_app.training_pool import TrainingPool
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
