"""Every claim (lrn_lab.claims) on a tiny configuration: what it measures, its variations and
its record. Accuracies depend on the CPU, so no test asserts a real experiment's verdict."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest

from lrn_lab import claim_parts, claims, stats
from lrn_lab.claim_parts import VARIATIONS, Result, Settings
from lrn_lab.claims import CLAIMS
from lrn_lab.trainer import TrainConfig
from tests import ROOT

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



# --- every claim, tiny ------------------------------------------------------------------------

SMALL = Settings(seeds=2, epochs=1, train_size=64, val_size=48, test_size=48)


@pytest.fixture(scope="module")
def tiny_results(monkeypatch_module):
    # a smaller network and images for speed: Settings.config starts from TrainConfig()
    monkeypatch_module.setattr(claim_parts, "TrainConfig",
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
    own = claim_parts.both_sides(s, VARIATIONS["base"], done, "lrn_across", "none")
    shared = claim_parts.both_sides(
        s, VARIATIONS["learning rate: shared"], done, "lrn_across", "none"
    )
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


@pytest.mark.slow
def test_the_labs_benchmark_runs_a_claim_through_the_training_workers():
    # timing only: the benchmark's path without minutes of training, run as its user runs it
    done = subprocess.run([sys.executable, "-m", "benchmarks.labs_app", "cost"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "training worker" in out
    assert re.search(r"^cost\s+0\s+[\d.]+\s+(depends on|supported|contradicted|no difference|"
                     r"inconclusive)", out, re.M), out
