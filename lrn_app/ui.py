"""Streamlit glue shared by the pages: cached loaders, the compute device, URL state."""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from lrn_core import conventions_for, resolve
from lrn_core.conventions import Window

from . import batch, compare, controls, figures, gradients, scrub
from .features import BANKS, SOURCES, feature_maps
from .images import UPLOAD_TYPES, ImageError, decode_image
from .samples import DEFAULT_SAMPLE, SAMPLES, load_sample
from .training_pool import TrainingPool

# The browser tab's icon, shipped: a Material icon as page_icon becomes an address on Google's
# font server (fonts.gstatic.com), which a classroom without internet cannot reach. As a data
# address, Streamlit passes it through: given as bytes, it is a media file of each session.
APP_ICON = "data:image/png;base64," + base64.b64encode(
    (Path(__file__).resolve().parent / "assets" / "icon.png").read_bytes()).decode()
PLOT = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}  # chart config

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


class RunStore:
    """Finished training runs, shared by every session of this server: a class that trains
    once shows the result to all. Bounded (least recently used out) and thread-safe."""

    def __init__(self, max_runs: int = 256):
        self._runs: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_runs = max_runs

    def get(self, key: tuple):
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        return None

    def put(self, key: tuple, run) -> None:
        with self._lock:
            self._runs[key] = run
            self._runs.move_to_end(key)
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)


@st.cache_resource
def lab_runs() -> RunStore:
    return RunStore()


@st.cache_resource
def claim_results() -> RunStore:
    """The claims lab's results by (claim, settings), shared by every session."""
    return RunStore(max_runs=64)


@st.cache_resource
def training_pool() -> TrainingPool:
    """The server's training workers and the line of sessions that wait for them."""
    return TrainingPool()


def device() -> str:
    """CUDA when present, unless the user forced the CPU in the sidebar."""
    if torch.cuda.is_available() and not st.session_state.get("force_cpu", False):
        return "cuda"
    return "cpu"


def compute_caption(started: float, counter: str, on: str = "cpu") -> None:
    """The last line of a page or panel: its server time since ``started`` (perf_counter)
    and an update number, so that a test or a benchmark can tell that it redrew."""
    st.session_state[counter] = st.session_state.get(counter, 0) + 1
    st.caption(f"server compute {1000 * (time.perf_counter() - started):.0f} ms on {on} "
               f"· update {st.session_state[counter]}", help="time from the controls to the "
               "last figure; the update number lets a test see that the page redrew")


def presenting() -> bool:
    return bool(st.session_state.get("present", False))


def frame_query() -> dict[str, str]:
    """The frame's URL parameters that every page keeps in its address: presentation mode
    and the open lesson's step (controls.FRAME_PARAMS)."""
    query = {"present": "1"} if presenting() else {}
    lesson = st.session_state.get("lesson_open")
    if lesson:
        query.update(lesson=lesson[0], step=str(lesson[1] + 1))
    return query


PRESENT_FONT = 18  # px: figure text read from the back of a classroom (at least 16)


def chart(figure, where=None, key: str | None = None) -> None:
    """A plotly figure with the app's chart settings; in presentation mode its text is
    enlarged to PRESENT_FONT px so that it reads from the back of a room. The figures carry
    the look of Streamlit's chart theme themselves (figures._LOOK), hence theme=None."""
    if presenting():
        figures.enlarge_text(figure, PRESENT_FONT)
    (where or st).plotly_chart(figure, config=PLOT, key=key, theme=None)


def setup_box(label: str, key: str):
    """Where a page puts the controls set once per lesson (image, batch, presets): a bordered
    box, or in presentation mode an expander, closed at first and remembered by ``key``,
    so that the sliders and the main figure fit on a projector's screen."""
    if not presenting():
        return st.container()
    remembered = key + "_open"  # outlives the widget's own state, dropped on other pages

    def remember() -> None:
        st.session_state[remembered] = st.session_state[key]
    return st.expander(label, expanded=st.session_state.get(remembered, False), key=key,
                       on_change=remember)


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


def features(image_key: str, image: np.ndarray, source: str, channels: int) -> np.ndarray:
    """Feature maps, cached by the image's key (hashing the array itself would cost more).
    The learned source uses this session's filters from the Training lab, if it chose some."""
    learned = st.session_state.get("learned_layer") if source == "learned" else None
    arrays = (learned["filters"], learned["bias"], learned["gain"]) if learned else None
    return _features(f"{image_key}:{_learned_name()}" if source == "learned" else image_key,
                     image, source, channels, arrays)


def _learned_name() -> str:
    """The name of this session's learned filters (the Training lab's), or "shipped"."""
    learned = st.session_state.get("learned_layer")
    return learned["name"] if learned else "shipped"


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Computing feature maps...")
def _features(image_key: str, _image: np.ndarray, source: str, channels: int,
              _learned: tuple | None) -> np.ndarray:
    return on_torch_thread(feature_maps, _image, source, channels, _learned)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def batchnorm_coupling(batch_key: str, _batch: np.ndarray, swap_key: str, _swapped: np.ndarray,
                       loss: str, channel: int, row: int, col: int) -> gradients.Coupling:
    """gradients.batchnorm_coupling, cached by the batches' keys (``image_batch``): an LRN
    slider move on the Gradients page does not recompute BatchNorm."""
    return on_torch_thread(gradients.batchnorm_coupling, _batch, _swapped, loss, channel, row, col)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def batchnorm_side(batch_key: int, _batch: np.ndarray, chosen: int, swap_key: int,
                   _swap_mates: np.ndarray, bn: compare.BatchNormSettings) -> compare.BatchNormSide:
    """compare.batchnorm_side, cached by hashes of the two batches' bytes and the settings:
    an LRN slider move on the comparison page does not recompute BatchNorm."""
    return on_torch_thread(compare.batchnorm_side, _batch, chosen, _swap_mates, bn)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def properties_besides_lrn(batch_key: int, _batch: np.ndarray, chosen: int, swap_key: int,
                           _swap_mates: np.ndarray, bn: compare.BatchNormSettings,
                           _stats: tuple) -> list[dict]:
    """compare.properties' rows of the normalisations other than LRN, cached like
    batchnorm_side (``_stats`` follow from the batch and ``bn``): they do not depend on LRN's
    settings, and measuring them took most of the table's time on every LRN slider move."""
    return on_torch_thread(compare.properties, _batch, chosen, _swap_mates, {}, bn, _stats,
                           names=compare.NORMALISATIONS[1:])


# What a scrub view depends on of LRN's settings, in the order its cache key (a tuple) has them:
# the page's other controls (its tab, its image) must not make a cached sweep miss.
SCRUB_SETTINGS = ("mode", "convention", "n", "k", "alpha", "beta")


def _sweep_key(lrn_settings: tuple, parameter: str) -> tuple:
    """The settings a sweep of ``parameter`` depends on: its own value left out (set to the
    controls' default), so that moving that parameter's slider finds the sweep cached."""
    default = getattr(controls.LRNControls, parameter)
    return tuple(default if name == parameter else value
                 for name, value in zip(SCRUB_SETTINGS, lrn_settings))


def scrub_figure(features: np.ndarray, lrn_settings: tuple, parameter: str, channel: int):
    """scrub.figure, built only when the scrub view is open and cached by the features and
    the LRN settings (mode, convention, n, k, alpha, beta) but the swept one, so a revisit
    costs nothing; opened on the frame nearest the swept parameter's value."""
    figure = _scrub_figure(features, _sweep_key(lrn_settings, parameter), parameter, channel)
    return scrub.opened_at(figure, parameter, lrn_settings[SCRUB_SETTINGS.index(parameter)])


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Computing every frame...")
def _scrub_figure(features: np.ndarray, lrn_settings: tuple, parameter: str, channel: int):
    state = controls.Explorer(**dict(zip(SCRUB_SETTINGS, lrn_settings)))
    return on_torch_thread(scrub.figure, features, state, parameter, channel)


def jacobian_scrub_figure(features: np.ndarray, lrn_settings: tuple, parameter: str,
                          channel: int, row: int, col: int):
    """scrub.jacobian_figure, built only when the Gradients page's scrub view is open, and
    cached and opened like scrub_figure."""
    figure = _jacobian_scrub_figure(features, _sweep_key(lrn_settings, parameter), parameter,
                                    channel, row, col)
    return scrub.opened_at(figure, parameter, lrn_settings[SCRUB_SETTINGS.index(parameter)])


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Computing every frame...")
def _jacobian_scrub_figure(features: np.ndarray, lrn_settings: tuple, parameter: str,
                           channel: int, row: int, col: int):
    state = controls.Gradients(**dict(zip(SCRUB_SETTINGS, lrn_settings)))
    return on_torch_thread(scrub.jacobian_figure, features, state, parameter, channel, row, col)


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
            saved, notices = controls.parse(st.query_params.to_dict(), self.page)
            st.session_state[self._saved] = saved
            for notice in notices:
                st.warning(f"Address: {notice}")
        for key, value in asdict(saved).items():
            if self.prefix + key not in st.session_state:
                st.session_state[self.prefix + key] = list(value) if isinstance(value, tuple) else value

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
        query = {**controls.to_query(state), **frame_query()}
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


def image_and_features(K: str, square: bool = False, side_range=controls.SIDE_RANGE) -> np.ndarray:
    """The image picker and the feature source (widget keys K + sample, source, channels,
    side); returns the (C, H, W) feature maps, of the central square when ``square``."""
    with st.container(border=True):
        left, mid, right, far = st.columns(4)
        sample = left.selectbox("Image", list(SAMPLES) + [controls.UPLOAD], key=K + "sample",
                                format_func=lambda s: "Upload your own..." if s == controls.UPLOAD
                                else f"{s}: {SAMPLES[s]}")
        source = mid.selectbox("Feature maps", list(SOURCES), format_func=SOURCES.get,
                               key=K + "source")
        channels = right.select_slider("Filter-bank channels", options=list(BANKS),
                                       key=K + "channels", disabled=source != "gabor")
        side = far.slider("Working size (px)" if square else "Working size (long side, px)",
                          *side_range, step=32, key=K + "side")
        image_key, image = f"{sample}:{side}", None
        if sample == controls.UPLOAD:
            files = st.file_uploader("PNG, JPEG, WebP, BMP, TIFF or GIF (first frame); several "
                                     "at once", type=UPLOAD_TYPES, accept_multiple_files=True,
                                     key=K + "uploads")
            uploads = load_uploads(files, side)
            if uploads:
                name = st.selectbox("Uploaded image", list(uploads), key=K + "upload_choice")
                image = uploads[name]
                image_key = f"{_upload_key(name, image)}:{side}"
            else:
                st.info(f"No image uploaded yet: showing the {DEFAULT_SAMPLE} meanwhile.")
        if image is None:
            image = sample_image(sample if sample in SAMPLES else DEFAULT_SAMPLE, side)
        if square:
            image, image_key = batch.square(image, side), image_key + ":square"
        feats = features(image_key, image, source, channels)
        C, H, W = feats.shape
        explain(f"{C} feature maps of {H} x {W} pixels"
                + {"gabor": ": Gabor filters, channel order = scale, orientation, phase, so "
                            "neighbouring channels are similar orientations.",
                   "learned": ": the first layer of a CNN trained on shapes (Training lab); its "
                              "channels have no natural order."}.get(source, "."))
    return feats


def _upload_key(name: str, image: np.ndarray) -> str:
    """A cache key for an upload: its name and a hash of its pixels (names can repeat)."""
    return f"upload:{name}:{hash(image.tobytes())}"


def _source(name: str, side: int, uploads: dict[str, np.ndarray] | None) -> tuple[str, np.ndarray]:
    """(cache key, image) of a sample or an upload, by name."""
    if uploads and name in uploads:
        return _upload_key(name, uploads[name]), uploads[name]
    return name, sample_image(name, max(side, 256))


def square_image(name: str, augmentation: str | None, side: int,
                 uploads: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """A sample or an upload, by name, cropped square at side x side RGB, maybe augmented."""
    return _square(*_source(name, side, uploads), augmentation, side)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _square(key: str, _image: np.ndarray, augmentation: str | None, side: int) -> np.ndarray:
    return batch.member(_image, side, augmentation)


def batch_features(labels: list[str], side: int, source: str, channels: int,
                   uploads: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(N, C, side, side) features of a batch given by labels ('cat', 'cat (flip)'); each
    image's features are cached on their own."""
    maps = []
    for label in labels:
        name, augmentation = batch.split_label(label)
        key, image = _source(name, side, uploads)
        maps.append(features(f"{key}:{side}:square:{augmentation}",
                             _square(key, image, augmentation, side), source, channels))
    return np.stack(maps)


def image_batch(image_key: str, features_: np.ndarray, mates: list[str], side: int, source: str,
                channels: int) -> tuple[str, np.ndarray]:
    """One image's (C, side, side) features stacked with its batch-mates' (``batch_features``),
    and a key for the batch. ``image_key`` names ``features_`` (a hash of its bytes will do).

    Built once and shared by every session (``st.cache_resource``), so nothing may write to
    it (torch warns on read-only arrays, so it is not flagged read-only). Stacking
    cached features copies each of them, which cost a slider move on the Gradients page
    more than 10 ms, for a batch that only the image or its mates change.
    """
    key = "|".join([image_key, ",".join(mates), str(side), source, str(channels),
                    _learned_name() if source == "learned" else ""])
    return key, _stacked(key, features_, tuple(mates), side, source, channels)


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def _stacked(key: str, _features: np.ndarray, mates: tuple, side: int, source: str,
             channels: int) -> np.ndarray:
    return np.concatenate([_features[None], batch_features(list(mates), side, source, channels)])


def mode_and_convention(page: PageState, shape: tuple[int, int, int]) -> None:
    """The mode and convention pickers; then values that the new mode, convention or the
    feature maps' ``shape`` (C, H, W) do not allow are repaired, with a notice, before
    their widgets are drawn."""
    K = page.prefix
    left, right = st.columns([1, 3])
    mode = left.radio("Mode", ["across", "within"], key=K + "mode", horizontal=True,
                      help="across: neighbouring channels at one pixel; within: an n x n "
                           "window of pixels in one channel")
    if st.session_state[K + "convention"] not in conventions_for(mode):
        st.session_state[K + "convention"] = conventions_for(mode)[0]
    right.selectbox("Convention", conventions_for(mode), key=K + "convention",
                    format_func=controls.convention_label)
    repaired, notices = controls.repair(page.get(), channel_count=shape[0], shape=shape[1:])
    page.set(repaired, only=("n", "k", "alpha", "beta", "channel", "row", "col"))
    for notice in notices:
        st.info(notice)


def lrn_window(page: PageState) -> Window | None:
    """The window of the page's LRN settings; or None, with a warning and the state saved,
    where the sliders reached settings no library computes (k = 0 with alpha = 0): the
    caller then stops its fragment, and the rest of the page stays."""
    s = page.get()
    try:
        return resolve(s.n, s.alpha, s.beta, s.k, mode=s.mode, convention=s.convention)
    except ValueError as err:
        st.warning(f"These LRN settings cannot be computed: {err}. Move k or α away from 0.")
        page.save()
        return None


def lrn_sliders(page: PageState, channel_count: int) -> None:
    """n, k, alpha and beta, with the ranges and steps the current convention allows."""
    K, state = page.prefix, page.get()
    lim = controls.limits(state.convention, state.mode, channel_count)
    top = st.columns(4)
    top[0].slider(f"n ({lim.size_name})", lim.n_min, lim.n_max, step=lim.n_step, key=K + "n")
    top[1].slider("k", lim.k_min, controls.K_MAX, step=0.01, key=K + "k")
    top[2].select_slider("α (log scale)", options=controls.alpha_choices(state.alpha),
                         key=K + "alpha", format_func=lambda v: f"{v:.3g}")
    top[3].slider("β", lim.beta_min, controls.BETA_MAX, step=0.01, key=K + "beta")

