"""Lessons in Chromium: every built-in lesson walked with Next, and an uploaded lesson file."""

from harness.browser import browser_page, exception_boxes, open_page, wait_for_app
from tests.browser.support import press_until_address, shot


def test_walk_every_built_in_lesson_with_next(server):
    from lrn_app.compute.lessons import BUILT_IN
    with browser_page(1280, 720) as page:
        for lesson in BUILT_IN:
            open_page(page, f"{server}/lessons", charts=0)
            page.get_by_role("link", name="Start the lesson").nth(BUILT_IN.index(lesson)).click()
            for index, step in enumerate(lesson.steps):
                page.wait_for_url(f"**step={index + 1}**", timeout=60_000)
                bar = page.locator(".st-key-lesson_bar")
                bar.get_by_text(f"Step {index + 1} of {len(lesson.steps)}").wait_for(
                    timeout=60_000)
                wait_for_app(page)
                assert exception_boxes(page) == [], (lesson.id, index)
                assert f"/{step.page}?" in page.url
                assert bar.get_by_text("What to notice").count() == 1
                shot(page, f"lesson_{lesson.id}_{index + 1}")
                if index + 1 < len(lesson.steps):
                    if index == 0:  # the keyboard works too
                        press_until_address(page, "ArrowRight", f"**step={index + 2}**")
                    else:
                        bar.get_by_role("button", name="Next").click()
            bar.get_by_role("button", name="Back").click()
            page.wait_for_url(f"**step={len(lesson.steps) - 1}**", timeout=60_000)


def test_upload_a_lesson_file_and_start_it(server, page, tmp_path):
    from lrn_app.compute import lessons
    from lrn_app.compute.lessons import Lesson, Step
    lesson = Lesson(lessons.MINE, "Shared by a colleague", "", (
        Step("explorer", {"alpha": "1.0", "channel": "3"}, "Small alpha",
             "**Look** at <b>this</b>"),
        Step("conventions", {"example": "within"}, "By hand", "Edit a number.")))
    good = tmp_path / "colleague.json"
    good.write_bytes(lessons.to_file(lesson))
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'{"format": "something else"}')
    open_page(page, f"{server}/lessons")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(bad))
    page.get_by_text("broken.json: not a lesson file").wait_for(timeout=30_000)
    uploader.set_input_files(str(good))
    page.get_by_text("Opened 2 steps from colleague.json").wait_for(timeout=30_000)
    start = page.get_by_role("button", name="Start my lesson")
    start.wait_for(timeout=30_000)
    wait_for_app(page)
    shot(page, "lessons_uploaded")
    start.click()
    page.wait_for_url("**lesson=mine**", timeout=60_000)
    bar = page.locator(".st-key-lesson_bar")
    bar.get_by_text("Step 1 of 2").wait_for(timeout=60_000)
    assert "alpha=1.0" in page.url and "channel=3" in page.url
    assert bar.get_by_text("**Look** at <b>this</b>").count() == 1  # shown as written
    assert exception_boxes(page) == []
    bar.get_by_role("button", name="Next").click()
    page.wait_for_url("**step=2**", timeout=60_000)
    bar.get_by_text("Step 2 of 2").wait_for(timeout=60_000)
    assert "example=within" in page.url
