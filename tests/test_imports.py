"""What each package may import, checked on the source (ast), not promised in a docstring:
lrn_core, the library, imports no package of this project; lrn_lab, the labs'
experiments, imports lrn_core and nothing of the app."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"lrn_core", "lrn_lab", "lrn_app", "app_pages", "benchmarks", "deploy", "tests",
           "app"}
ALLOWED = {"lrn_core": set(), "lrn_lab": {"lrn_core"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports stay in its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", list(ALLOWED))
def test_a_package_imports_only_the_project_packages_below_it(package):
    modules = sorted((ROOT / package).glob("*.py"))
    assert modules
    for module in modules:
        project = imported_packages(module) & PROJECT - {package}
        assert project <= ALLOWED[package], (module.name, project - ALLOWED[package])


def test_the_rule_sees_an_import_of_the_app(tmp_path):
    """The check itself: a module that imported the app would be caught, and a relative
    import within its own package is not counted."""
    probe = tmp_path / "probe.py"
    probe.write_text("import torch\nfrom lrn_app import ui\nfrom .train import Run\n"
                     "import lrn_core.conventions\n")
    assert imported_packages(probe) & PROJECT == {"lrn_app", "lrn_core"}
