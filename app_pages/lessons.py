"""Lessons: the built-in lessons as links, and a teacher's own lesson to edit, download and
upload."""

import pandas as pd
import streamlit as st

from lrn_app import pages
from lrn_app.compute import lessons
from lrn_app.ui import lesson_bar, widgets

st.title("Lessons")
widgets.explain(
    "A lesson is a sequence of views of this app, each with a few sentences for the class "
    "and, in the built-in lessons, what to notice, with its numbers computed now. While a "
    "lesson is open, a bar at the top of every page shows the step, with **Back** and "
    "**Next** (or the ← and → keys). Each link below is an address you can share; turn on "
    "presentation mode in the sidebar first to share it for a projector."
)

# --- the built-in lessons: each a link to its first step, and to every step ----------------------
for lesson in lessons.BUILT_IN:
    with st.container(border=True):
        st.markdown(f"#### {lesson.title}\n{lesson.summary}")
        start, steps = st.columns([1, 3])
        first = lesson.steps[0]
        start.page_link(pages.get(first.page).script, label="Start the lesson",
                        icon=":material/play_arrow:", query_params=lesson_bar.step_query(lesson, 0))
        steps.markdown("Steps: " + " · ".join(f"{i + 1}. {step.title}"
                                              for i, step in enumerate(lesson.steps)))
        st.caption(f"Address: `?lesson={lesson.id}` (add `&step=k` for step k)")

# --- the teacher's own lesson ---------------------------------------------------------------------
st.subheader("My lesson")
uploaded = st.file_uploader("Open a lesson file (.json, from this app: yours or another "
                            "teacher's)", type=["json"], key="lesson_file")
if uploaded is not None and st.session_state.get("lesson_file_read") != uploaded.file_id:
    st.session_state["lesson_file_read"] = uploaded.file_id  # read each upload once
    try:
        lesson, notices = lessons.read_file(uploaded.getvalue())
    except lessons.LessonFileError as err:
        st.error(f"{uploaded.name}: {err}")
    else:
        lesson_bar.set_my_lesson(lesson)
        st.success(f"Opened {len(lesson.steps)} steps from {uploaded.name}.")
        for notice in notices:
            st.warning(f"{uploaded.name}: {notice}")

base = st.session_state.get("my_lesson_base") or lesson_bar.my_lesson()
if not base.steps:
    st.info("Your lesson has no steps yet: on any page, set the view you want, then press "
            "**Add this view to my lesson** in the sidebar. Or open a lesson file above.")
    st.stop()

title = st.text_input("Title", base.title, max_chars=lessons.MAX_TITLE,
                      key=f"my_lesson_title_{st.session_state.get('my_lesson_version', 0)}")
rows = pd.DataFrame([{"page": step.page, "title": step.title, "text": step.text,
                      "settings": lesson_bar.settings_text(step.settings)} for step in base.steps])
edited = st.data_editor(
    rows, num_rows="delete", hide_index=False, width="stretch",
    key=f"my_lesson_steps_{st.session_state.get('my_lesson_version', 0)}",
    column_config={
        "page": st.column_config.TextColumn("Page", disabled=True),
        "title": st.column_config.TextColumn("Title", max_chars=lessons.MAX_TITLE),
        "text": st.column_config.TextColumn("Text for the students", max_chars=lessons.MAX_TEXT,
                                            width="large"),
        "settings": st.column_config.TextColumn("Settings (the page's address)", disabled=True)})
steps, _ = lesson_bar.edited_steps(edited.to_dict("records"))
mine = lessons.Lesson(lessons.MINE, title or "My lesson", "", steps)
st.session_state["my_lesson"] = mine  # the base with the editor's changes
if not steps:
    st.stop()

start, download, _ = st.columns([1, 1, 2])
if start.button("Start my lesson", icon=":material/play_arrow:"):
    lesson_bar.go_to(mine, 0)
download.download_button("Download the lesson (.json)", lessons.to_file(mine),
                         file_name="lesson.json", mime="application/json",
                         icon=":material/download:")
st.caption("Steps you add in this session; download the file to keep or share the lesson.")
