"""The UI-free logic behind the Gradients, LRN vs BatchNorm and Conventions pages, against
torch's own LRN, BatchNorm, LayerNorm/GroupNorm and autograd."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app import batch, compare, controls, gradients, translator
from lrn_core import CONVENTIONS, conventions_for, lrn, resolve

ACROSS = dict(size=5, alpha=2.0, beta=0.75, k=1.0, mode="across", convention="pytorch")


def relu_features(shape, seed=0):
    """Non-negative, like the app's Gabor + ReLU features, with some exact zeros."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return np.maximum(x, 0)


# --- gradients ----------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", list(gradients.LOSSES))
def test_lrn_gradient_is_autograd_through_torchs_own_lrn(loss):
    feats = relu_features((8, 12, 10))
    checked = gradients.lrn_gradient(feats, ACROSS, loss, 3, 4, 5)
    x = torch.from_numpy(feats).double().requires_grad_()
    y = F.local_response_norm(x[None], 5, alpha=2.0, beta=0.75, k=1.0)[0]
    L = {"sum": y.sum(), "squared norm": (y * y).sum(), "one value": y[3, 4, 5]}[loss]
    (expected,) = torch.autograd.grad(L, x)
    np.testing.assert_allclose(checked.grad, expected.numpy(), rtol=1e-5, atol=1e-7)
    assert checked.max_diff < 1e-12 * max(1.0, checked.scale) and checked.undefined == 0


def test_the_page_s_two_steps_are_lrn_gradient():
    """The page draws the closed form first and checks it at the end of its panel."""
    feats = relu_features((8, 12, 10))
    closed = gradients.closed_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5)
    assert closed.dtype == np.float64
    checked = gradients.check_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5, closed)
    whole = gradients.lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5)
    np.testing.assert_allclose(checked.grad, whole.grad, rtol=1e-6, atol=1e-9)
    assert max(checked.max_diff, whole.max_diff) < 1e-12 * max(1.0, whole.scale)
    wrong = gradients.check_lrn_gradient(feats, ACROSS, "squared norm", 3, 4, 5, closed * 1.01)
    assert wrong.max_diff > 1e-4 * wrong.scale  # a gradient that is off is caught


def test_k_zero_cells_are_left_out_of_the_autograd_check():
    feats = relu_features((4, 6, 6)) + 0.1
    feats[:, 0, 0] = 0  # the only all-zero window across channels (n=5 spans all 4 channels)
    args = dict(ACROSS, k=0.0)
    checked = gradients.lrn_gradient(feats, args, "sum", 0, 0, 0)
    assert checked.undefined == 4 and np.isfinite(checked.grad).all()


@pytest.mark.parametrize("c, r, s", [(2, 4, 4), (0, 0, 8), (5, 8, 1)])  # inside, at corners
@pytest.mark.parametrize("mode, convention, size", [("across", "pytorch", 5), ("across", "onnx", 4),
                                                    ("within", "caffe", 3), ("within", "alexnet", 2)])
def test_jacobian_row_is_autograds_and_shows_lateral_inhibition(mode, convention, size, c, r, s):
    """Against autograd's full Jacobian of the whole maps (the page's row is computed on the
    part of the maps that can reach the output)."""
    feats = relu_features((6, 9, 9), seed=1) + 0.1  # positive everywhere: every sign is defined
    args = dict(size=size, alpha=2.0, beta=0.75, k=1.0, mode=mode, convention=convention)
    jac = gradients.jacobian(feats, args, c, r, s)
    x = torch.from_numpy(feats).double()
    full = torch.autograd.functional.jacobian(
        lambda t: lrn(t, **args)[c, r, s], x)  # autograd through the closed-form Function
    if mode == "across":
        idx = [int(label.split()[1]) for label in jac.labels]
        np.testing.assert_allclose(jac.values, full[idx, r, s].numpy(), rtol=1e-5, atol=1e-8)
        centre, others = jac.values[idx.index(c)], np.delete(jac.values, idx.index(c))
    else:
        r0, s0 = jac.origin
        h, w = jac.values.shape
        np.testing.assert_allclose(jac.values, full[c, r0:r0 + h, s0:s0 + w].numpy(),
                                   rtol=1e-5, atol=1e-8)
        centre = jac.values[r - r0, s - s0]
        others = np.delete(jac.values.ravel(), (r - r0) * w + (s - s0))
    assert centre == pytest.approx(jac.centre) and centre > 0
    assert (others <= 0).all() and (others < 0).sum() >= 1  # inhibition, and zero outside
    assert float(full.abs().sum()) == pytest.approx(float(np.abs(jac.values).sum()), rel=1e-6)


def test_batchnorm_gradient_reaches_batch_mates_and_lrns_does_not():
    feats = relu_features((3, 4, 8, 8), seed=2)
    bn = gradients.batchnorm_gradient(feats, "squared norm", 0, 0, 0)
    lrn_grad = gradients.lrn_batch_gradient(feats, ACROSS, "squared norm", 0, 0, 0)
    assert np.abs(bn.grad[1:]).max() > 1e-3  # the loss sees image 0 only
    assert np.abs(lrn_grad[1:]).max() == 0.0
    assert bn.max_diff < 1e-9 * bn.scale
    np.testing.assert_allclose(lrn_grad[0], gradients.lrn_gradient(
        feats[0], ACROSS, "squared norm", 0, 0, 0).grad, rtol=1e-4, atol=1e-6)
    unchecked = gradients.batchnorm_gradient(feats, "squared norm", 0, 0, 0, check=False)
    np.testing.assert_allclose(unchecked.grad, bn.grad, rtol=1e-3, atol=1e-4)
    assert np.isnan(unchecked.max_diff)
    # The same image with other batch-mates: BatchNorm's gradient for it moves, LRN's does not.
    other = feats.copy()
    other[1:] = relu_features((2, 4, 8, 8), seed=3)
    swapped = gradients.batchnorm_gradient(other, "squared norm", 0, 0, 0)
    assert np.abs(swapped.grad[0] - bn.grad[0]).max() > 1e-3
    np.testing.assert_array_equal(gradients.lrn_batch_gradient(other, ACROSS, "squared norm", 0, 0, 0)[0],
                                  lrn_grad[0])



def test_couplings_are_what_the_page_shows_of_both_batches_gradients():
    feats = relu_features((3, 4, 8, 8), seed=2)
    swapped = feats.copy()
    swapped[1:] = relu_features((2, 4, 8, 8), seed=3)
    bn = gradients.batchnorm_coupling(feats, swapped, "squared norm", 2, 1, 1)
    full = gradients.batchnorm_gradient(feats, "squared norm", 2, 1, 1)
    other = gradients.batchnorm_gradient(swapped, "squared norm", 2, 1, 1)
    np.testing.assert_array_equal(bn.tiles, full.grad[:, 2])
    assert bn.on_mates == np.abs(full.grad[1:]).max() > 1e-3
    assert bn.swap_change == pytest.approx(np.abs(full.grad[0] - other.grad[0]).max()
                                           / np.abs(full.grad[0]).max(), rel=1e-3)
    assert bn.swap_change > 1e-3 and bn.max_diff == full.max_diff and bn.scale == full.scale
    lrn_side = gradients.lrn_coupling(feats, swapped, ACROSS, "squared norm", 2, 1, 1)
    np.testing.assert_array_equal(
        lrn_side.tiles, gradients.lrn_batch_gradient(feats, ACROSS, "squared norm", 2, 1, 1)[:, 2])
    assert lrn_side.on_mates == 0 and lrn_side.swap_change == 0  # LRN: one image at a time
    assert np.isnan(lrn_side.max_diff)

def test_pick_pixel():
    feats = np.zeros((2, 5, 7), dtype=np.float32)
    feats[1, 3, 6] = 1
    assert gradients.pick_pixel(feats, 1, -1, 2) == (3, 6)
    assert gradients.pick_pixel(feats, 1, 99, 99) == (4, 6)


# --- LRN vs BatchNorm -----------------------------------------------------------------------------

def test_batchnorm_with_running_statistics_matches_torch():
    x = torch.from_numpy(relu_features((5, 3, 6, 6), seed=4))
    bn = compare.BatchNormSettings(gamma=1.5, shift=-0.3, eps=1e-3, momentum=0.2, warmup=7)
    stats = compare.running_statistics(x, bn)
    module = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
    generator = torch.Generator().manual_seed(0)  # the same halves as running_statistics draws
    for _ in range(7):
        module.train()(x[torch.randperm(5, generator=generator)[:3]])
    torch.testing.assert_close(stats[0], module.running_mean)
    torch.testing.assert_close(stats[1], module.running_var)
    with torch.no_grad():
        module.weight.fill_(1.5)
        module.bias.fill_(-0.3)
        for training in (True, False):
            expected = copy.deepcopy(module).train(training)(x)  # training moves the stats
            torch.testing.assert_close(compare.apply_batchnorm(x, bn, stats, training), expected)


def test_swapping_batch_mates_changes_batchnorm_in_training_only_and_never_lrn():
    feats = relu_features((4, 6, 10, 10), seed=5)
    mates = relu_features((3, 6, 10, 10), seed=6) * 2
    train = compare.compare(feats, 1, mates, ACROSS, compare.BatchNormSettings(training=True))
    evaluation = compare.compare(feats, 1, mates, ACROSS, compare.BatchNormSettings(training=False))
    assert train.swap_change["BatchNorm"] > 0.01
    assert train.swap_change["LRN"] == 0.0 and evaluation.swap_change["LRN"] == 0.0
    assert evaluation.swap_change["BatchNorm"] == 0.0
    assert train.train_eval_change == pytest.approx(evaluation.train_eval_change)
    np.testing.assert_allclose(train.maps["LRN"], lrn(torch.from_numpy(feats[1]), 5, 2.0).numpy())


def test_without_warm_up_eval_mode_is_only_the_scale_and_shift():
    feats = relu_features((2, 3, 5, 5), seed=7)
    bn = compare.BatchNormSettings(training=False, gamma=2.0, shift=0.5, eps=1e-5, warmup=0)
    result = compare.compare(feats, 0, feats[1:], ACROSS, bn)
    np.testing.assert_allclose(result.maps["BatchNorm"], 2.0 * feats[0] / np.sqrt(1 + 1e-5) + 0.5,
                               rtol=1e-6)


def test_properties_are_measured_right():
    feats = relu_features((4, 8, 40, 36), seed=8)
    mates = relu_features((2, 8, 40, 36), seed=9)
    rows = {r["normalisation"]: r for r in compare.properties(feats, 0, mates, ACROSS,
                                                              compare.BatchNormSettings())}
    assert rows["LRN"]["trainable parameters"] == 0
    assert rows["BatchNorm"]["trainable parameters"] == 2 * 8
    assert rows["LayerNorm"]["trainable parameters"] == 2 * 8 * 40 * 36
    assert rows["GroupNorm"]["trainable parameters"] == 2 * 8
    assert rows["InstanceNorm"]["trainable parameters"] == 0  # torch's default: affine=False
    assert rows["BatchNorm"]["output depends on other images"] == "yes"
    assert rows["BatchNorm"]["train and eval differ"] == "yes"
    for name in ("LRN", "LayerNorm", "InstanceNorm", "GroupNorm"):
        assert rows[name]["output depends on other images"] == "no", name
        assert rows[name]["train and eval differ"] == "no", name
    assert rows["LRN"]["normalises over"].startswith("channels c-2..c+2")
    stats = compare.compare(feats, 0, mates, ACROSS, compare.BatchNormSettings()).stats
    assert compare.properties(feats, 0, mates, ACROSS, compare.BatchNormSettings(), stats) == \
        list(rows.values())  # the page reuses the comparison's running statistics
    # and measures LRN's row on every move, the others (which need no LRN settings) cached
    lrn_row = compare.properties(feats, 0, mates, ACROSS, compare.BatchNormSettings(), stats,
                                 names=["LRN"])
    others = compare.properties(feats, 0, mates, {}, compare.BatchNormSettings(), stats,
                                names=compare.NORMALISATIONS[1:])
    assert lrn_row + others == list(rows.values())


def test_histograms_share_bins_and_count_every_finite_value():
    maps = {"a": np.array([0.0, 1.0, 2.0]), "b": np.array([-1.0, np.nan, 3.0])}
    edges, counts = compare.histograms(maps, bins=4)
    assert edges[0] == -1.0 and edges[-1] == 3.0
    assert counts["a"].sum() == 3 and counts["b"].sum() == 2


def test_batch_squares_and_augments():
    image = np.random.default_rng(0).random((30, 50), dtype=np.float32)
    sq = batch.square(image, 16)
    assert sq.shape == (16, 16, 3) and np.allclose(sq[..., 0], sq[..., 2])  # grey -> RGB
    np.testing.assert_array_equal(batch.augment(sq, "flip"), sq[:, ::-1])
    assert batch.augment(sq, "brighter").max() <= 1.0
    np.testing.assert_allclose(batch.augment(sq, "darker"), sq * 0.5)
    assert batch.augment(sq, "crop").shape == sq.shape
    labels = batch.batch_labels(["cat", "my photo (1).png"], ["flip"])
    assert labels == ["cat", "my photo (1).png", "cat (flip)", "my photo (1).png (flip)"]
    assert [batch.split_label(label) for label in labels] == [
        ("cat", None), ("my photo (1).png", None), ("cat", "flip"), ("my photo (1).png", "flip")]
    with pytest.raises(ValueError, match="unknown augmentation"):
        batch.augment(sq, "rotate")


# --- Conventions ------------------------------------------------------------------------------------

def _accepts(mode, convention, size):
    try:
        resolve(size, 1.0, 0.75, 1.0, mode=mode, convention=convention)
        return True
    except ValueError:
        return False


SETTINGS = [(mode, c, n) for mode, sizes in (("across", (1, 2, 3, 4, 5, 8)), ("within", (1, 2, 3, 5)))
            for c in conventions_for(mode) for n in sizes if _accepts(mode, c, n)]


@pytest.mark.parametrize("mode, source, size", SETTINGS)
def test_translated_settings_agree_on_real_features_with_torch_itself(mode, source, size):
    feats = relu_features((12, 16, 16), seed=10)
    params = dict(size=size, alpha=3.0, beta=0.75, k=1.5)
    result = translator.agreement(feats, params, source, mode, translated=True)
    assert source in result.names
    assert result.matrix.max() < 1e-6, result.names  # float32 rounding only
    rows = {r["convention"]: r for r in translator.translations(params, source, mode)}
    assert set(rows) == set(conventions_for(mode))
    for name in conventions_for(mode):  # a convention runs exactly when it has a translation
        assert (name in result.names) == (rows[name]["why not"] == ""), name
        assert (name in result.missing) == (rows[name]["why not"] != ""), name


def test_same_numbers_in_other_libraries_disagree():
    feats = relu_features((12, 16, 16), seed=11)
    result = translator.agreement(feats, dict(size=4, alpha=3.0, beta=0.75, k=1.0), "pytorch",
                                  "across", translated=False)
    i, j = result.names.index("pytorch"), result.names.index("onnx")
    assert result.matrix[i, j] > 0.01  # mirror-image windows for an even size
    x, p = torch.from_numpy(feats), dict(size=4, alpha=3.0, beta=0.75, k=1.0)
    mine, theirs = lrn(x, **p, convention="pytorch"), lrn(x, **p, convention="onnx")
    assert result.matrix[i, j] == float((mine - theirs).abs().max()) / float(mine.abs().max())
    np.testing.assert_array_equal(result.matrix, result.matrix.T)  # each pair computed once
    assert not result.matrix.diagonal().any()
    assert result.matrix[i, result.names.index(translator.TORCH_OWN)] < 1e-6
    assert "caffe" in result.missing and "odd" in result.missing["caffe"]


def test_agreement_with_k_zero_leaves_torchs_nan_outputs_out_and_counts_them():
    """k = 0: torch's F.local_response_norm gives 0 / 0 = NaN on an all-zero window, where
    lrn_core defines 0. The matrix compares the other outputs and counts the NaN ones."""
    feats = relu_features((6, 10, 10), seed=12)
    feats[:, :3, :3] = 0  # all-zero windows for every size
    params = dict(size=3, alpha=2.0, beta=0.75, k=0.0)
    result = translator.agreement(feats, params, "pytorch", "across", translated=True)
    theirs = F.local_response_norm(torch.from_numpy(feats)[None], 3, 2.0, 0.75, 0.0)[0]
    assert result.undefined == {translator.TORCH_OWN: int(theirs.isnan().sum())}
    assert result.undefined[translator.TORCH_OWN] >= 6 * 9
    assert np.isfinite(result.matrix).all() and result.matrix.max() < 1e-6
    mine = lrn(torch.from_numpy(feats), **params)
    defined = ~theirs.isnan()
    i = result.names.index(translator.TORCH_OWN)
    assert result.matrix[0, i] == float((mine - theirs)[defined].abs().max()) / float(
        mine.abs().max())


def test_translation_table_keeps_the_source_numbers_and_explains_gaps():
    rows = {r["convention"]: r for r in translator.translations(
        dict(size=5, alpha=1e-4, beta=0.75, k=2.0), "alexnet", "across")}
    assert rows["alexnet"]["parameters"].startswith("n=5,")  # not n=4, the same window
    assert rows["pytorch"]["parameters"] == "size=5, alpha=0.0005, beta=0.75, k=2"
    assert rows["tensorflow"]["parameters"].startswith("depth_radius=2, alpha=0.0001,")
    rows = translator.translations(dict(size=4, alpha=1.0, beta=0.75, k=1.0), "pytorch", "across")
    assert [r["convention"] for r in rows if not r["why not"]] == ["pytorch"]
    assert all("c-2..c+1" in r["why not"] for r in rows if r["why not"])


def test_worked_examples_reproduce_the_note():
    examples = translator.worked_examples()
    assert len(examples) == 3
    for example in examples:
        assert example.max_error < 1e-7, example.name


def test_cross_map_lrn2d_defect_is_real_and_ours_is_not():
    outputs = translator.cross_map_defect()
    if outputs is None:
        pytest.skip("this torch has no nn.CrossMapLRN2d")
    ours, torch_lrn, legacy = outputs.values()
    np.testing.assert_allclose(ours, [1 / 3, 1 / 4, 1 / 4, 1 / 4, 1 / 4, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(torch_lrn, ours, rtol=1e-6)
    assert np.abs(legacy - ours).max() > 0.04


# --- the pages' URL state -------------------------------------------------------------------------

@pytest.mark.parametrize("page", [controls.Explorer, controls.Gradients, controls.Compare,
                                  controls.Conventions, controls.Training])
def test_every_pages_defaults_round_trip_and_survive_garbage(page):
    state, notices = controls.parse({}, page)
    assert state == page() and notices == []
    for key in [f for f in page.__dataclass_fields__ if not f.isupper()]:
        parsed, notices = controls.parse({key: "\x00garbage"}, page)
        assert isinstance(parsed, page)
        parsed, _ = controls.parse({key: "1e308"}, page)
        assert isinstance(parsed, page)
        parsed, _ = controls.parse({key: "-99999999999999999999"}, page)
        assert isinstance(parsed, page)
        assert controls.parse(controls.to_query(parsed), page)[0] == parsed  # repaired = stable


def test_compare_url_round_trip_and_repairs():
    state = controls.Compare(images=("spot", "cat"), augment=("flip", "darker"), chosen=3,
                             swap=("noise",), bn_mode="eval", gamma=-1.5, shift=0.25, eps=1e-3,
                             momentum=0.5, warmup=0, channel=2, convention="onnx", n=4)
    assert controls.parse(controls.to_query(state), controls.Compare) == (state, [])
    state, notices = controls.parse({"images": "cat,coffee,camera,astronaut,spot,noise",
                                     "augment": "flip,crop", "warmup": "500",
                                     "images ": "x"}, controls.Compare)
    assert state.augment == () and state.warmup == 100 and len(notices) == 3


def test_gradients_url_round_trip():
    state = controls.Gradients(sample="spot", loss="one value", channel=3, row=10, col=20,
                               mates=("cat", "noise"), mode="within", convention="caffe", n=3)
    assert controls.parse(controls.to_query(state), controls.Gradients) == (state, [])
    assert set(CONVENTIONS) >= set(controls.Gradients.CHOICES["convention"])


def test_compare_with_batchnorms_side_given_is_the_same_comparison():
    feats = relu_features((4, 6, 10, 10), seed=7)
    mates = relu_features((2, 6, 10, 10), seed=8)
    bn = compare.BatchNormSettings(training=False, gamma=1.3, warmup=3)
    whole = compare.compare(feats, 2, mates, ACROSS, bn)
    given = compare.compare(feats, 2, mates, ACROSS, bn, compare.batchnorm_side(feats, 2, mates, bn))
    for name in whole.maps:
        np.testing.assert_array_equal(whole.maps[name], given.maps[name])
    np.testing.assert_array_equal(whole.swapped_batchnorm, given.swapped_batchnorm)
    assert (whole.swap_change, whole.train_eval_change) == (given.swap_change, given.train_eval_change)
