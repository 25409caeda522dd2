"""What the server packs for the browser's live figures (lrn_app.compute.live), against
lrn_core: each size's window as resolve has it, the values at the figures' pixels, and that
from the pack alone LRN comes out as lrn_core computes it, at random settings of every
convention and mode. (The browser's own computation, static/live/lrn.js, is held to the same
numbers in Chromium: tests/browser/test_live.py.)"""

import zlib

import numpy as np
import pytest

from lrn_app.compute import live
from lrn_app.figures.encode import downsampled
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.samples import load_sample
from lrn_app.state import Explorer, limits
from lrn_core import conventions_for, resolve

MODES = [(mode, c) for mode in ("across", "within") for c in conventions_for(mode)]


def features(side: int = 40, channels: int = 8) -> np.ndarray:
    return feature_maps(load_sample("cat", side), "gabor", channels)


def from_pack(pack: dict, n: int, k: float, alpha: float, beta: float) -> dict:
    """LRN from the pack alone, in float64 (what static/live/lrn.js does)."""
    C, h, w = pack["channels"], pack["height"], pack["width"]
    x = pack["x"].reshape(C, h, w).astype(np.float64)
    win = pack["windows"][str(n if pack["n_live"] else pack["n"])]
    if pack["n_live"]:
        S = np.stack([(x[max(0, c - win["before"]):c + win["after"] + 1] ** 2).sum(0)
                      for c in range(C)])
    else:
        S = pack["S"].reshape(C, h, w).astype(np.float64)
    D = (k if win["k"] is None else win["k"]) + alpha * win["a_per_alpha"] * S
    with np.errstate(divide="ignore", over="ignore"):  # D = 0 only where the gain is set to 0
        gain = np.where(D > 0, D ** -beta, 0.0)
    return {"S": S, "gain": gain, "output": x * gain}


@pytest.mark.parametrize("mode, convention", MODES)
def test_each_size_is_the_window_lrn_core_resolves(mode, convention):
    state = Explorer(mode=mode, convention=convention)
    lim = limits(convention, mode, 16)
    got = live.windows(state, 16)
    assert [int(n) for n in got] == list(range(lim.n_min, lim.n_max + 1, lim.n_step))
    for n, w in got.items():
        for alpha, k in ((1e-4, 2.0), (3.0, 0.5)):
            ref = resolve(int(n), alpha, 0.75, k, mode=mode, convention=convention)
            assert (w["before"], w["after"]) == (ref.before, ref.after)
            assert alpha * w["a_per_alpha"] == pytest.approx(ref.a, rel=1e-12)
            assert (k if w["k"] is None else w["k"]) == ref.k


def test_the_pack_holds_the_figures_pixels_exactly_and_within_a_channel_s():
    f = features(200, 8)
    for mode in ("across", "within"):
        state = Explorer(mode=mode, convention="onednn", n=3)
        pack = live.maps_pack(f, state)
        x = downsampled(f, live.MAX_SIDE)
        assert (pack["channels"], pack["height"], pack["width"]) == x.shape
        assert pack["x"].dtype == np.float32
        np.testing.assert_array_equal(pack["x"].reshape(x.shape), x)
        assert pack["n_live"] == (mode == "across") and ("S" in pack) == (mode == "within")
        if mode == "within":
            np.testing.assert_array_equal(pack["S"].reshape(x.shape),
                                          live.reference(f, state)["S"])


@pytest.mark.parametrize("mode", ["across", "within"])
@pytest.mark.parametrize("channels, side", [(8, 256), (16, 256), (16, 1024), (96, 256),
                                            (96, 1024), (3, 1024)])
def test_the_pack_keeps_within_its_bytes_at_the_finest_pixels_that_fit(mode, channels, side):
    """Many channels or a large image: the figures subsample further, to the finest step
    whose pack fits PACK_BYTES; where the finest already fits, nothing changes."""
    shape = (channels, side, side)
    got = live.figure_side(shape, mode)
    planes = 2 if mode == "within" else 1

    def size(long_side):  # the pack's bytes at that subsampling
        h, w = downsampled(np.empty((1, side, side), np.uint8), long_side).shape[1:]
        return channels * planes * 4 * h * w

    assert got <= live.MAX_SIDE and size(got) <= live.PACK_BYTES
    step = -(-side // got)
    if step > 1 and -(-side // (step - 1)) <= live.MAX_SIDE:  # one step finer would not fit
        assert size(-(-side // (step - 1))) > live.PACK_BYTES
    f = np.zeros(shape, np.float32)
    pack = live.maps_pack(f, Explorer(mode=mode, convention="onednn", n=3))
    assert sum(pack[a].nbytes for a in ("x", "S") if a in pack) <= live.PACK_BYTES
    assert (pack["height"], pack["width"]) == downsampled(f, got).shape[1:]


@pytest.mark.parametrize("mode, convention", MODES)
def test_from_the_pack_alone_lrn_is_lrn_cores_at_random_settings(mode, convention):
    f = features()
    f[:, :12, :12] = 0  # an all-zero corner: k = 0 leaves D = 0 there
    rng = np.random.default_rng(zlib.crc32(f"{mode} {convention}".encode()))
    packed = {}
    for trial in range(6):
        state = Explorer(mode=mode, convention=convention)
        lim = limits(convention, mode, f.shape[0])
        n = int(rng.choice(np.arange(lim.n_min, lim.n_max + 1, lim.n_step)))
        if trial == 0:  # an even size, where the convention has one
            n = next((m for m in range(lim.n_min, lim.n_max + 1, lim.n_step) if m % 2 == 0), n)
        if trial == 1 and lim.k_min == 0:  # k = 0, with a window that fits in the corner
            n, k = lim.n_min, 0.0
        else:
            k = float(rng.uniform(lim.k_min, 3))
        alpha, beta = float(10 ** rng.uniform(-3, 2)), float(rng.uniform(max(lim.beta_min, .1), 2))
        state = Explorer(mode=mode, convention=convention, n=n, k=k, alpha=alpha, beta=beta)
        key = n if mode == "within" else None  # within a channel S is packed at its n
        packed.setdefault(key, live.maps_pack(f, state))
        got, ref = from_pack(packed[key], n, k, alpha, beta), live.reference(f, state)
        for name in ("S", "gain", "output"):
            np.testing.assert_allclose(got[name], ref[name], rtol=1e-5, atol=0, err_msg=name)
        if resolve(n, alpha, beta, k, mode=mode, convention=convention).k == 0:
            assert (ref["gain"] == 0).any()  # the k = 0 cells were there, and came out 0


@pytest.mark.parametrize("released, expected", [
    ({"n": 7, "k": 2.0, "alpha": 0.5, "beta": 0.6}, (7, 2.0, 0.5, 0.6)),
    ({"n": 999, "k": -1.0, "alpha": 1e9, "beta": 5.0}, (32, 0.0, 1e4, 2.0)),  # clamped
    ({"n": 5, "k": 0.0, "alpha": 0.0, "beta": 0.75}, (5, 0.0, 0.0, 0.75)),  # the page says why
    ({"n": "seven", "k": 1, "alpha": 1, "beta": 1}, None),  # not a number: nothing changes
    ({"n": 5, "k": float("nan"), "alpha": 1, "beta": 1}, None),
    ({"alpha": 1}, None),
    ("n=5", None),
])
def test_a_release_from_the_browser_is_checked_like_an_address(released, expected):
    """The released settings come from the browser, where a hand-made message can send
    anything: numbers are held to the sliders' ranges, the rest changes nothing."""
    state = live.released(Explorer(channels=16), released)
    if expected is None:
        assert state is None
    else:
        assert (state.n, state.k, state.alpha, state.beta) == expected
