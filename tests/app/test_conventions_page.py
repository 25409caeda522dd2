"""The Conventions page as a user drives it (AppTest)."""

import json
import re

import pytest

from tests.app.apptest import messages, no_exceptions, open_page


def test_conventions_page_translates_and_proves_it():
    at = open_page("conventions")
    no_exceptions(at)
    rows = at.table[0].value.set_index("convention")
    assert rows.loc["pytorch", "parameters"] == "size=5, alpha=0.0005, beta=0.75, k=2"
    assert rows.loc["tensorflow", "parameters"].startswith("depth_radius=2, alpha=0.0001")
    text = " ".join(m.value for m in at.markdown)
    worst = float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1))
    assert worst < 1e-6  # every pair, torch's own F.local_response_norm included
    examples = at.table[1].value
    assert (examples["largest error"].astype(float) < 1e-7).all()
    assert list(at.dataframe[-1].value.columns)[0] == "channel"  # the CrossMapLRN2d demonstration


@pytest.mark.parametrize("example, cell, expected", [
    ("across", 0, "= 0.5"),  # 1 / (1² + 1²)
    ("tensorflow", 0, "= 0.131199"),  # the tutorial's first printed value
])
def test_conventions_page_tutorial_examples_show_their_arithmetic(example, cell, expected):
    at = open_page("conventions", {"example": example, "cell": str(cell)})
    no_exceptions(at)
    editor = at.dataframe[-2].value  # the editable tensor, before the defects' table
    assert editor.to_numpy().ravel()[:2].tolist() == ([1.0, 1.0] if example == "across"
                                                       else [1.0, 2.0])
    arithmetic = at.code[0].value
    assert arithmetic.startswith("S = ") and arithmetic.endswith(expected)
    at.selectbox(key="c_cell").set_value(1).run()
    assert at.query_params["cell"] == "1"
    assert at.code[0].value != arithmetic


def test_conventions_page_repairs_a_hand_edited_tutorial_cell():
    at = open_page("conventions", {"example": "across", "cell": "99"})
    no_exceptions(at)
    assert "cell = 99 is outside 0..3" in messages(at)


def test_conventions_page_even_size_and_within_mode():
    at = open_page("conventions", {"convention": "pytorch", "n": "4", "alpha": "10"})
    no_exceptions(at)
    assert "asymmetric window" in messages(at)
    rows = at.table[0].value.set_index("convention")
    assert (rows["why not"] != "").sum() == len(rows) - 1  # only PyTorch has c-2..c+1
    at.radio(key="c_mode").set_value("within").run()
    no_exceptions(at)
    assert at.selectbox(key="c_convention").value == "caffe"  # the first with this mode
    text = " ".join(m.value for m in at.markdown)
    assert float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1)) < 1e-6


def test_conventions_page_with_k_zero_says_where_torch_gives_nan():
    """With k = 0, ReLU features' all-zero windows are 0 / 0 for torch's own LRN (lrn_core
    defines 0): the page says how many outputs, and no NaN reaches the matrix or the text."""
    at = open_page("conventions", {"convention": "pytorch", "k": "0"})
    no_exceptions(at)
    assert "torch's own gives NaN in" in messages(at) and "k = 0" in messages(at)
    text = " ".join(m.value for m in at.markdown)
    assert "nan" not in text.lower()
    worst = float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1))
    assert worst < 1e-6
    for chart in at.get("plotly_chart")[:2]:  # the two difference matrices
        cells = json.loads(chart.proto.spec)["data"][0]["text"]
        assert "NaN" not in sum(cells, [])


@pytest.mark.parametrize("query", [
    {"convention": "cudnn", "n": "99", "k": "0", "beta": "0"},
    {"mode": "sideways", "alpha": "nan", "sample": "<script>"},
    {"convention": "tensorflow", "n": "0", "k": "0", "alpha": "0"},
])
def test_conventions_page_bad_urls(query):
    at = open_page("conventions", query)
    no_exceptions(at)
    assert at.warning  # the repairs are shown
