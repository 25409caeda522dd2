"""The front page and the Explorer in Chromium: nothing fetched from outside, a slider move
redraws, the looks, a hand-edited address, k and alpha at zero."""

from harness.browser import (
    exception_boxes,
    open_page,
    panel_update,
    slider,
    wait_for_app,
    wait_for_panel_update,
)
from tests.browser.support import shot


def test_home_page(server, page):
    open_page(page, server, charts=1)
    assert exception_boxes(page) == []
    assert page.get_by_role("heading", name="LRN Explorer").count() == 1
    assert page.get_by_text("Compute device:").count() == 1  # the frame's sidebar
    shot(page, "home")


def test_nothing_is_fetched_from_outside_the_server(server, page):
    """A classroom may have no internet: fonts, icons and scripts all come from the app."""
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    for address in ["", "explorer", "lessons"]:
        open_page(page, f"{server}/{address}", charts=1 if address != "lessons" else 0)
    icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href")
    assert icon and icon.startswith((server, "data:image/png")), icon  # the tab's icon too
    # blob: addresses of the page's own origin are made in the page (the live view's module)
    outside = sorted({url for url in asked if not url.startswith((server, f"blob:{server}"))})
    assert len(asked) > 10 and outside == []


def test_explorer_slider_move_redraws_without_errors(server, page):
    open_page(page, f"{server}/explorer", charts=2)  # a bookmark keeps the frame and sidebar
    assert page.get_by_text("Compute device:").count() == 1
    assert exception_boxes(page) == []
    shot(page, "explorer")

    before, _ = panel_update(page)
    slider(page, "α (log scale)").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    wait_for_panel_update(page, before)
    wait_for_app(page)
    assert "alpha=" in page.url  # the address follows the controls
    assert exception_boxes(page) == []
    shot(page, "explorer_after_slider")


def test_explorer_looks_and_a_hand_edited_url(server, page):
    open_page(page, f"{server}/explorer?n=banana&convention=caffe&mode=within&tab=Pixel+inspector",
              charts=2)
    assert exception_boxes(page) == []
    assert page.get_by_text("n='banana' is not valid").count() == 1
    assert page.get_by_text("S = Σ x²").count() == 1  # the pixel inspector's arithmetic
    shot(page, "explorer_within_pixel_inspector")
    # another look, picked in the segmented control in place of tabs (its buttons are radios)
    page.get_by_role("radio", name="Channel order").click()
    page.get_by_text("never mixes channels").wait_for(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_text("S = Σ x²").count() == 0 and "tab=Channel+order" in page.url
    assert exception_boxes(page) == []




def test_sliders_at_k_and_alpha_zero_give_a_message_not_an_error(server, page):
    open_page(page, f"{server}/explorer", charts=2)
    for label in ("α (log scale)", "k"):  # Home: the slider's first stop, 0
        slider(page, label).focus()
        page.keyboard.press("Home")
        page.wait_for_timeout(500)
        wait_for_app(page)
    page.get_by_text("cannot be computed").wait_for(timeout=30_000)
    assert exception_boxes(page) == []
    shot(page, "explorer_k_alpha_zero")
