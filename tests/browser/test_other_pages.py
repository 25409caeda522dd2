"""The Gradients, LRN vs BatchNorm and Conventions pages in Chromium."""

import pytest

from harness.browser import browser_page, exception_boxes, open_page, slider, wait_for_app
from tests.browser.support import shot


def test_edit_a_tutorial_tensor_and_see_the_outputs_change(server, page):
    open_page(page, f"{server}/conventions?example=across", charts=2)
    page.get_by_text("The tutorials' examples, live").scroll_into_view_if_needed()
    page.get_by_text("0 of 4 outputs changed").wait_for(timeout=30_000)
    editor = page.locator('[data-testid="stDataFrame"]').first  # the editable tensor
    box = editor.bounding_box()
    # The editor is a canvas: click its one data row, walk to channel 1 with the keyboard,
    # open the cell and type a new number, as a person would.
    page.mouse.click(box["x"] + box["width"] - 20, box["y"] + 35 + 17)
    for key in ["ArrowLeft"] * 4 + ["ArrowRight"] * 2:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.get_by_text("3 of 4 outputs changed").wait_for(timeout=30_000)  # channels 0, 1, 2
    wait_for_app(page)
    assert exception_boxes(page) == []
    assert "1² + 4² = 17" in page.locator('[data-testid="stCode"]').first.inner_text()
    page.get_by_text("Output to explain").scroll_into_view_if_needed()
    shot(page, "tutorial_across_edited")


def test_gradients_page(server, page):
    open_page(page, f"{server}/gradients", charts=4)
    assert exception_boxes(page) == []
    assert page.get_by_text("That is lateral inhibition").count() == 1
    slider(page, "α (log scale)").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert "alpha=" in page.url and exception_boxes(page) == []
    shot(page, "gradients")


def test_compare_page_eval_mode_stops_batch_dependence(server, page):
    open_page(page, f"{server}/compare", charts=4)
    assert exception_boxes(page) == []
    shot(page, "compare")
    page.get_by_text("eval", exact=True).click()
    page.get_by_text("BatchNorm (eval) output changes by").wait_for(timeout=30_000)
    wait_for_app(page)
    metric = page.locator('[data-testid="stMetric"]', has_text="BatchNorm (eval) output changes by")
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == "0%"
    assert "bn_mode=eval" in page.url and exception_boxes(page) == []
    shot(page, "compare_eval")


def test_conventions_page_from_the_sidebar(server, page):
    open_page(page, server, charts=1)
    page.get_by_role("link", name="Conventions").click()
    page.wait_for_url("**/conventions**")
    # The page's last element: its run is complete (charts can appear before it ends).
    page.locator('[data-testid="stCaptionContainer"]', has_text="server compute").wait_for(
        timeout=60_000)
    wait_for_app(page)
    assert exception_boxes(page) == []
    assert page.get_by_text("Known defects of other implementations").count() == 1
    shot(page, "conventions")
    open_page(page, f"{server}/conventions?convention=pytorch&n=4&alpha=10", charts=2)
    page.get_by_text("asymmetric window").wait_for(timeout=30_000)
    shot(page, "conventions_even_size")


_MATRIX_CELLS = """() => [...document.querySelectorAll('.js-plotly-plot')].slice(0, 2).map(plot => {
    const area = plot.querySelector('.nsewdrag').getBoundingClientRect();
    const columns = new Set([...plot.querySelectorAll('.xtick')].map(t => t.textContent)).size;
    return {x: area.x, y: area.y, cell: area.width / columns,
            text: Math.max(...[...plot.querySelectorAll('text')].filter(
                t => /^[0-9.]+e-?[0-9]+$/.test(t.textContent)).map(
                t => parseFloat(getComputedStyle(t).fontSize)))};
})"""


@pytest.mark.parametrize("width, height, present", [(1280, 720, False), (1280, 720, True),
                                                    (1920, 1080, False)])
def test_conventions_matrices_read_on_a_projector(server, width, height, present):
    """The two difference matrices: cells wide enough for their numbers (at least 36 px of
    nine columns: "5.7e-5" takes 30 at 10 px) in a font of at least 10 px; side by side where
    two fit, stacked at 1280 with the sidebar open."""
    with browser_page(width, height) as page:
        open_page(page, f"{server}/conventions" + ("?present=1" if present else ""), charts=2)
        page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        shot(page, f"conventions_matrices_{width}x{height}" + ("_present" if present else ""))
        matrices = page.evaluate(_MATRIX_CELLS)
        assert [m["cell"] >= 36 and m["text"] >= 10 for m in matrices] == [True, True], matrices
        side_by_side = abs(matrices[0]["y"] - matrices[1]["y"]) < 1
        assert side_by_side == (present or width == 1920), matrices
