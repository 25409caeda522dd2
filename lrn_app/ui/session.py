"""What a session holds: each page's controls in session state and the address (PageState),
presentation mode, the open lesson's part of the address, the compute device, the uploads.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import numpy as np
import streamlit as st
import torch

from lrn_app import urlstate
from lrn_app.inputs.images import ImageError
from lrn_app.ui.cached import uploaded_image


def device() -> str:
    """CUDA when present, unless the user forced the CPU in the sidebar."""
    if torch.cuda.is_available() and not st.session_state.get("force_cpu", False):
        return "cuda"
    return "cpu"


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def frame_query() -> dict[str, str]:
    """The frame's URL parameters that every page keeps in its address: presentation mode
    and the open lesson's step (urlstate.FRAME_PARAMS)."""
    query = {"present": "1"} if presenting() else {}
    lesson = st.session_state.get("lesson_open")
    if lesson:
        query.update(lesson=lesson[0], step=str(lesson[1] + 1))
    return query


class PageState:
    """One page's controls, kept in session state under ``prefix + field`` (the widgets' keys).

    The page's first run in a session reads them from the URL. Streamlit drops the state
    of any widget a run does not draw (a closed tab, another page), so the last complete
    state is also kept under ``prefix + "_saved"`` and the missing keys are restored from it.
    """

    def __init__(self, page: type, prefix: str):
        self.page, self.prefix, self._saved = page, prefix, prefix + "_saved"

    def start(self) -> None:
        """Fill in the widgets' state; show the repairs made to a hand-edited URL."""
        saved = st.session_state.get(self._saved)
        if saved is None:
            saved, notices = urlstate.parse(st.query_params.to_dict(), self.page)
            st.session_state[self._saved] = saved
            for notice in notices:
                st.warning(f"Address: {notice}")
        for key, value in asdict(saved).items():
            if self.prefix + key not in st.session_state:
                st.session_state[self.prefix + key] = (
                    list(value) if isinstance(value, tuple) else value
                )

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
        query = {**urlstate.to_query(state), **frame_query()}
        if st.query_params.to_dict() != query:
            st.query_params.from_dict(query)


UPLOADS_KEPT = 8  # per session: the raw files are at most 20 MB each (.streamlit/config.toml)


def load_uploads(files, side: int) -> dict[str, np.ndarray]:
    """Decode uploads; a bad file gets an error message and the others go on. The good
    ones are remembered for this session, so every page can use them (the uploader's own
    state is lost when its page is left)."""
    kept = st.session_state.setdefault("upload_bytes", {})
    for file in files or []:
        data = file.getvalue()
        try:
            uploaded_image(data, file.name, side)
        except ImageError as err:
            st.error(str(err))
            continue
        kept.pop(file.name, None)
        kept[file.name] = data  # newest last
    dropped = list(kept)[:-UPLOADS_KEPT]  # the oldest
    for name in dropped:
        del kept[name]
    if dropped:
        st.warning(f"A session keeps the {UPLOADS_KEPT} most recent uploads; dropped "
                   f"{', '.join(dropped)}.")
    return remembered_uploads(side)


def remembered_uploads(side: int) -> dict[str, np.ndarray]:
    """This session's good uploads, decoded at the working size."""
    return {name: uploaded_image(data, name, side)
            for name, data in st.session_state.get("upload_bytes", {}).items()}
