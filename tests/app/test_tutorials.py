"""The tutorials' live examples (lrn_app.compute.conventions): their numbers are the tutorials' own,
their windows and arithmetic are lrn_core's, and an edit changes exactly the outputs whose
window holds the edited number."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app.compute import conventions
from lrn_app.compute.conventions import EXAMPLES


def test_the_across_example_gives_the_tutorials_one_half():
    example = EXAMPLES["across"]
    y = conventions.compute(example, example.grid())
    assert y[0, 0] == pytest.approx(0.5, abs=1e-12)  # 1 / (1² + 1²)
    assert "= 0.5" in conventions.arithmetic(example, example.grid(), 0, 0)


def test_the_tensorflow_example_prints_the_tutorials_first_row():
    example = EXAMPLES["tensorflow"]
    y = conventions.compute(example, example.grid())
    np.testing.assert_allclose(y[0], [0.13119929, 0.15223296, 0.22834945, 0.3120463], atol=1e-7)
    assert example.grid().ravel().tolist() == list(range(1, 33))


def test_the_within_example_against_avg_pool():
    """(k, alpha, beta) = (0, 1, 1), 3 x 3 window, alpha not divided: y = x / (9 * mean x²)."""
    example = EXAMPLES["within"]
    grid = example.grid()
    x = torch.from_numpy(grid)[None, None]
    mean_square = F.avg_pool2d(x * x, 3, stride=1, padding=1, count_include_pad=True)
    np.testing.assert_allclose(conventions.compute(example, grid), (x / (9 * mean_square))[0, 0],
                               rtol=1e-12)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_an_edit_changes_exactly_the_outputs_whose_window_holds_it(name):
    example = EXAMPLES[name]
    grid = example.grid()
    before = conventions.compute(example, grid)
    rows, cols = grid.shape
    edited = grid.copy()
    edited[rows // 2, cols // 2] += 3.0
    changed = conventions.changed(before, conventions.compute(example, edited))
    expected = np.zeros(grid.shape, bool)
    for r in range(rows):
        for c in range(cols):
            # y = x * gain: an output whose own x is 0 stays 0 whatever its window holds
            expected[r, c] = ((rows // 2, cols // 2) in conventions.window_cells(example, r, c)
                              and edited[r, c] != 0)
    np.testing.assert_array_equal(changed, expected)
    assert changed.any() and not changed.all()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_arithmetic_ends_in_the_output(name):
    example = EXAMPLES[name]
    grid = example.grid()
    y = conventions.compute(example, grid)
    for r, c in [(0, 0), (grid.shape[0] - 1, grid.shape[1] - 1)]:
        text = conventions.arithmetic(example, grid, r, c)
        assert float(text.rsplit("= ", 1)[1]) == pytest.approx(y[r, c], rel=1e-5)


def test_bad_cells_are_repaired_and_counted():
    example = EXAMPLES["across"]
    grid, repaired = conventions.clean(example, [["x", None, float("inf"), 1e300]])
    assert repaired == 4
    assert grid.tolist() == [[0.0, 0.0, 0.0, conventions.MAX_ABS]]
    assert np.isfinite(conventions.compute(example, grid)).all()


def test_an_all_zero_window_with_k_zero_is_explained_not_nan():
    example = EXAMPLES["within"]
    grid = np.zeros(example.grid().shape)
    assert (conventions.compute(example, grid) == 0).all()
    assert "0 / 0" in conventions.arithmetic(example, grid, 2, 2)
