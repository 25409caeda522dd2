"""What the app serves from its static/ folder (server.enableStaticServing, at /app/static/):
the live view's modules (static/live/, in the repository) and plotly.js, which comes from
the installed plotly package: copied into static/vendor/ once per server process where it is
missing or another version's, so that nothing is fetched from the internet."""

from __future__ import annotations

import shutil
from pathlib import Path

import plotly

STATIC = Path(__file__).resolve().parents[2] / "static"  # beside app.py, in the checkout
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_JS_URL = "/app/static/vendor/plotly.min.js"


def serve_plotly_js(static: Path = STATIC) -> Path:
    """static/vendor/plotly.min.js, the installed package's own file."""
    target = static / "vendor" / "plotly.min.js"
    if not target.is_file() or target.read_bytes() != PLOTLY_JS.read_bytes():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PLOTLY_JS, target)
    return target
