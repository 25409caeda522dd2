"""No way in, bounded memory, isolated sessions: checks on the code and on two sessions."""

import ast
import io
import re

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests import ROOT
from tests.app.apptest import release

APP_CODE = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
            *sorted((ROOT / "lrn_app").rglob("*.py"))]  # every subpackage's modules too
APP = str(ROOT / "app.py")


def where(path):
    return path.relative_to(ROOT).as_posix()


def test_the_checks_below_see_every_module_of_the_app():
    assert len(APP_CODE) >= 40 and ROOT / "lrn_app" / "ui" / "cached.py" in APP_CODE


@pytest.mark.parametrize("path", APP_CODE, ids=where)
def test_user_input_is_never_executed_unpickled_or_rendered_as_html(path):
    source = path.read_text()
    for forbidden in (r"unsafe_allow_html", r"import pickle", r"pickle\.load", r"torch\.load",
                      r"allow_pickle\s*=\s*True", r"\beval\(", r"\bexec\(", r"components\.html",
                      r"subprocess", r"os\.system"):
        assert not re.search(forbidden, source), f"{path.name} matches {forbidden}"
    # st.html only for the app's own constant style sheet (presentation mode), never a value
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "st.html":
            assert all(isinstance(a, ast.Constant) for a in node.args) and not node.keywords, \
                f"{path.name}: st.html of something other than a constant string"
    for call in re.findall(r"np\.load\([^)]*\)", source):
        assert "allow_pickle=False" in call, call


def _decorators(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                yield node.name, ast.unparse(dec)


@pytest.mark.parametrize("path", APP_CODE, ids=where)
def test_every_cache_is_bounded(path):
    for name, dec in _decorators(path):
        if "cache_data" in dec:
            assert "max_entries" in dec and "ttl" in dec, (name, dec)
        if "lru_cache" in dec:
            assert "maxsize" in dec and "None" not in dec, (name, dec)
        if "cache_resource" in dec:  # bounded by its decorator, or one shared object bounded inside
            assert ("max_entries" in dec and "ttl" in dec
                    or name in {"lab_runs", "claim_results", "training_pool"}), (name, dec)


def test_upload_cap_and_pixel_cap():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"maxUploadSize\s*=\s*20\b", config)
    from lrn_app.inputs.images import MAX_PIXELS
    assert MAX_PIXELS <= 50_000_000
    from lrn_app.serving.stores import RunStore
    from lrn_app.ui.session import UPLOADS_KEPT
    assert UPLOADS_KEPT <= 16 and RunStore().max_runs <= 256  # a finished run: a few KB


def test_the_run_store_forgets_the_least_recently_used():
    from lrn_app.serving.stores import RunStore
    store = RunStore(max_runs=3)
    for i in range(3):
        store.put(("k", i), i)
    assert store.get(("k", 0)) == 0  # used: now the most recent
    store.put(("k", 3), 3)
    assert store.get(("k", 1)) is None and store.get(("k", 0)) == 0


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_one_sessions_upload_and_settings_never_reach_another():
    alice = AppTest.from_file(APP, default_timeout=120)
    alice.switch_page("app_pages/explorer.py")
    alice.query_params.update({"tab": "Statistics"})
    alice.run()
    alice.selectbox(key="x_sample").set_value("upload").run()
    alice.get("file_uploader")[0].set_value([("alice_secret.png", _png(64, 48), "image/png")]).run()
    release(alice, n=9)
    assert not alice.exception
    assert "alice_secret.png" in alice.session_state["upload_bytes"]

    bob = AppTest.from_file(APP, default_timeout=120)
    bob.switch_page("app_pages/compare.py")
    bob.run()
    assert not bob.exception
    assert "alice_secret.png" not in bob.multiselect(key="b_images").options
    assert "upload_bytes" not in bob.session_state or not bob.session_state["upload_bytes"]
    bob.switch_page("app_pages/explorer.py").run()
    assert bob.session_state["x_n"] == 5  # the default, not Alice's 9
    bob.selectbox(key="x_sample").set_value("upload").run()
    assert any("No image uploaded yet" in i.value for i in bob.info)


def test_more_uploads_than_kept_are_dropped_with_a_message():
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app_pages/compare.py")
    at.run()
    files = [(f"ramp{i:02d}.png", _png(20 + i, 20), "image/png") for i in range(12)]
    at.get("file_uploader")[0].set_value(files).run()
    assert not at.exception
    kept = [name for name in at.multiselect(key="b_images").options if name.startswith("ramp")]
    assert kept == [f"ramp{i:02d}.png" for i in range(4, 12)]
    assert any("the 8 most recent" in w.value for w in at.warning)
