"""The reference page of benchmarks/app_latency.py: one slider and one caption, so the app's
pages can be compared with what Streamlit itself costs on this machine, in the same run.
Like the app (lrn_app/serving/startup.py), it freezes the objects alive after its first run, so that
Streamlit's collection after every run costs both the same."""

import gc
import time

import streamlit as st

if not gc.get_freeze_count():  # once per process
    gc.freeze()
started = time.perf_counter()
st.select_slider("α (log scale)", options=[10 ** (e / 4) for e in range(-24, 17)], value=1e-6,
                 key="alpha")
st.session_state["updates"] = st.session_state.get("updates", 0) + 1
st.caption(f"server compute {1000 * (time.perf_counter() - started):.0f} ms on cpu "
           f"· update {st.session_state['updates']}")
