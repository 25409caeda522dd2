"""Lessons: the built-in lessons open their pages with their settings and say what their
numbers show; a lesson file is untrusted input; a teacher's own lesson round-trips."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lrn_app import pages, urlstate
from lrn_app.compute import conventions, explorer, gradients, lessons
from lrn_app.compute.lessons import BUILT_IN, LESSONS
from lrn_app.state import ALPHA_MAX, Gradients
from lrn_app.ui import lesson_bar
from tests import ROOT
from tests.app.apptest import live_data, live_pack, release

APP = str(ROOT / "app.py")
STEPS = [(lesson.id, i) for lesson in BUILT_IN for i in range(len(lesson.steps))]


def step(lesson_id, index):
    return LESSONS[lesson_id].steps[index]


# --- the lesson model -----------------------------------------------------------------------------

def test_four_built_in_lessons_of_four_to_eight_steps():
    assert [lesson.id for lesson in BUILT_IN] == ["what-lrn-does", "across-vs-within",
                                                  "lrn-vs-batchnorm", "conventions-trap"]
    assert all(4 <= len(lesson.steps) <= 8 for lesson in BUILT_IN)


@pytest.mark.parametrize("lesson_id, index", STEPS)
def test_every_step_is_a_valid_address_of_its_page(lesson_id, index):
    """A page whose controls change (a renamed field, a narrower range) breaks this test
    rather than the lesson: the step's settings must parse with no repair."""
    s = step(lesson_id, index)
    state, notices = urlstate.parse(s.settings, pages.get(s.page).state)
    assert notices == []
    assert urlstate.to_query(state) == s.settings  # nothing in it is a default or ignored
    assert s.measure in lessons.MEASURES and "{" in s.notice


def test_the_page_registry_names_each_page_once_and_each_script_reads_its_own_entry():
    assert len({p.slug for p in pages.PAGES}) == len(pages.PAGES)
    prefixes = [p.prefix for p in pages.WITH_STATE.values()]
    assert all(prefixes) and not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)
    for page in pages.PAGES:
        source = (ROOT / page.script).read_text()
        if page.state is not None:  # its widgets' keys and its controls come from its entry
            assert f'pages.get("{page.slug}")' in source, page.script
            assert "PageState(PAGE.state, K)" in source and "K = PAGE.prefix" in source
    assert "pages.PAGES" in (ROOT / "app.py").read_text()  # the navigation is built from it
    assert {s.page for lesson in BUILT_IN for s in lesson.steps} <= set(pages.WITH_STATE)


# What each step's sentence claims, checked on the numbers it shows (computed now).
CLAIMS = {
    ("what-lrn-does", 0): lambda v: v["low"] == pytest.approx(v["high"], abs=1e-6),
    ("what-lrn-does", 1): lambda v: v["strong"] < v["background"] - 0.05,
    ("what-lrn-does", 2): lambda v: v["share"] > 10 and v["low"] < 0.75,
    ("what-lrn-does", 3): lambda v: (
        v["gain"] == pytest.approx(v["D"] ** -0.75, rel=1e-6)
        and v["y"] == pytest.approx(v["x"] * v["gain"], rel=1e-6)
    ),
    ("what-lrn-does", 4): lambda v: v["centre"] > 0 > v["neighbour"],
    ("what-lrn-does", 5): lambda v: v["y"] == pytest.approx(0.5, abs=1e-12),
    ("across-vs-within", 0): lambda v: v["strong"] < v["background"] - 0.05,
    ("across-vs-within", 1): lambda v: v["strong"] < v["background"] - 0.05,
    ("across-vs-within", 2): lambda v: v["change"] > 5,
    ("across-vs-within", 3): lambda v: v["change"] < 1e-4,  # (float rounding at most)
    ("lrn-vs-batchnorm", 0): lambda v: v["lrn_min"] >= 0 > v["bn_min"],
    ("lrn-vs-batchnorm", 1): lambda v: v["bn"] > 5 and v["lrn"] == 0,
    ("lrn-vs-batchnorm", 2): lambda v: v["bn"] < 1e-4 and v["train_eval"] > 5,
    ("lrn-vs-batchnorm", 3): lambda v: v["train_eval"] < v["none"] / 4,
    ("conventions-trap", 0): lambda v: v["naive"] > 5,
    ("conventions-trap", 1): lambda v: (
        v["translated"] < 1e-4 and v["radius"] == 2 and v["tf_alpha"] == pytest.approx(0.2)
    ),
    ("conventions-trap", 2): lambda v: (
        v["factor"] == pytest.approx(v["window"]) and v["window"] == 5
    ),
    ("conventions-trap", 3): lambda v: v["first"] == pytest.approx(0.13119929, abs=1e-7),
}


def test_every_step_has_its_claim_checked():
    assert set(CLAIMS) == set(STEPS)


@pytest.mark.parametrize("lesson_id, index", STEPS)
def test_each_steps_numbers_show_what_its_text_says(lesson_id, index):
    values = lessons.measure(step(lesson_id, index))
    assert all(np.isfinite(v) for v in values.values())
    assert CLAIMS[(lesson_id, index)](values), values
    sentence = lessons.notice(step(lesson_id, index), values)
    assert "{" not in sentence and "**" in sentence


def test_measures_against_direct_computations():
    """Two measures recomputed without lrn_app: the gain at alpha = 0 is k^-beta, and the
    tutorial's output is its own formula."""
    s = step("what-lrn-does", 0).state()
    assert lessons.gain_range(s)["high"] == pytest.approx(s.k ** -s.beta, rel=1e-6)
    example = conventions.EXAMPLES["across"]
    x = example.grid()[0]
    assert lessons.tutorial_output(step("what-lrn-does", 5).state())["y"] == pytest.approx(
        x[0] / (x[0] ** 2 + x[1] ** 2))


# --- walking the lessons in the app ---------------------------------------------------------------

def bar(at: AppTest) -> list[str]:
    """The lesson bar's lines (it is drawn before the page)."""
    texts = [m.value for m in at.markdown]
    start = next(i for i, t in enumerate(texts) if " · Step " in t)
    return texts[start:start + 2]


@pytest.mark.parametrize("lesson", BUILT_IN, ids=lambda lesson: lesson.id)
def test_walk_a_lesson_with_next_and_back(lesson):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"lesson": lesson.id})
    at.switch_page("app_pages/lessons.py")
    at.run()
    for index, s in enumerate(lesson.steps):
        assert not at.exception, [e.value for e in at.exception]
        query = dict(at.query_params)
        assert query.pop("lesson") == lesson.id and query.pop("step") == str(index + 1)
        assert query == s.settings  # the step's page opened with exactly its settings
        lines = bar(at)
        assert f"Step {index + 1} of {len(lesson.steps)}: **{s.title}**  \n{s.text}" in lines[0]
        # the numbers the app computed (its cache, in this process): the bar shows them
        assert lines[1].endswith(lessons.notice(s, lesson_bar._measure(lesson.id, index)))
        if index + 1 < len(lesson.steps):
            at.button(key="lesson_next").click().run()
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_back").click().run()
    assert at.query_params["step"] == str(len(lesson.steps) - 1)


def test_a_steps_number_is_the_one_its_page_shows():
    """The pixel-inspector step's gain and the page's own arithmetic agree."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"lesson": "what-lrn-does", "step": "4"})
    at.switch_page("app_pages/explorer.py")
    at.run()
    values = lesson_bar._measure("what-lrn-does", 3)  # on a torch thread, as the page's own
    page_text = " ".join(m.value for m in at.markdown)
    assert f"gain = {values['D']:.4g}^-0.75 = **{values['gain']:.4g}**" in page_text


def test_moving_a_slider_keeps_the_lesson_and_end_closes_it():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"lesson": "what-lrn-does", "step": "2", "present": "1"})
    at.switch_page("app_pages/explorer.py")
    at.run()
    release(at, alpha=3.16)
    assert at.query_params["lesson"] == "what-lrn-does" and at.query_params["step"] == "2"
    assert at.query_params["present"] == "1"
    at.button(key="lesson_end").click().run()
    assert "lesson" not in at.query_params and not any(" · Step " in m.value for m in at.markdown)
    assert at.query_params["alpha"] == "3.16"  # the page kept its settings


@pytest.mark.parametrize("query, message", [
    ({"lesson": "no-such-lesson"}, "there is no lesson 'no-such-lesson'"),
    ({"lesson": "mine"}, "there is no lesson 'mine'"),
    ({"lesson": "what-lrn-does", "step": "99"}, "step='99' is not a step"),
    ({"lesson": "what-lrn-does", "step": "two"}, "step='two' is not a step"),
])
def test_a_hand_edited_lesson_address_gets_a_notice(query, message):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page("app_pages/explorer.py")
    at.run()
    assert not at.exception
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]
    assert not any("unknown URL parameter" in w.value for w in at.warning)


# --- a teacher's own lesson -----------------------------------------------------------------------

def test_add_views_edit_download_and_start_my_lesson():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"alpha": "1.0"})
    at.switch_page("app_pages/explorer.py")
    at.run()
    at.button(key="add_view").click().run()
    at.query_params.clear()  # as the sidebar's link does: the other page's own address
    at.switch_page("app_pages/gradients.py").run()
    at.button(key="add_view").click().run()
    at.switch_page("app_pages/lessons.py").run()
    assert not at.exception
    mine = at.session_state["my_lesson"]
    assert [(s.page, s.settings) for s in mine.steps] == [("explorer", {"alpha": "1.0"}),
                                                          ("gradients", {})]
    data = json.loads(lessons.to_file(mine))
    assert data["format"] == lessons.FORMAT and len(data["steps"]) == 2
    next(t for t in at.text_input if t.label == "Title").set_value("Week 3").run()
    assert at.session_state["my_lesson"].title == "Week 3"
    next(b for b in at.button if b.label == "Start my lesson").click().run()
    assert dict(at.query_params) == {"alpha": "1.0", "lesson": "mine", "step": "1"}
    assert bar(at)[0].startswith("**Week 3** · Step 1 of 2")


def test_a_lesson_file_round_trips():
    lesson = LESSONS["across-vs-within"]
    read, notices = lessons.read_file(lessons.to_file(lesson))
    assert notices == []
    assert [(s.page, s.settings, s.title, s.text) for s in read.steps] == \
        [(s.page, s.settings, s.title, s.text) for s in lesson.steps]


def _file(steps, **extra) -> bytes:
    return json.dumps({"format": lessons.FORMAT, "version": 1, "title": "T", "steps": steps,
                       **extra}).encode()


@pytest.mark.parametrize("data, error", [
    (b"x" * (lessons.MAX_FILE_BYTES + 1), "at most"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "JSON expected"),
    (b"{not json", "JSON expected"),
    (b"[" * 100_000 + b"]" * 100_000, "at most"),
    (b"[" * 5000 + b"]" * 5000, "JSON expected"),  # nesting beyond the parser's recursion
    (json.dumps({"steps": []}).encode(), "format"),
    (json.dumps([1, 2]).encode(), "format"),
    (_file([]), "no steps"),
    (_file("explorer"), "no steps"),
    (_file([{"page": "../../etc/passwd"}, {"page": "home"}]), "none of its steps"),
])
def test_bad_lesson_files_are_refused_with_a_reason(data, error):
    with pytest.raises(lessons.LessonFileError, match=error):
        lessons.read_file(data)


def test_a_lesson_files_bad_parts_are_repaired_with_notices():
    lesson, notices = lessons.read_file(_file([
        {"page": "explorer", "settings": {"alpha": "1e9", "n": "banana", "evil": "x",
                                          "lesson": "other", "present": "1"},
         "title": "A" * 500, "text": "<script>alert(1)</script> [x](javascript:alert(1))\x00"},
        {"page": "nowhere"},
        {"page": "compare", "settings": "alpha=3", "title": 42},
    ] + [{"page": "gradients"}] * 40))
    first = lesson.steps[0]
    assert first.settings == {"alpha": str(ALPHA_MAX)}  # clamped; the rest dropped
    assert len(first.title) == lessons.MAX_TITLE and "\x00" not in first.text
    shown = lessons.escape_markdown(first.text)
    assert "<script>" not in shown and "](" not in shown
    assert lesson.steps[1].page == "compare" and lesson.steps[1].settings == {}
    assert lesson.steps[1].title == "LRN vs BatchNorm"
    assert len(lesson.steps) == lessons.MAX_STEPS - 1  # 30 kept, the unknown page left out
    text = " ".join(notices)
    for expected in ("alpha = 1e+09 is outside", "n='banana' is not valid", "'evil'",
                     "unknown page 'nowhere'", "not a table", "title is not text",
                     "longer than 120", f"at most {lessons.MAX_STEPS} steps"):
        assert expected in text, expected
    assert "'lesson'" not in text and "'present'" not in text  # frame parameters: dropped


def test_uploading_a_lesson_file_in_the_app():
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app_pages/lessons.py")
    at.run()
    assert any("no steps yet" in i.value for i in at.info)
    # AppTest cannot drive st.file_uploader, so the page's reading is checked through
    # read_file above and in Chromium (tests/browser/test_lesson_walks.py); here, a lesson set as an
    # upload sets it is edited and started.
    lesson, _ = lessons.read_file(_file([{"page": "conventions", "settings": {"cell": "2"},
                                          "title": "Cell 2", "text": "*not bold*"}]))
    at.session_state["my_lesson"] = at.session_state["my_lesson_base"] = lesson
    at.session_state["my_lesson_version"] = 7
    at.run()
    assert at.text_input(key="my_lesson_title_7").value == "T"
    next(b for b in at.button if b.label == "Start my lesson").click().run()
    assert not at.exception
    lines = bar(at)
    assert lines[0].endswith("  \n" + r"\*not bold\*")  # a teacher's text is shown as written
    assert at.query_params["cell"] == "2"


def test_the_jacobian_steps_numbers_are_the_ones_its_page_draws():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"lesson": "what-lrn-does", "step": "5"})
    at.switch_page("app_pages/gradients.py")
    at.run()
    values = lesson_bar._measure("what-lrn-does", 4)
    # The page draws the row live, in the browser, from its pack at the sliders' settings
    # (equal to lrn_core's closed form there: tests/browser/test_live.py): the same here.
    jacobian = live_data(at, "jacobian")
    assert jacobian["figure"]["layout"]["title"]["text"].startswith("<b>∂y(ch 5)")
    pack = live_pack(at)
    state = Gradients(mode=pack["mode"], convention=pack["convention"], **jacobian["settings"])
    x = pack["x"].reshape(pack["channels"], pack["height"], pack["width"])
    drawn = gradients.jacobian(x, explorer.settings(state), *pack["at"]).values
    assert min(drawn) == pytest.approx(values["neighbour"], rel=1e-6)
    assert max(drawn) == pytest.approx(values["centre"], rel=1e-6)
