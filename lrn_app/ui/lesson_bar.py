"""Streamlit glue for lessons (lrn_app.compute.lessons): opening a step, the lesson bar every page
shows while a lesson is open, and the session's own lesson that a teacher builds view by view.

The open lesson lives in session state as ("lesson id", step index) and in the address as
``lesson=<id>&step=<k>`` (k from 1), which every page keeps (session.frame_query).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import streamlit as st

from lrn_app import pages, urlstate
from lrn_app.compute import lessons
from lrn_app.compute.lessons import MINE, Lesson, Step
from lrn_app.serving import threads
from lrn_app.ui import session


def my_lesson() -> Lesson:
    """This session's own lesson (empty at first)."""
    return st.session_state.get("my_lesson") or Lesson(MINE, "My lesson", "", ())


def find(lesson_id: str) -> Lesson | None:
    if lesson_id == MINE:
        return my_lesson() if my_lesson().steps else None
    return lessons.LESSONS.get(lesson_id)


def step_query(lesson: Lesson, index: int) -> dict[str, str]:
    """The address of a step: its page's settings, the lesson and the step, and presentation
    mode if it is on."""
    return {**lesson.steps[index].settings, **session.frame_query(), "lesson": lesson.id,
            "step": str(index + 1)}


def go_to(lesson: Lesson, index: int):
    """Open step ``index``: its page, with exactly the step's settings (whatever the page
    held before in this session is dropped)."""
    step = lesson.steps[index]
    st.session_state["lesson_open"] = (lesson.id, index)
    script, prefix = pages.get(step.page).script, pages.get(step.page).prefix
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]
    st.switch_page(script, query_params=step_query(lesson, index))


def open_from_address() -> None:
    """A lesson named in the address (a link, a bookmark, a Lessons page link) that is not
    the one open: open that step. Bad values get a notice, like any URL value."""
    lesson_id = st.query_params.get("lesson")
    if not lesson_id:
        return
    raw_step = st.query_params.get("step", "1")
    lesson = find(lesson_id)
    notices = st.session_state.setdefault("lesson_notices", [])  # shown by lesson_bar
    if lesson is None:
        known = ", ".join(lessons.LESSONS)
        notices.append(f"there is no lesson {lesson_id!r} (built in: {known}"
                       + ("; a lesson of your own lives in the session that made it"
                          if lesson_id == MINE else "") + "). The page opens without it.")
        del st.query_params["lesson"]
        st.query_params.pop("step", None)
        st.session_state["lesson_open"] = None
        return
    try:
        index = int(raw_step) - 1
    except ValueError:
        index = -1
    if not 0 <= index < len(lesson.steps):
        notices.append(f"step={raw_step!r} is not a step of {lesson.title!r} "
                       f"(1..{len(lesson.steps)}); opening step 1.")
        index = 0
    if st.session_state.get("lesson_open") != (lesson.id, index):
        go_to(lesson, index)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _measure(lesson_id: str, index: int) -> dict:
    """A built-in step's numbers (its settings are fixed, so its id and index name them)."""
    return threads.on_torch_thread(lessons.measure, lessons.LESSONS[lesson_id].steps[index])


def _shown(text: str, lesson: Lesson) -> str:
    """Built-in texts are the app's own markdown; a teacher's are shown as written."""
    return text if lesson.id in lessons.LESSONS else lessons.escape_markdown(text)


def lesson_bar() -> None:
    """While a lesson is open: "Step k of N", the step's text and what to notice, with Back
    and Next (also the arrow keys, when no text field has the focus) and End. First, what
    was wrong with a lesson's address, if anything (kept across the switch to its page)."""
    for notice in st.session_state.pop("lesson_notices", []):
        st.warning(f"Address: {notice}")
    opened = st.session_state.get("lesson_open")
    lesson = find(opened[0]) if opened else None
    if lesson is None:
        return
    index = min(opened[1], len(lesson.steps) - 1)
    step = lesson.steps[index]
    with st.container(border=True, key="lesson_bar"):
        back, middle, forward = st.columns([1.4, 8, 1.4], vertical_alignment="center")
        middle.markdown(f"**{_shown(lesson.title, lesson)}** · Step {index + 1} of "
                        f"{len(lesson.steps)}: **{_shown(step.title, lesson)}**"
                        + (f"  \n{_shown(step.text, lesson)}" if step.text else ""))
        if step.measure:
            try:
                middle.markdown(":material/visibility: **What to notice** (at this step's "
                                "settings): " + lessons.notice(step, _measure(lesson.id, index)))
            except ValueError as err:  # settings no library computes: say so, do not break
                middle.warning(f"This step's numbers cannot be computed: {err}")
        if back.button("Back", shortcut="Left", disabled=index == 0, width="stretch",
                       key="lesson_back"):
            go_to(lesson, index - 1)
        if forward.button("Next", shortcut="Right", type="primary", width="stretch",
                          disabled=index == len(lesson.steps) - 1, key="lesson_next"):
            go_to(lesson, index + 1)
        if forward.button("End", type="tertiary", width="stretch", key="lesson_end",
                          help="Close the lesson; the page keeps its settings."):
            st.session_state["lesson_open"] = None
            st.query_params.pop("lesson", None)
            st.query_params.pop("step", None)
            st.rerun()


# --- the session's own lesson ---------------------------------------------------------------------

def add_view_button(page: str) -> None:
    """In the sidebar: append the page in view, with its settings, to this session's lesson."""
    if page not in pages.WITH_STATE:
        return
    if st.button("Add this view to my lesson", icon=":material/playlist_add:", key="add_view",
                 help="Appends this page and its settings as a step; edit, download and "
                      "share the lesson on the Lessons page."):
        mine = my_lesson()
        if len(mine.steps) >= lessons.MAX_STEPS:
            st.warning(f"A lesson has at most {lessons.MAX_STEPS} steps.")
            return
        settings = {k: v for k, v in st.query_params.to_dict().items()
                    if k not in urlstate.FRAME_PARAMS}
        state, _ = urlstate.parse(settings, pages.get(page).state)
        step = Step(page, urlstate.to_query(state), pages.get(page).title, "")
        set_my_lesson(replace(mine, steps=mine.steps + (step,)))
        st.toast(f"Added step {len(mine.steps) + 1} to your lesson (see the Lessons page).")


def set_my_lesson(lesson: Lesson) -> None:
    """Replace this session's lesson; the editor on the Lessons page starts again from it
    (its base: the editor's own state holds the edits made since, as changes to it)."""
    st.session_state["my_lesson"] = st.session_state["my_lesson_base"] = lesson
    st.session_state["my_lesson_version"] = st.session_state.get("my_lesson_version", 0) + 1


def settings_text(settings: dict) -> str:
    return urlencode(settings) or "(the page's defaults)"


def edited_steps(rows: list[dict]) -> tuple[tuple[Step, ...], int]:
    """The steps back from the Lessons page's editor rows; rows without a known page (a row
    added by hand) are left out and counted."""
    steps, dropped = [], 0
    for row in rows:
        if row.get("page") not in pages.WITH_STATE:
            dropped += 1
            continue
        text = row.get("settings") or ""
        settings = {} if text.startswith("(") else dict(parse_qsl(text))
        steps.append(Step(row["page"], settings,
                          str(row.get("title") or pages.get(row["page"]).title)[:lessons.MAX_TITLE],
                          str(row.get("text") or "")[:lessons.MAX_TEXT]))
    return tuple(steps), dropped
