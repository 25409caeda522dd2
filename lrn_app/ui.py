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


class PageState:
    """One page's controls, kept in session state under ``prefix + field`` (the widgets' keys).

    The page's first run in a session reads them from the URL. Streamlit drops the state
    of any widget a run does not draw (a closed tab, another page), so the last complete
    state is also kept under ``prefix + "_saved"`` and the missing keys are restored from it.
    """

    def __init__(self, page: type, prefix: str):
        self.page, self.prefix, self._saved = page, prefix, prefix + "_saved"

    def start(self) -> list[str]:
        """Fill in the widgets' state; return the repairs made to a hand-edited URL."""
        saved, notices = st.session_state.get(self._saved), []
        if saved is None:
            saved, notices = controls.parse(st.query_params.to_dict(), self.page)
            st.session_state[self._saved] = saved
        for key, value in asdict(saved).items():
            if self.prefix + key not in st.session_state:
                st.session_state[self.prefix + key] = list(value) if isinstance(value, tuple) else value
        return notices

    def get(self):
        values = {f.name: st.session_state[self.prefix + f.name] for f in fields(self.page)}
        return self.page(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def set(self, state, only: tuple[str, ...] | None = None) -> None:
        """Write values into the widgets' state; Streamlit allows it only for widgets not yet
        drawn in this run, hence ``only``."""
        for key, value in asdict(state).items():
            value = list(value) if isinstance(value, tuple) else value
            if (only is None or key in only) and st.session_state.get(self.prefix + key) != value:
                st.session_state[self.prefix + key] = value

    def save(self) -> None:
        """Remember the state of this run and write it into the address."""
        state = self.get()
        st.session_state[self._saved] = state
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
