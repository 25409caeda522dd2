"""The address (lrn_app.urlstate) and the pages' controls (lrn_app.state): every field round
trips, hand-edited values are repaired with a notice, each convention's limits hold.
"""


import pytest

from lrn_app import urlstate
from lrn_app.state import Compare, Conventions, Explorer, Gradients, Training, repair
from lrn_core import CONVENTIONS


def test_url_round_trip_of_every_field():
    state = Explorer(sample="spot", source="rgb", channels=48, side=512, mode="within",
                              convention="onednn", n=4, k=0.5, alpha=0.123456789, beta=1.25,
                              channel=2, row=3, col=4, tab="Export", view="gain",
                              per_channel_scale=False, shuffle=True)
    parsed, notices = urlstate.parse(urlstate.to_query(state), Explorer)
    assert parsed == state and notices == []


def test_repair_follows_each_conventions_limits():
    state, notices = repair(Explorer(convention="cudnn", n=30, k=0.0, beta=0.0))
    assert (state.n, state.k, state.beta) == (16, 0.01, 0.01) and len(notices) == 3
    state, _ = repair(Explorer(convention="caffe", n=6))
    assert state.n == 7
    state, notices = repair(Explorer(mode="within", convention="pytorch"))
    assert state.convention == "caffe" and "no within-channel" in notices[0]


@pytest.mark.parametrize("page", [Explorer, Gradients, Compare,
                                  Conventions, Training])
def test_every_pages_defaults_round_trip_and_survive_garbage(page):
    state, notices = urlstate.parse({}, page)
    assert state == page() and notices == []
    for key in [f for f in page.__dataclass_fields__ if not f.isupper()]:
        parsed, notices = urlstate.parse({key: "\x00garbage"}, page)
        assert isinstance(parsed, page)
        parsed, _ = urlstate.parse({key: "1e308"}, page)
        assert isinstance(parsed, page)
        parsed, _ = urlstate.parse({key: "-99999999999999999999"}, page)
        assert isinstance(parsed, page)
        assert urlstate.parse(urlstate.to_query(parsed), page)[0] == parsed  # repaired = stable


def test_compare_url_round_trip_and_repairs():
    state = Compare(images=("spot", "cat"), augment=("flip", "darker"), chosen=3,
                             swap=("noise",), bn_mode="eval", gamma=-1.5, shift=0.25, eps=1e-3,
                             momentum=0.5, warmup=0, channel=2, convention="onnx", n=4)
    assert urlstate.parse(urlstate.to_query(state), Compare) == (state, [])
    state, notices = urlstate.parse({"images": "cat,coffee,camera,astronaut,spot,noise",
                                     "augment": "flip,crop", "warmup": "500",
                                     "images ": "x"}, Compare)
    assert state.augment == () and state.warmup == 100 and len(notices) == 3


def test_gradients_url_round_trip():
    state = Gradients(sample="spot", loss="one value", channel=3, row=10, col=20,
                               mates=("cat", "noise"), mode="within", convention="caffe", n=3)
    assert urlstate.parse(urlstate.to_query(state), Gradients) == (state, [])
    assert set(CONVENTIONS) >= set(Gradients.CHOICES["convention"])
