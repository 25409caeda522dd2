"""The project's layout, held by tests rather than promised in docstrings (checked on the
source with ast): which package may import which, who may import Streamlit, that nothing
imports the benchmarks, and that no module outgrows a reader."""

import ast
from pathlib import Path

import pytest

from tests import ROOT

PROJECT = {"lrn_core", "lrn_lab", "lrn_app", "app_pages", "harness", "benchmarks", "deploy",
           "tests", "app"}
# Each package, and the project's packages it may import besides itself: a layer imports
# only the layers below it.
ALLOWED = {"lrn_core": set(), "lrn_lab": {"lrn_core"}, "lrn_app": {"lrn_core", "lrn_lab"},
           "app_pages": {"lrn_core", "lrn_lab", "lrn_app"}, "harness": set(),
           "deploy": {"harness"}}
# Inside lrn_app: the parts that must not lean on the Streamlit glue (lrn_app.ui), and
# figures, which leans on nothing else of the app.
APP_PARTS_BELOW_UI = ("compute", "inputs", "figures", "state.py", "urlstate.py", "pages.py",
                      "serving/threads.py", "serving/stores.py", "serving/training_pool.py")
STREAMLIT_ALLOWED = ("app.py", "app_pages/", "lrn_app/ui/")
MAX_LINES = 500


def sources() -> list[Path]:
    skip = {".venv", "artifacts", "build", ".git"}
    return sorted(p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts))


def imports(path: Path) -> set[str]:
    """The absolute modules a file imports, dotted (relative imports stay in its package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


def where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("package", list(ALLOWED))
def test_a_package_imports_only_the_project_packages_below_it(package):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules
    for module in modules:
        project = packages(module) & PROJECT - {package}
        assert project <= ALLOWED[package], (where(module), project - ALLOWED[package])


def test_within_the_app_only_the_ui_leans_on_the_ui():
    for part in APP_PARTS_BELOW_UI:
        pattern = part if part.endswith(".py") else f"{part}/*.py"
        for module in sorted((ROOT / "lrn_app").glob(pattern)):
            leaned_on = {name for name in imports(module) if name.startswith("lrn_app.ui")}
            assert not leaned_on, (where(module), leaned_on)
    for module in (ROOT / "lrn_app" / "figures").glob("*.py"):  # figures: arrays in, figures out
        assert not {n for n in imports(module) if n.startswith("lrn_app.")
                    and not n.startswith("lrn_app.figures")}, where(module)


def test_streamlit_is_imported_only_by_the_app_its_pages_and_lrn_app_ui():
    """The wire format (streamlit.proto) for the protocol client, AppTest for the tests, and
    the benchmarks' reference page are the exceptions, each a different use of Streamlit."""
    for path in sources():
        name = where(path)
        used = {m for m in imports(path) if m.split(".")[0] == "streamlit"}
        if not used or name.startswith(STREAMLIT_ALLOWED):
            continue
        if name.startswith("harness/"):
            assert all(m.startswith("streamlit.proto") for m in used), (name, used)
        elif name.startswith("tests/"):
            assert all(m.startswith("streamlit.testing") for m in used), (name, used)
        else:
            assert name == "benchmarks/trivial_app.py", (name, used)


def test_nothing_imports_the_benchmarks():
    """Tests run a benchmark as its user does (python -m benchmarks.NAME); what the tests,
    the benchmarks and deploy/ share lives in harness/."""
    for path in sources():
        if not where(path).startswith("benchmarks/"):
            assert "benchmarks" not in packages(path), where(path)


def test_no_module_outside_the_tests_is_over_500_lines():
    long = {where(p): n for p in sources() if not where(p).startswith("tests/")
            and (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_rules_see_what_they_forbid(tmp_path):
    """The checks themselves: an import of the app or of Streamlit is seen, in a function
    too, and a relative import within a package is not counted."""
    probe = tmp_path / "probe.py"
    probe.write_text("import torch\nfrom lrn_app import ui\nfrom .train import Run\n"
                     "import lrn_core.conventions\n\ndef f():\n    import streamlit as st\n")
    assert packages(probe) & PROJECT == {"lrn_app", "lrn_core"}
    assert "lrn_app.ui" in imports(probe) and "streamlit" in imports(probe)
