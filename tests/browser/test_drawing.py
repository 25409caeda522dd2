"""How figures are drawn in Chromium: scrub views change under the mouse, each changed
figure is drawn once, margins hold their labels."""

import pytest

from harness.browser import (
    browser_page,
    exception_boxes,
    jacobian_scrub_frame,
    open_page,
    scrub_figure_image,
)
from tests.browser.support import shot


@pytest.mark.parametrize("address, charts, key, frame", [
    ("explorer?scrub=alpha", 3, "scrub_view", scrub_figure_image),  # the frame's image
    ("gradients?scrub=alpha", 5, "jacobian_scrub", jacobian_scrub_frame)])  # bars and title
def test_scrub_view_changes_under_the_mouse(server, page, address, charts, key, frame):
    open_page(page, f"{server}/{address}", charts=charts)
    figure = page.locator(f".st-key-{key} .js-plotly-plot")
    figure.scroll_into_view_if_needed()
    grip = figure.locator("rect.slider-grip-rect").bounding_box()
    rail = figure.locator("rect.slider-rail-rect").bounding_box()
    name = address.split("?")[0]
    shot(page, f"{name}_scrub")
    before = page.evaluate(frame)
    assert before
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(rail["x"] + 0.15 * rail["width"], grip["y"] + grip["height"] / 2, steps=12)
    # while the mouse is still down: the frames change in the browser, not after a round trip
    page.wait_for_function(f"old => ({frame})() !== old", arg=before, timeout=5_000)
    page.mouse.up()
    label = figure.locator("g.slider-group > text.slider-label").text_content()  # "α = ..."
    assert label.startswith("α = ") and label != "α = 10" and label != "α = 12.1"
    assert exception_boxes(page) == []
    shot(page, f"{name}_scrub_dragged")


# Each figure's margins as given, and as plotly drew them: plotly widens a margin too small for
# the labels, legend or colour bar in it, and then draws the whole figure a second time.
_MARGINS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
    const full = gd._fullLayout, m = full.margin, s = full._size;
    return {title: full.title.text, given: [m.l, m.r, m.t, m.b], drawn: [s.l, s.r, s.t, s.b]}; })"""
# The text labels plotly left out: it hides a text point outside its axes' range (cliponaxis
# off or not), which on a wide page took the titles off the Explorer's images.
_HIDDEN_LABELS = """() => [...document.querySelectorAll('.js-plotly-plot .textpoint')]
    .filter(t => t.getAttribute('display') === 'none').map(t => t.textContent)"""


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_every_figure_is_drawn_once_its_margins_hold_its_labels(server, width, height):
    """A figure whose margins are too small is drawn twice on every slider move (about 60 ms a
    move for the Conventions page's two matrices): every figure with axes, legends or colour
    bars, on each page and branch that draws one, at both projector sizes; and no text label
    is left out."""
    views = {"explorer?tab=Pixel+inspector": 3, "explorer?tab=Pixel+inspector&mode=within": 3,
             "explorer?scrub=alpha": 3, "gradients": 4, "gradients?mode=within": 4,
             "gradients?scrub=alpha": 5, "gradients?scrub=n&mode=within&convention=caffe": 5,
             "conventions?present=1": 4, "gradients?present=1": 4, "compare?present=1": 4,
             "explorer?scrub=alpha&present=1": 3,
             "compare": 4, "conventions": 4}
    with browser_page(width, height) as page:
        for address, charts in views.items():
            open_page(page, f"{server}/{address}", charts=charts)
            figures = page.evaluate(_MARGINS)
            assert len(figures) >= charts, address
            for figure in figures:
                assert figure["drawn"] == figure["given"], (address, figure)
            assert page.evaluate(_HIDDEN_LABELS) == [], address


# Counts, for every figure that appears, each time plotly draws it all again after its first
# drawing ("plotly_beforeplot" starts a full drawing; the listener is attached just after the
# first), and each time it places its text labels anew after that first drawing (its first
# "plotly_react"): what plotly does, without a full drawing, when an axis's range differs
# from the one it drew (the panel row's did, widened by its scaleanchor).
_REDRAWS = """() => {
    window.__redrawn = [];
    const seen = new WeakSet();
    const attach = () => document.querySelectorAll('.js-plotly-plot').forEach(gd => {
        if (seen.has(gd) || !gd.on || gd.closest('.live-plot')) return;  // see the test
        seen.add(gd);
        const figure = {title: (gd.layout.title || {}).text || '', redraws: 0, labels_placed: 0};
        window.__redrawn.push(figure);
        gd.on('plotly_beforeplot', () => { figure.redraws++; });
        let drawn = false;
        gd.on('plotly_react', () => {
            if (drawn) return;
            drawn = true;
            new MutationObserver(records => { figure.labels_placed += records.filter(
                r => r.target.closest && r.target.closest('.textpoint')).length; }).observe(
                gd, {subtree: true, attributes: true, attributeFilter: ['x', 'y']});
        });
    });
    new MutationObserver(attach).observe(document.body, {subtree: true, childList: true});
}"""


def test_a_slider_move_draws_each_changed_figure_once(server, page):
    """Streamlit's frontend renders a new chart twice; plotly must find nothing to draw the
    second time (no template, a datarevision, lists: lrn_app.figures.look._LOOK), nor a margin to
    widen, nor an axis range to change. Drawn twice, the Explorer's two changed figures cost a
    second full drawing each. Whether the second rendering sees the first's changes to the
    ranges depends on timing: the Explorer gets six moves, its panel row had a changed range
    in about one move of three. The Explorer's live view keeps its figures and redraws them in
    place (Plotly.react) once per move: not again when the release's rerun brings the settings
    it drew."""
    from harness.latency import measure
    frames = "() => [...document.querySelectorAll('.live-plot')].map(p => +p.dataset.liveFrame)"
    for address, moves in (("explorer", 6), ("gradients", 2), ("compare", 2), ("conventions", 2)):
        open_page(page, f"{server}/{address}?alpha=1e-06", charts=2)
        page.evaluate(_REDRAWS)
        before = page.evaluate(frames)
        measure(page, moves)  # moves of the α slider
        drawn = page.evaluate("() => window.__redrawn")
        assert drawn, address  # the moves did draw new figures
        assert [f for f in drawn if f["redraws"] or f["labels_placed"]] == [], address
        assert [b + moves for b in before] == page.evaluate(frames), address
