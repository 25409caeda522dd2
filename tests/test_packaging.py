"""The project installs as a library: pip builds it from pyproject.toml, and a new
environment gets lrn_core, lrn_lab with its shipped results, lrn_app with its assets, and
the console scripts.

The new environment takes its dependencies from this one (a .pth file), with pip's index
switched off: pip must still find every declared dependency satisfied, and nothing is
downloaded or installed twice. A real install from scratch (torch included) is the README's
`pip install` command, run by hand.
"""

import json
import shutil
import subprocess
import sysconfig
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_pinned_environment_is_an_install_of_the_package():
    """requirements.txt (what make run installs) names exactly the package's dependencies,
    and what it installed lies in the package's ranges."""
    declared = [
        Requirement(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["app"]
    ]
    pinned = [Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert {r.name for r in pinned} == {r.name for r in declared}
    for requirement in declared:
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)
    core = {Requirement(r).name for r in PROJECT["dependencies"]}
    assert core == {"torch", "numpy", "scipy"}  # the core and the labs need no UI package


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A new virtual environment with the project pip-installed (with the app extra) from a
    copy of its sources (pip builds in the source tree, and the checkout stays clean)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("lrn_core", "lrn_lab", "lrn_app"):
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    env = tmp / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True).strip()
    # Appended to the new environment's path: its own site-packages (the project) comes first.
    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation",
                    "--disable-pip-version-check", f"{source}[app]"],
                   check=True, cwd=tmp, capture_output=True, text=True)
    return env, tmp


def run_in(env: Path, cwd: Path, *command: str) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{env / 'bin'}:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_installed_core_works_outside_the_checkout(installed):
    env, cwd = installed
    out = run_in(env, cwd, str(env / "bin" / "python"), "-c", """
import torch, torch.nn.functional as F
import lrn_core
from lrn_core import lrn, translate
x = torch.rand(2, 8, 5, 5, dtype=torch.float64)
p = translate(dict(size=5, alpha=1e-4, beta=0.75, k=2.0), "alexnet", "pytorch")
y = lrn(x, 2, 1e-4, 0.75, 2.0, convention="tensorflow")
torch.testing.assert_close(y, F.local_response_norm(x, p["size"], p["alpha"], p["beta"], p["k"]))
print(lrn_core.__file__)
""")
    assert Path(out.strip()).is_relative_to(env)  # the installed copy, not the checkout


@pytest.mark.slow
def test_installed_app_logic_finds_its_assets(installed):
    env, cwd = installed
    out = run_in(
        env,
        cwd,
        str(env / "bin" / "python"),
        "-c",
        """
import lrn_app
from lrn_app.inputs.features import feature_maps, load_learned
from lrn_app.inputs.samples import load_sample
import json
image = load_sample("cat", 64)  # a shipped photograph
from pathlib import Path
icon = (Path(lrn_app.__file__).parent / "assets" / "icon.png").read_bytes()[:8]  # the tab's icon
print(json.dumps(dict(file=lrn_app.__file__, image=image.shape, icon=icon.hex(),
                      learned=feature_maps(image, "learned").shape,
                      filters=len(load_learned()[0]))))
""",
    )
    found = json.loads(out)
    assert Path(found["file"]).is_relative_to(env)
    assert found["icon"] == b"\x89PNG\r\n\x1a\n".hex()
    assert max(found["image"][:2]) == 64 and found["filters"] == 8 and found["learned"][0] == 8


@pytest.mark.slow
def test_console_scripts(installed):
    env, cwd = installed
    assert "--save-filters" in run_in(env, cwd, str(env / "bin" / "lrn-train"), "--help")
    assert "--device" in run_in(env, cwd, str(env / "bin" / "lrn-bench"), "--help")
    assert "learning-rate" in run_in(env, cwd, str(env / "bin" / "lrn-claims"), "--help")
    out = run_in(env, cwd, str(env / "bin" / "lrn-train"), "--variants", "none", "--seeds", "1",
                 "--epochs", "1", "--train-size", "96", "--val-size", "48", "--test-size", "48",
                 "--width", "4", "--image-size", "16", "--rates", "0.1")
    assert "no normalisation" in out and "test accuracy" in out


@pytest.mark.slow
def test_installed_labs_find_their_shipped_results(installed):
    env, cwd = installed
    out = run_in(env, cwd, str(env / "bin" / "python"), "-c", """
import lrn_lab
from lrn_lab.results import CLAIMS_FILE, TRAINING_FILE, load
print(lrn_lab.__file__, len(load(CLAIMS_FILE)["results"]), len(load(TRAINING_FILE)["results"]))
""")
    file, claims, training = out.split()
    assert Path(file).is_relative_to(env) and int(claims) == 7 and int(training) == 2


@pytest.mark.slow
def test_installed_metadata_splits_the_core_from_the_app(installed):
    env, cwd = installed
    out = run_in(
        env,
        cwd,
        str(env / "bin" / "python"),
        "-c",
        "from importlib.metadata import requires; print('\\n'.join(requires('lrn-explorer')))",
    )
    requirements = [Requirement(line) for line in out.splitlines()]
    core = {r.name for r in requirements if r.marker is None}
    app = {
        r.name for r in requirements if r.marker is not None and 'extra == "app"' in str(r.marker)
    }
    assert core == {"torch", "numpy", "scipy"}
    assert app == {"streamlit", "plotly", "pillow", "orjson", "pyarrow"}
