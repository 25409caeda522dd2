"""What ships (lrn_lab/shipped, lrn_app/assets/learned): made with today's defaults, and
readable by the app."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from lrn_lab import stats
from lrn_lab.claim_parts import Result, Settings
from lrn_lab.claims import CLAIMS
from lrn_lab.results import CLAIMS_FILE, TRAINING_FILE, defaults, load
from lrn_lab.train import main
from lrn_lab.trainer import RATES, Run, TrainConfig, first_layer, load_record

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



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
    from lrn_app.state import Training
    settings = load(TRAINING_FILE)["results"]["settings"]
    page = Training()
    assert tuple(settings["variants"]) == page.variants and settings["seeds"] == page.seeds
    assert TrainConfig(**settings["config"]) == page.config()
    assert tuple(settings["rates"]) == RATES


# --- the shipped filters (lrn_app/assets/learned/filters.npz) ---------------------------------

def shipped_filters():
    from lrn_app.inputs.features import LEARNED_DEFAULT
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
    from lrn_app.inputs.features import load_learned
    path, record, args, config = shipped_filters()
    filters, bias, gain = load_learned(path)
    assert filters.shape == (config.width, 1, 5, 5) and bias.shape == (config.width,)
    assert np.isfinite(filters).all() and filters.std() > 0
    run = Run(record["variant"], record["seed"], first_filters=torch.from_numpy(filters),
              first_bias=torch.from_numpy(bias))
    assert float(first_layer(run, config)["gain"]) == pytest.approx(gain, rel=1e-4)


@pytest.mark.slow
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
