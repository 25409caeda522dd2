"""Replicas behind nginx (deploy/): the tested configuration is the deployed one, a
classroom spreads over the replicas, uploads reach the session's own replica, and a
student whose replica crashes is back on another, from the page's address.

Skipped, with the reason shown, where nginx or Chromium is missing; .ci/run installs both.
"""

import re
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from deploy.cluster import NGINX, ROOT, cluster, render
from deploy.cluster import unavailable as no_nginx
from harness.browser import browser_page, exception_boxes, open_page, unavailable, wait_for_app

needs_nginx = pytest.mark.skipif(bool(no_nginx()), reason=no_nginx() or "")
needs_browser = pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "")
SHOTS = ROOT / "artifacts" / "screenshots"


def test_docker_compose_uses_the_tested_nginx_template():
    shipped = (ROOT / "deploy" / "nginx.compose.conf").read_text()
    assert shipped.split("\n", 1)[1] == render("80", ["app1:8501", "app2:8501"], "/tmp")
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "./deploy/nginx.compose.conf:/etc/nginx/nginx.conf:ro" in compose
    assert re.search(r"^  app1: \*app$", compose, re.M) and re.search(
        r"^  app2: \*app$", compose, re.M
    )
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in compose


@needs_nginx
def test_the_rendered_configuration_passes_nginx_t(tmp_path):
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / sub).mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render("127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:3"], str(tmp_path)))
    result = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _upstreams(c, pattern: str = r"[^\"]*") -> list[tuple[str, int, str]]:
    """(request, replica port, sticky key) of each request nginx has logged (at its end: an
    open websocket is logged when it closes), in order."""
    log = (c.folder / "access.log").read_text()
    # upstream= lists every replica tried, the one that answered last ("a:1, b:2")
    return [(request, int(tried.split(":")[-1]), sticky) for request, tried, sticky in re.findall(
        rf'"({pattern})" \d+ upstream=(\S+(?:, \S+)*) sticky=(\w+)', log)]


def _replica_of(c, page) -> int:
    """The replica a browser's requests go to: the one nginx last sent its cookie to."""
    sticky = next(k["value"] for k in page.context.cookies() if k["name"] == "lrn_replica")
    return [port for _, port, key in _upstreams(c) if key == sticky][-1]


@needs_nginx
def test_a_classroom_through_nginx_spreads_over_both_replicas_without_errors(capsys):
    from harness.classroom import main
    with cluster(2) as c:
        records = main(["--students", "8", "--seconds", "5", "--think", "1", "--timeout", "120",
                        "--url", c.url])
        assert all(r.errors == [] for r in records), [r.errors for r in records]
        assert all(r.moves for r in records)
        streams = {port for request, port, _ in _upstreams(c) if "/_stcore/stream" in request}
        assert streams == set(c.replica_ports)  # each student's own cookie: both replicas used


def _png(path: Path) -> Path:
    Image.radial_gradient("L").resize((96, 64)).convert("RGB").save(path)
    return path


@needs_nginx
@needs_browser
def test_an_upload_through_nginx_reaches_the_sessions_replica(tmp_path):
    with cluster(2) as c, browser_page(1400, 1000) as page:
        open_page(page, f"{c.url}/explorer?sample=upload", charts=1)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            str(_png(tmp_path / "gradient.png")))
        page.get_by_text("Uploaded image").wait_for(timeout=60_000)
        wait_for_app(page)
        assert exception_boxes(page) == []
        assert page.get_by_text("No image uploaded yet").count() == 0
        uploads = _upstreams(c, r"PUT /_stcore/upload_file[^\"]*")
        assert uploads and {port for _, port, _ in uploads} == {_replica_of(c, page)}


@needs_nginx
@needs_browser
def test_a_student_whose_replica_crashes_is_back_on_another_from_the_address():
    with cluster(2) as c, browser_page(1400, 1000) as page:
        open_page(page, f"{c.url}/explorer?alpha=1.0&channel=3", charts=2)
        page.locator('input[type="range"][aria-label="α (log scale)"]').focus()
        page.keyboard.press("ArrowRight")  # this session's second run: "update 2"
        page.wait_for_selector('[data-testid="stCaptionContainer"]:has-text("update 2")',
                               timeout=60_000)
        assert "alpha=1.78" in page.url
        dead = _replica_of(c, page)
        c.kill_replica(dead)
        killed = time.monotonic()
        # The browser notices, reconnects (Streamlit retries), nginx sends it to the live
        # replica, and the page reruns from its address in a new session there: "update 1".
        page.wait_for_selector('[data-testid="stCaptionContainer"]:has-text("update 1")',
                               timeout=60_000)
        wait_for_app(page)
        back = time.monotonic() - killed
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "failover_back.png"))
        print(f"page back {back:.1f} s after its replica was killed")
        assert _replica_of(c, page) != dead
        assert exception_boxes(page) == []
        assert "alpha=1.78" in page.url and "channel=3" in page.url
        assert page.locator('.live-value').nth(2).text_content() == "1.78"  # α's slider
