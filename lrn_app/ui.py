"""Streamlit glue shared by the pages: cached loaders, the compute device, URL state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields

import numpy as np
import streamlit as st
import torch

from . import controls
from .features import feature_maps
from .images import ImageError, decode_image
from .samples import load_sample

PREFIX = "x_"  # session-state keys of the Explorer's widgets: x_<field>

# Streamlit runs every rerun in a fresh thread, and torch's OpenMP pool and glibc's
# malloc arena are per thread: each rerun would start them cold (12 ms became 31 ms for
# one LRN pass). Torch work therefore runs on these long-lived threads, one per core,
# each single-threaded: on a shared server, two sessions then compute side by side,
# and a busy core (the browser, on a laptop) no longer stalls an OpenMP barrier.
_TORCH_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lrn-torch",
                                    initializer=torch.set_num_threads, initargs=(1,))


def on_torch_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a warm, long-lived thread; its result or its exception."""
    return _TORCH_THREADS.submit(fn, *args, **kwargs).result()


def device() -> str:
    """CUDA when present, unless the user forced the CPU in the sidebar."""
    if torch.cuda.is_available() and not st.session_state.get("force_cpu", False):
        return "cuda"
    return "cpu"


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def explain(markdown: str) -> None:
    """Explanatory text, hidden in presentation mode so the figures get the room."""
    if not presenting():
        st.markdown(markdown)


# Caches are bounded in entries and time so that no session can grow the server without limit.
@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def sample_image(name: str, side: int) -> np.ndarray:
    return load_sample(name, side)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def uploaded_image(data: bytes, name: str, side: int) -> np.ndarray:
    return decode_image(data, name, side)


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Computing feature maps...")
def features(image_key: str, _image: np.ndarray, source: str, channels: int) -> np.ndarray:
    """Feature maps, cached by the image's key (hashing the array itself would cost more)."""
    return on_torch_thread(feature_maps, _image, source, channels)


def init_state() -> list[str]:
    """On a session's first run, fill the widgets' state from the URL; return the repairs."""
    if st.session_state.get("x__ready"):
        return []
    state, notices = controls.parse(st.query_params.to_dict())
    for key, value in asdict(state).items():
        st.session_state[PREFIX + key] = value
    st.session_state["x__ready"] = True
    return notices


def current_state() -> controls.Explorer:
    return controls.Explorer(**{f.name: st.session_state[PREFIX + f.name]
                                for f in fields(controls.Explorer)})


def set_state(state: controls.Explorer, only: tuple[str, ...] | None = None) -> None:
    """Write values into the widgets' state; Streamlit allows it only for widgets not yet
    drawn in this run, hence ``only``."""
    for key, value in asdict(state).items():
        if (only is None or key in only) and st.session_state.get(PREFIX + key) != value:
            st.session_state[PREFIX + key] = value


def save_to_url(state: controls.Explorer) -> None:
    query = controls.to_query(state)
    if presenting():
        query["present"] = "1"
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def load_uploads(files, side: int) -> dict[str, np.ndarray]:
    """Decode uploads; a bad file gets an error message and the others go on."""
    images = {}
    for file in files or []:
        try:
            images[file.name] = uploaded_image(file.getvalue(), file.name, side)
        except ImageError as err:
            st.error(str(err))
    return images
