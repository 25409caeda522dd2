"""The pages' computations behind Streamlit's caches, bounded in entries and time so that no
session can grow the server without limit, and the server-wide stores and training pool.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lrn_app.compute import compare, gradients, scrub, training
from lrn_app.inputs import batch
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.images import decode_image
from lrn_app.inputs.samples import load_sample
from lrn_app.serving.stores import RunStore
from lrn_app.serving.threads import on_torch_thread
from lrn_app.serving.training_pool import TrainingPool
from lrn_app.state import Explorer, Gradients, LRNControls


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


@st.cache_data(max_entries=1, ttl=3600, show_spinner=False)
def shape_examples() -> tuple[np.ndarray, list[str]]:
    return training.shape_examples()


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
    default = getattr(LRNControls, parameter)
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
    state = Explorer(**dict(zip(SCRUB_SETTINGS, lrn_settings)))
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
    state = Gradients(**dict(zip(SCRUB_SETTINGS, lrn_settings)))
    return on_torch_thread(scrub.jacobian_figure, features, state, parameter, channel, row, col)


def _source(name: str, side: int, uploads: dict[str, np.ndarray] | None) -> tuple[str, np.ndarray]:
    """(cache key, image) of a sample or an upload, by name."""
    if uploads and name in uploads:
        return upload_key(name, uploads[name]), uploads[name]
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
    a large share of its time (docs/performance.md), for a batch that only the image or its
    mates change.
    """
    key = "|".join([image_key, ",".join(mates), str(side), source, str(channels),
                    _learned_name() if source == "learned" else ""])
    return key, _stacked(key, features_, tuple(mates), side, source, channels)


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def _stacked(key: str, _features: np.ndarray, mates: tuple, side: int, source: str,
             channels: int) -> np.ndarray:
    return np.concatenate([_features[None], batch_features(list(mates), side, source, channels)])

def upload_key(name: str, image: np.ndarray) -> str:
    """A cache key for an upload: its name and a hash of its pixels (names can repeat)."""
    return f"upload:{name}:{hash(image.tobytes())}"

