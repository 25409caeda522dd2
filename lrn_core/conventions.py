"""What each framework means by LRN's parameters, reduced to one canonical form.

Every implementation computes ``y = x / (k + a * S) ** beta`` (notation of
docs/conventions.md): ``S`` is the sum of squares over a window,
``a`` is alpha after the library's scaling. They differ only in

* where the window sits for a given size (``before`` taps below the centre,
  ``after`` taps above it: an even size is asymmetric in most libraries),
* how alpha is scaled (not at all, by n, or by n*n within a channel),
* which modes and which values they accept.

``resolve`` turns (size, alpha, beta, k) in one convention into a ``Window``,
the canonical form the compute code works from; ``translate`` goes from one
convention to another through that form, and says precisely why when it cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

ACROSS = "across"  # neighbouring channels at one pixel
WITHIN = "within"  # an n x n spatial window inside one channel
MODES = (ACROSS, WITHIN)


@dataclass(frozen=True)
class Window:
    """The canonical form of one LRN setting: ``y = x * (k + a * S) ** -beta``.

    ``S`` sums ``x ** 2`` over indices ``i - before .. i + after`` along the
    channel axis (``across``) or along both spatial axes (``within``), with
    zeros beyond the borders (zero padding and clipping give the same sum).
    """

    mode: str
    before: int
    after: int
    a: float
    k: float
    beta: float

    @property
    def taps(self) -> int:
        """How many positions the window covers along each axis it spans."""
        return self.before + self.after + 1


@dataclass(frozen=True)
class Convention:
    """One library's (or the AlexNet paper's) reading of LRN's parameters."""

    name: str
    label: str
    size_name: str  # what the library calls its size parameter
    modes: tuple[str, ...]
    window: Callable[[int], tuple[int, int]]  # size -> (before, after)
    alpha_scale: Callable[[int, str], int]  # (size, mode) -> divisor of alpha
    min_size: int = 1
    max_size: int | None = None
    odd_only: bool = False
    k_min: float = 0.0
    beta_min: float = 0.0
    k_ignored_within: bool = False  # Caffe's CPU engine uses k = 1 within a channel
    notes: str = ""


def _floor_both(n: int) -> tuple[int, int]:
    # Centred for odd n; an even n loses its extra tap (oneDNN) or cannot occur.
    return (n - 1) // 2, (n - 1) // 2


def _extra_high(n: int) -> tuple[int, int]:
    # floor((n-1)/2) behind, ceil((n-1)/2) ahead: an even n's extra tap is above.
    return (n - 1) // 2, n // 2


def _by_n(n: int, mode: str) -> int:
    return n if mode == ACROSS else n * n


_TABLE = (
    Convention(
        name="pytorch",
        label="PyTorch F.local_response_norm",
        size_name="size",
        modes=(ACROSS,),
        window=lambda n: (n // 2, (n - 1) // 2),  # an even n's extra tap is BELOW
        alpha_scale=lambda n, mode: n,
        notes="zero padding, divisor always n",
    ),
    Convention(
        name="tensorflow",
        label="TensorFlow tf.nn.local_response_normalization",
        size_name="depth_radius",
        modes=(ACROSS,),
        window=lambda r: (r, r),  # always 2r+1 wide
        alpha_scale=lambda r, mode: 1,
        min_size=0,
        notes="size is depth_radius r; alpha is not divided",
    ),
    Convention(
        name="caffe",
        label="Caffe LRN layer",
        size_name="local_size",
        modes=(ACROSS, WITHIN),
        window=_floor_both,
        alpha_scale=_by_n,
        odd_only=True,
        k_ignored_within=True,
        notes="odd sizes only; within a channel the CPU engine ignores k and uses 1",
    ),
    Convention(
        name="onnx",
        label="ONNX LRN operator",
        size_name="size",
        modes=(ACROSS,),
        window=_extra_high,
        alpha_scale=lambda n, mode: n,
        notes="an even size's extra channel is on the HIGH side (mirror of PyTorch)",
    ),
    Convention(
        name="cudnn",
        label="cuDNN cudnnLRNCrossChannel / divisive normalization",
        size_name="lrnN",
        modes=(ACROSS, WITHIN),
        window=_extra_high,
        alpha_scale=_by_n,
        max_size=16,
        k_min=1e-5,
        beta_min=0.01,
        notes="1 <= n <= 16, k >= 1e-5, beta >= 0.01",
    ),
    Convention(
        name="onednn",
        label="oneDNN LRN primitive",
        size_name="local_size",
        modes=(ACROSS, WITHIN),
        window=_floor_both,
        alpha_scale=_by_n,
        notes="an even size sums only n-1 taps but still divides by n",
    ),
    Convention(
        name="opencv",
        label="OpenCV dnn LRN layer (norm_by_size=true)",
        size_name="size",
        modes=(ACROSS, WITHIN),
        window=_floor_both,
        alpha_scale=_by_n,
        odd_only=True,
        notes="odd sizes only; k (bias) is used in both modes",
    ),
    Convention(
        name="alexnet",
        label="AlexNet paper (Krizhevsky et al. 2012) and its tutorials",
        size_name="n",
        modes=(ACROSS, WITHIN),
        window=lambda n: (n // 2, n // 2),  # i - n/2 .. i + n/2: an even n gives n+1
        alpha_scale=lambda n, mode: 1,
        notes="alpha is not divided; an even n covers n+1 positions",
    ),
)

BY_NAME: dict[str, Convention] = {c.name: c for c in _TABLE}
CONVENTIONS: tuple[str, ...] = tuple(BY_NAME)


def conventions_for(mode: str) -> tuple[str, ...]:
    """The conventions that have the given mode."""
    _check_mode(mode)
    return tuple(c.name for c in _TABLE if mode in c.modes)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def get(convention: str) -> Convention:
    try:
        return BY_NAME[convention]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}"
        ) from None


def _check_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, not {value}")
    return value


def resolve(size, alpha, beta, k, *, mode: str = ACROSS, convention: str = "pytorch") -> Window:
    """Check (size, alpha, beta, k) against the convention's limits; return its Window.

    Raises ``ValueError`` naming the limit and the conventions that accept the value.
    """
    conv = get(convention)
    _check_mode(mode)
    if mode not in conv.modes:
        raise ValueError(
            f"{conv.name} has no {mode}-channel LRN; conventions that do: "
            f"{', '.join(conventions_for(mode))}"
        )
    if isinstance(size, bool) or not isinstance(size, int):
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        else:
            raise TypeError(f"{conv.size_name} must be an integer, not {size!r}")
    alpha = _check_number("alpha", alpha)
    beta = _check_number("beta", beta)
    k = _check_number("k", k)

    if size < conv.min_size:
        raise ValueError(f"{conv.name} needs {conv.size_name} >= {conv.min_size}, got {size}")
    if conv.max_size is not None and size > conv.max_size:
        others = [c.name for c in _TABLE if c.max_size is None and mode in c.modes]
        raise ValueError(
            f"{conv.name} allows {conv.size_name} <= {conv.max_size}, got {size}; "
            f"without that limit: {', '.join(others)}"
        )
    if conv.odd_only and size % 2 == 0:
        others = [c.name for c in _TABLE if not c.odd_only and mode in c.modes]
        raise ValueError(
            f"{conv.name} accepts odd sizes only, got {conv.size_name}={size}; "
            f"conventions with even sizes: {', '.join(others)}"
        )
    # Negative alpha or k could make the denominator negative (NaN under a
    # fractional power); no library documents them, so we refuse them everywhere.
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    if k < conv.k_min:
        hint = f" ({conv.name} requires k >= {conv.k_min:g})" if conv.k_min > 0 else ""
        raise ValueError(f"k must be >= {conv.k_min:g}, got {k}{hint}")
    if beta < conv.beta_min:
        hint = f" ({conv.name} requires beta >= {conv.beta_min:g})" if conv.beta_min > 0 else ""
        raise ValueError(f"beta must be >= {conv.beta_min:g}, got {beta}{hint}")

    before, after = conv.window(size)
    a = alpha / conv.alpha_scale(size, mode)
    k_used = 1.0 if (mode == WITHIN and conv.k_ignored_within) else k
    if k_used == 0 and a == 0 and beta > 0:
        raise ValueError("k = 0 with alpha = 0 makes the denominator zero everywhere")
    return Window(mode=mode, before=before, after=after, a=a, k=k_used, beta=beta)


def describe_window(before: int, after: int, mode: str = ACROSS) -> str:
    """The window in words, e.g. 'c-2..c+1' across channels or 'rows r-1..r+1 x columns ...'."""
    def span(i: str) -> str:
        lo = f"{i}-{before}" if before else i
        hi = f"{i}+{after}" if after else i
        return lo if lo == hi else f"{lo}..{hi}"

    if mode == ACROSS:
        return f"channels {span('c')}"
    return f"rows {span('r')} by columns {span('s')}"


def translate(params: dict, source: str, target: str, *, mode: str = ACROSS) -> dict:
    """Parameters in ``target``'s convention giving the same output as ``params`` in ``source``'s.

    ``params`` holds ``size``, ``alpha``, ``beta`` and ``k``. Raises ``ValueError``
    with the precise reason when the target has no exact equivalent.
    """
    missing = {"size", "alpha", "beta", "k"} - set(params)
    if missing:
        raise ValueError(f"params lacks {', '.join(sorted(missing))}")
    src = get(source)
    w = resolve(params["size"], params["alpha"], params["beta"], params["k"],
                mode=mode, convention=source)
    tgt = get(target)
    if mode not in tgt.modes:
        raise ValueError(
            f"{tgt.name} has no {mode}-channel LRN; conventions that do: "
            f"{', '.join(conventions_for(mode))}"
        )
    # Sizes whose window is the source's window: a window t taps wide can only
    # come from sizes up to t + 1 (AlexNet's even n covers n + 1).
    sizes = [n for n in range(tgt.min_size, w.taps + 2) if tgt.window(n) == (w.before, w.after)]
    if not sizes:
        # Show the target's windows of about the same width, to make the mismatch plain.
        examples = "; ".join(
            f"{tgt.size_name}={n}: {describe_window(*tgt.window(n), mode)}"
            for n in range(tgt.min_size, w.taps + 3)
            if abs(sum(tgt.window(n)) + 1 - w.taps) <= 1
        )
        raise ValueError(
            f"{src.name} {src.size_name}={params['size']} sums "
            f"{describe_window(w.before, w.after, mode)}, and no {tgt.name} "
            f"{tgt.size_name} gives that window ({examples})"
        )
    if tgt.k_ignored_within and mode == WITHIN and w.k != 1.0:
        raise ValueError(
            f"{tgt.name}'s within-channel mode ignores k and uses 1, "
            f"so k = {w.k:g} has no {tgt.name} equivalent"
        )
    errors = []
    for n in sizes:  # the smallest size that also meets the target's limits
        out = {"size": n, "alpha": w.a * tgt.alpha_scale(n, mode), "beta": w.beta, "k": w.k}
        try:
            resolve(out["size"], out["alpha"], out["beta"], out["k"], mode=mode, convention=target)
        except ValueError as err:
            errors.append(str(err))
            continue
        return out
    raise ValueError(f"no exact {tgt.name} equivalent: {errors[0]}")
