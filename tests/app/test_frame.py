"""The frame around the pages (app.py, lrn_app.serving.startup): the front page, and the
collector's work after a run.
"""

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, no_exceptions


def test_home_renders_with_gallery():
    at = AppTest.from_file(APP, default_timeout=120).run()
    no_exceptions(at)
    assert at.title[0].value == "LRN Explorer"
    assert len(at.get("plotly_chart")) == 1  # the sample gallery, one figure


def test_after_every_page_has_run_a_full_collection_walks_only_what_sessions_made():
    """Streamlit collects garbage in full after every run; lrn_app.serving.startup freezes the
    imported libraries so that it walks little. A library imported on first use (torch's
    autograd imported sympy, 40,000 objects walked after every run) must be frozen too."""
    pages = ["explorer", "gradients", "compare", "conventions", "training", "claims", "lessons"]
    code = f"""
import gc
from streamlit.testing.v1 import AppTest
for page in {pages!r}:
    at = AppTest.from_file({APP!r}, default_timeout=120)
    at.switch_page(f"app_pages/{{page}}.py")
    assert not at.run().exception, page
gc.collect()
print("tracked", len(gc.get_objects()), "frozen", gc.get_freeze_count())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=Path(APP).parent)
    assert done.returncode == 0, done.stderr[-2000:]
    tracked, frozen = (int(n) for n in done.stdout.split()[1::2])
    assert frozen > 100_000  # torch, plotly, pandas, streamlit
    assert tracked < 5_000, f"{tracked} objects are walked by every collection"
