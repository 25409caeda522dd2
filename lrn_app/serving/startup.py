"""Done once per server process, on the first run of app.py (a module's code runs once).

Streamlit collects garbage in full after every script run (`runner.postScriptGC`). With
torch, plotly and pandas loaded that walks some 250,000 long-lived objects each time, which
cost more CPU per slider move than the page's own work (docs/performance.md). So the modules the
pages use, including those imported lazily on first use, are imported here, and
`gc.freeze()` then moves every object alive into the collector's permanent generation: later
collections walk only what the sessions create, and a full collection takes a few ms. The
collection after each run stays on, so memory stays bounded (benchmarks/memory.py).

A module first imported after that freeze would be walked by every later collection: the
first gradient through torch's autograd imports sympy (about 40,000 objects, walked by every
collection on every page for the rest of the process). ``freeze_new_imports``, which app.py
calls after each run, freezes again whenever a run has imported something new.
"""

import gc
import sys

import numpy  # noqa: F401
import pandas  # noqa: F401  (st.dataframe and st.table)
import PIL.Image
import plotly.graph_objects as go
import plotly.io  # noqa: F401  (st.plotly_chart)
import pyarrow  # noqa: F401  (how Streamlit sends data frames)
import torch
import torch.fx.experimental.symbolic_shapes  # noqa: F401  (torch.autograd.grad, and sympy)

import lrn_app.compute.claims  # (the pages' modules that lrn_app.ui does not import)
import lrn_app.compute.conventions  # noqa: F401
import lrn_app.compute.training
import lrn_app.serving.static
import lrn_app.ui.cached  # noqa: F401  (and through them the other lrn_app modules the pages use)
import lrn_app.ui.lesson_bar  # noqa: F401
import lrn_app.ui.live  # noqa: F401
import lrn_app.ui.widgets  # noqa: F401

PIL.Image.init()  # every image format's plugin, which Image.open imports on first use
go.Figure  # noqa: B018  (plotly imports its Figure class on first use)
# The labs' shipped results, read once here so that they are frozen with the rest: every
# collection would walk their thousands of lists otherwise.
lrn_app.compute.claims.shipped()
lrn_app.compute.training.shipped_results()
lrn_app.serving.static.serve_plotly_js()  # what the live view draws with

gc.freeze()
_modules_at_freeze = len(sys.modules)


def freeze_new_imports() -> None:
    """Freeze again if modules were imported since the last freeze (a library's import on
    first use that the list above misses). Whatever else the run holds is frozen with them
    and never collected, which happens a few times per process at most."""
    global _modules_at_freeze
    if len(sys.modules) > _modules_at_freeze:
        _modules_at_freeze = len(sys.modules)
        gc.freeze()
