"""Each page's controls as plain data: the values a page opens on, their limits, and how a
page's settings are made consistent with each other (``repair``). No Streamlit, no address.

Every control lives in the address (lrn_app.urlstate) so that a teacher can bookmark a view;
a page's dataclass here is what that address parses into. ``repair`` clamps values out of
range and fixes combinations that cannot run, and says what it changed, for the page to show.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from lrn_app.compute.conventions import EXAMPLES
from lrn_app.compute.gradients import LOSSES
from lrn_app.inputs.batch import AUGMENTATIONS, BATCH_MAX, batch_labels
from lrn_app.inputs.features import BANKS, SOURCES, source_channels
from lrn_app.inputs.samples import DEFAULT_SAMPLE, SAMPLES
from lrn_core import CONVENTIONS, conventions_for
from lrn_core.conventions import get as get_convention
from lrn_lab.claim_parts import Settings as ClaimSettings
from lrn_lab.claims import CLAIMS
from lrn_lab.network import HEADS, VARIANTS
from lrn_lab.trainer import LAB_CONVENTIONS, LAB_VARIANTS, TrainConfig

UPLOAD = "upload"
VIEWS = ("output", "input", "gain", "S", "denominator")
TABS = ("All channels", "Statistics", "Pixel inspector", "Channel order", "Export")
SCRUB = (
    "off",
    "alpha",
    "beta",
    "k",
    "n",
)  # a scrub view (lrn_app.compute.scrub): off, or what it sweeps
SIDE_RANGE = (64, 1024)
N_MAX = 31
K_MAX = 10.0
BETA_MAX = 2.0
ALPHA_MAX = 1e4


# The names each control of an LRN page may take (the pages add their own).
_CHOICES = {"sample": tuple(SAMPLES) + (UPLOAD,), "source": tuple(SOURCES),
            "convention": CONVENTIONS, "mode": ("across", "within"), "view": VIEWS,
            "tab": TABS, "scrub": SCRUB}


@dataclass(frozen=True)
class LRNControls:
    """LRN's controls, shared by the pages that set LRN, with the values they open on."""

    CHOICES: ClassVar[dict] = _CHOICES

    mode: str = "across"
    convention: str = "pytorch"
    n: int = 5
    k: float = 1.0
    alpha: float = 10.0  # features reach ~1 (features.FEATURE_GAIN): a = 2 damps them visibly
    beta: float = 0.75

    def repaired(self, notices: list[str]):
        """These settings made consistent (lrn_app.urlstate.parse calls it)."""
        return _repair(self, notices)


@dataclass(frozen=True)
class Explorer(LRNControls):
    """Every control of the LRN Explorer page, with the values it opens on."""

    sample: str = DEFAULT_SAMPLE
    source: str = "gabor"
    channels: int = 16
    side: int = 256
    channel: int = 0
    row: int = -1  # -1: where the inspected channel is strongest
    col: int = -1
    tab: str = "All channels"
    view: str = "output"
    per_channel_scale: bool = True
    shuffle: bool = False
    scrub: str = "off"


@dataclass(frozen=True)
class Limits:
    """Slider ranges for one convention and mode."""

    n_min: int
    n_max: int
    n_step: int  # 2 where only odd sizes exist
    k_min: float
    beta_min: float
    size_name: str


def limits(convention: str, mode: str, channels: int = 16) -> Limits:
    """Across channels a window can usefully reach every channel (L2 normalisation needs
    n = 2C in the paper's convention); within a channel, up to N_MAX pixels."""
    conv = get_convention(convention)
    widest = max(N_MAX, 2 * channels) if mode == "across" else N_MAX
    if convention == "tensorflow":  # size is the radius
        widest //= 2
    n_max = min(conv.max_size or widest, widest)
    # A positive minimum (cuDNN: k >= 1e-5, beta >= 0.01) becomes the sliders' first step.
    return Limits(
        n_min=conv.min_size,
        n_max=n_max,
        n_step=2 if conv.odd_only else 1,
        k_min=0.01 if conv.k_min > 0 else 0.0,
        beta_min=0.01 if conv.beta_min > 0 else 0.0,
        size_name=conv.size_name,
    )


def convention_label(name: str) -> str:
    return f"{name}: {get_convention(name).label}"


def alpha_choices(current: float) -> list[float]:
    """The alpha slider's stops: 0, then 1e-6 .. 1e4 in quarter decades, plus ``current``."""
    grid = [0.0] + [float(f"{10 ** (e / 4):.3g}") for e in range(-24, 17)]
    return sorted(set(grid) | {current})


def _clamp(value, low, high):
    return min(max(value, low), high)


def held_to_sliders(s, channels: int, notices: list[str]):
    """``s`` with n, k, α and β held to the sliders' ranges for its convention and mode (n
    made odd where only odd sizes exist), a notice for each change. The address and a live
    slider's release (lrn_app.compute.live.released) both pass through here."""
    lim = limits(s.convention, s.mode, channels)
    n = _clamp(s.n, lim.n_min, lim.n_max)
    if lim.n_step == 2 and n % 2 == 0:
        n = n + 1 if n + 1 <= lim.n_max else n - 1
    if n != s.n:
        notices.append(f"{s.convention} allows {lim.size_name} in {lim.n_min}..{lim.n_max}"
                       f"{' (odd only)' if lim.n_step == 2 else ''}; {s.n} became {n}.")
    k = _clamp(s.k, lim.k_min, K_MAX)
    if k != s.k:
        notices.append(f"k = {s.k:g} is outside {lim.k_min:g}..{K_MAX:g}; using {k:g}.")
    beta = _clamp(s.beta, lim.beta_min, BETA_MAX)
    if beta != s.beta:
        notices.append(
            f"beta = {s.beta:g} is outside {lim.beta_min:g}..{BETA_MAX:g}; using {beta:g}."
        )
    alpha = _clamp(s.alpha, 0.0, ALPHA_MAX)
    if alpha != s.alpha:
        notices.append(f"alpha = {s.alpha:g} is outside 0..{ALPHA_MAX:g}; using {alpha:g}.")
    return replace(s, n=n, k=k, beta=beta, alpha=alpha)


def _repair(state, notices: list[str], channel_count: int | None = None,
            shape: tuple[int, int] | None = None):
    """Make a page's LRN settings consistent with each other, noting what had to change.
    ``channel_count``: the feature maps' channels, when known (RGB of a grey image: 1);
    ``shape``: their (H, W), when known, to keep an inspected pixel inside them.
    Fields a page lacks (channel, side, ...) are skipped; its own ``repair_page`` runs last."""
    s = state
    if not hasattr(s, "mode"):  # a page without LRN's mode (the Training lab) repairs its own
        return type(s).repair_page(s, notices)
    if s.mode not in ("across", "within"):
        notices.append(f"mode {s.mode!r} is unknown; using 'across'.")
        s = replace(s, mode="across")
    if s.convention not in conventions_for(s.mode):
        fallback = conventions_for(s.mode)[0]
        notices.append(f"{s.convention} has no {s.mode}-channel LRN; using {fallback}.")
        s = replace(s, convention=fallback)
    channels = getattr(s, "channels", 16)
    if channels not in BANKS:
        notices.append(f"the filter bank has {', '.join(map(str, BANKS))} channels; using 16.")
        channels = 16
    s = held_to_sliders(s, channels, notices)
    if s.k == 0 and s.alpha == 0 and s.beta > 0:
        notices.append("k = 0 with alpha = 0 divides by zero everywhere; using k = 1.")
        s = replace(s, k=1.0)
    if hasattr(s, "channels"):
        s = replace(s, channels=channels)
    if hasattr(s, "side"):
        s = replace(s, side=_clamp(s.side, *SIDE_RANGE))
    if hasattr(s, "channel"):
        if channel_count is None:
            channel_count = source_channels(getattr(s, "source", "gabor"), channels)
        s = replace(s, channel=_clamp(s.channel, 0, channel_count - 1))
    if shape is not None and hasattr(s, "row"):
        s = replace(s, row=_clamp(s.row, -1, shape[0] - 1), col=_clamp(s.col, -1, shape[1] - 1))
    page_repair = getattr(type(s), "repair_page", None)
    return page_repair(s, notices) if page_repair else s


def _clamp_fields(s, ranges: dict, notices: list[str]):
    """``s`` with each named field clamped to its (low, high), a notice for each change."""
    for name, (low, high) in ranges.items():
        value = _clamp(getattr(s, name), low, high)
        if value != getattr(s, name):
            notices.append(f"{name} = {getattr(s, name):g} is outside {low:g}..{high:g}; "
                           f"using {value:g}.")
            s = replace(s, **{name: value})
    return s


def repair(state, channel_count: int | None = None, notices: list[str] | None = None,
           shape: tuple[int, int] | None = None) -> tuple:
    """``state`` made consistent, and the notices saying what changed (appended to
    ``notices`` when given)."""
    notices = [] if notices is None else notices
    return _repair(state, notices, channel_count, shape), notices


BATCH_SIDE_RANGE = (64, 256)  # the batch pages hold several images' features at once
BATCH_ELEMENTS_MAX = 1 << 25  # images x channels x side^2 of one batch: 128 MiB of float32


def _repair_batch_side(s, images: int, notices: list[str]):
    """Keep a batch page's side in range and its batch within BATCH_ELEMENTS_MAX."""
    side = _clamp(s.side, *BATCH_SIDE_RANGE)
    channels = source_channels(s.source, s.channels)
    while side > BATCH_SIDE_RANGE[0] and images * channels * side * side > BATCH_ELEMENTS_MAX:
        side -= 32
    if side != s.side:
        why = (
            f"{images} images of {channels} channels at "
            f"{_clamp(s.side, *BATCH_SIDE_RANGE)} px exceed "
            f"{BATCH_ELEMENTS_MAX:,} values"
            if side < _clamp(s.side, *BATCH_SIDE_RANGE)
            else f"{s.side} px is outside {BATCH_SIDE_RANGE[0]}..{BATCH_SIDE_RANGE[1]}"
        )
        notices.append(f"working size: {why}; using {side} px.")
    return replace(s, side=side)


@dataclass(frozen=True)
class Gradients(LRNControls):
    """The Gradients page: LRN's backward pass, its Jacobian, and BatchNorm's for a batch."""

    CHOICES: ClassVar[dict] = {**_CHOICES, "loss": tuple(LOSSES), "mates": tuple(SAMPLES)}
    MATES_MAX: ClassVar[int] = 3

    sample: str = DEFAULT_SAMPLE
    source: str = "gabor"
    channels: int = 16
    side: int = 128  # images are cropped square here, to form a batch
    loss: str = "squared norm"
    channel: int = 5  # away from the first channel, so the window has neighbours both sides
    row: int = -1  # -1: where the channel is strongest
    col: int = -1
    mates: tuple = ("coffee", "astronaut", "gratings")  # BatchNorm's other images
    scrub: str = "off"  # the Jacobian row's scrub view: off, or what it sweeps

    @staticmethod
    def repair_page(s, notices):
        if len(s.mates) > Gradients.MATES_MAX:
            notices.append(f"at most {Gradients.MATES_MAX} batch-mates; kept the first ones.")
            s = replace(s, mates=s.mates[:Gradients.MATES_MAX])
        if not s.mates:
            notices.append("BatchNorm needs batch-mates; using the default ones.")
            s = replace(s, mates=Gradients.mates)
        return _repair_batch_side(s, len(s.mates) + 1, notices)


@dataclass(frozen=True)
class Compare(LRNControls):
    """The LRN vs BatchNorm page: a batch, both normalisations, and what tells them apart."""

    CHOICES: ClassVar[dict] = {**_CHOICES, "images": tuple(SAMPLES), "swap": tuple(SAMPLES),
                               "augment": tuple(AUGMENTATIONS), "bn_mode": ("train", "eval")}

    images: tuple = ("cat", "coffee", "astronaut", "camera")
    augment: tuple = ()
    chosen: int = 0  # which member of the batch the figures show
    swap: tuple = ("gratings", "spot", "noise")  # batch-mates swapped in by the demo
    source: str = "gabor"
    channels: int = 16
    side: int = 128
    bn_mode: str = "train"
    gamma: float = 1.0  # BatchNorm's scale
    shift: float = 0.0  # BatchNorm's shift (its "beta", not LRN's exponent)
    eps: float = 1e-5
    momentum: float = 0.1
    warmup: int = 10  # batches that set the running statistics before eval
    channel: int = 0

    @staticmethod
    def repair_page(s, notices):
        if not s.images:
            notices.append("the batch needs at least one image; using the default ones.")
            s = replace(s, images=Compare.images)
        size = len(batch_labels(s.images, s.augment))
        if size > BATCH_MAX:
            notices.append(f"a batch holds at most {BATCH_MAX} images; {size} asked for, so the "
                           "augmentations were dropped.")
            s = replace(s, augment=())
            size = len(batch_labels(s.images, s.augment))
            if size > BATCH_MAX:
                s = replace(s, images=s.images[:BATCH_MAX])
        ranges = {"gamma": (-3.0, 3.0), "shift": (-3.0, 3.0), "eps": (1e-8, 1.0),
                  "momentum": (0.0, 1.0), "warmup": (0, 100),
                  "chosen": (0, len(batch_labels(s.images, s.augment)) - 1)}
        s = _clamp_fields(s, ranges, notices)
        return _repair_batch_side(s, size + len(s.swap), notices)


@dataclass(frozen=True)
class Conventions(LRNControls):
    """The Conventions page: one setting in every library's terms, proved on real data.
    It opens on the AlexNet paper's values, the setting tutorials most often port."""

    CHOICES: ClassVar[dict] = {**_CHOICES, "example": tuple(EXAMPLES)}

    convention: str = "alexnet"  # n = 5 and beta = 0.75 as in LRNControls
    k: float = 2.0
    alpha: float = 1e-4
    sample: str = DEFAULT_SAMPLE
    example: str = "across"  # the tutorials' live example shown
    cell: int = 0  # which of its outputs is explained (row-major index)

    @staticmethod
    def repair_page(s, notices):
        cells = EXAMPLES[s.example].grid().size
        return _clamp_fields(s, {"cell": (0, cells - 1)}, notices)


@dataclass(frozen=True)
class Training:
    """The Training lab: which variants, seeds, epochs and head, and the LRN variants'
    settings (each variant's learning rate is the protocol's choice, lrn_lab.train)."""

    CHOICES: ClassVar[dict] = {"variants": tuple(VARIANTS), "convention": LAB_CONVENTIONS,
                               "filters_from": tuple(VARIANTS), "head": tuple(HEADS)}
    SEEDS_MAX: ClassVar[int] = 5
    EPOCHS_MAX: ClassVar[int] = 20

    variants: tuple = LAB_VARIANTS
    seeds: int = 3
    epochs: int = TrainConfig.epochs
    head: str = TrainConfig.head
    convention: str = TrainConfig.convention
    n: int = TrainConfig.n
    k: float = TrainConfig.k
    alpha: float = TrainConfig.alpha
    beta: float = TrainConfig.beta
    alpha_scaled: bool = TrainConfig.alpha_scaled
    filters_from: str = "batchnorm"  # whose learned first layer is shown

    def repaired(self, notices: list[str]):
        return self.repair_page(self, notices)

    @staticmethod
    def repair_page(s, notices):
        if not s.variants:
            notices.append("no variant chosen; using the default ones.")
            s = replace(s, variants=Training.variants)
        lim = limits(s.convention, "within")  # the stricter mode: both LRN variants must run
        ranges = {"seeds": (1, Training.SEEDS_MAX), "epochs": (1, Training.EPOCHS_MAX),
                  "n": (lim.n_min, min(lim.n_max, 15)), "k": (lim.k_min, K_MAX),
                  "alpha": (0.0, ALPHA_MAX), "beta": (lim.beta_min, BETA_MAX)}
        s = _clamp_fields(s, ranges, notices)
        if lim.n_step == 2 and s.n % 2 == 0:
            notices.append(f"{s.convention} takes odd sizes only; n = {s.n} became {s.n + 1}.")
            s = replace(s, n=s.n + 1)
        if s.k == 0 and s.alpha == 0:
            notices.append("k = 0 with alpha = 0 divides by zero everywhere; using k = 1.")
            s = replace(s, k=1.0)
        return s

    def config(self) -> TrainConfig:
        return replace(TrainConfig(), epochs=self.epochs, head=self.head,
                       convention=self.convention, n=self.n, k=self.k, alpha=self.alpha,
                       beta=self.beta, alpha_scaled=self.alpha_scaled)


@dataclass(frozen=True)
class Claims:
    """The claims lab: which claim, and how many seeds and epochs its runs get (0: the claim's
    own defaults, lrn_lab.claim_parts.Claim.defaults)."""

    CHOICES: ClassVar[dict] = {"claim": tuple(CLAIMS)}
    SEEDS_MAX: ClassVar[int] = 6
    EPOCHS_MAX: ClassVar[int] = 30

    claim: str = next(iter(CLAIMS))
    seeds: int = 0
    epochs: int = 0

    def repaired(self, notices: list[str]):
        return self.repair_page(self, notices)

    @staticmethod
    def repair_page(s, notices):
        defaults = CLAIMS[s.claim].defaults
        s = replace(s, seeds=s.seeds or defaults.seeds, epochs=s.epochs or defaults.epochs)
        return _clamp_fields(s, {"seeds": (min(2, defaults.seeds), Claims.SEEDS_MAX),
                                 "epochs": (1, Claims.EPOCHS_MAX)}, notices)

    def settings(self) -> ClaimSettings:
        return replace(CLAIMS[self.claim].defaults, seeds=self.seeds, epochs=self.epochs)
