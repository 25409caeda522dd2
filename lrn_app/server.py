"""Done once per server process, on the first run of app.py (a module's code runs once).

Streamlit collects garbage in full after every script run (`runner.postScriptGC`). With
torch, plotly and pandas loaded that walks some 250,000 long-lived objects each time: about
100 to 240 ms of CPU per slider move here, more than the page's own work. So the modules the
pages use, including those Streamlit imports lazily on first use, are imported here, and
`gc.freeze()` then moves every object alive into the collector's permanent generation: later
collections walk only what the sessions create, and a full collection takes under 1 ms. The
collection after each run stays on, so memory stays bounded (benchmarks/memory.py).
"""

import gc

import numpy  # noqa: F401
import pandas  # noqa: F401  (st.dataframe and st.table)
import plotly.graph_objects  # noqa: F401
import plotly.io  # noqa: F401  (st.plotly_chart)
import pyarrow  # noqa: F401  (how Streamlit sends data frames)
import torch  # noqa: F401

import lrn_app.ui  # noqa: F401  (and through it every lrn_app module the pages use)

gc.freeze()
