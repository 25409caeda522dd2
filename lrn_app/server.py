"""Done once per server process, on the first run of app.py (a module's code runs once).

Streamlit collects garbage in full after every script run (`runner.postScriptGC`). With
torch, plotly and pandas loaded that walks some 250,000 long-lived objects each time: about
100 to 240 ms of CPU per slider move here, more than the page's own work. So the modules the
pages use, including those imported lazily on first use, are imported here, and
`gc.freeze()` then moves every object alive into the collector's permanent generation: later
collections walk only what the sessions create, and a full collection takes a few ms. The
collection after each run stays on, so memory stays bounded (benchmarks/memory.py).

A module first imported after that freeze would be walked by every later collection: the
first gradient through torch's autograd imports sympy (about 40,000 objects, 37 ms per
collection, on every page for the rest of the process). ``freeze_new_imports``, which app.py
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

import lrn_app.claims  # (the pages' modules that lrn_app.ui does not import)
import lrn_app.lesson_ui  # noqa: F401
import lrn_app.training
import lrn_app.translator  # noqa: F401
import lrn_app.ui  # noqa: F401  (and through it the other lrn_app modules the pages use)

PIL.Image.init()  # every image format's plugin, which Image.open imports on first use
go.Figure  # noqa: B018  (plotly imports its Figure class on first use)
# The labs' shipped results, read once here so that they are frozen with the rest: every
# collection would walk their thousands of lists otherwise.
lrn_app.claims.shipped()
lrn_app.training.shipped_results()

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
