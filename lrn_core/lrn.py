"""Local Response Normalization: forward, closed-form backward, autograd Function, Module.

Notation follows ``shared/design/lrn-conventions.md``: ``S`` is the window sum of
squares, ``D = k + a * S`` the base of the denominator, and

    y_i = x_i * D_i ** -beta
    dL/dx_i = g_i * D_i ** -beta - 2 * a * beta * x_i * sum_{j : i in window(j)} g_j * y_j / D_j

Where ``k = 0`` and a whole window is zero, ``D`` is zero and so is ``x`` (the
window always holds its centre). There the output, the gain and the gradient are
defined as 0 rather than NaN: the limit of ``x * (a * S) ** -beta`` as the
window goes to zero depends on the path, and 0 is what a zero input should give.
The count of such cells is ``(parts.denominator == 0).sum()``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .conventions import ACROSS, Window, resolve

# A window up to this many taps is summed by shifted adds; a wider one through
# prefix sums, whose cost does not grow with the window. Chosen in lrn_core.bench.
_SHIFTED_ADD_MAX_TAPS = 7


def _check_input(x, name: str = "x") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, not {x.dtype}")
    if x.dim() not in (3, 4):
        raise ValueError(
            f"{name} must have shape (N, C, H, W) or (C, H, W), got {tuple(x.shape)}"
        )


def _compute_dtype(x: Tensor) -> torch.dtype:
    # Half types lack precision for the power; compute in float32 and cast back.
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def box_sum(t: Tensor, before: int, after: int, dim: int) -> Tensor:
    """``out[i] = sum(t[j] for j in i-before .. i+after)`` along ``dim``, zeros beyond the ends."""
    length = t.shape[dim]
    if before + after + 1 <= _SHIFTED_ADD_MAX_TAPS:
        out = t.clone()
        for offset in range(1, min(before, length - 1) + 1):  # t[i - offset]
            out.narrow(dim, offset, length - offset).add_(t.narrow(dim, 0, length - offset))
        for offset in range(1, min(after, length - 1) + 1):  # t[i + offset]
            out.narrow(dim, 0, length - offset).add_(t.narrow(dim, offset, length - offset))
        return out
    # Prefix sums: P[m] = sum(t[:m]), out[i] = P[min(i+after+1, L)] - P[max(i-before, 0)].
    # The difference of two large prefix sums loses digits, so float32 sums in float64.
    acc = t.to(torch.float64)
    shape = list(acc.shape)
    shape[dim] = 1
    prefix = torch.cat([acc.new_zeros(shape), torch.cumsum(acc, dim)], dim)
    idx = torch.arange(length, device=t.device)
    hi = (idx + after + 1).clamp_(max=length)
    lo = (idx - before).clamp_(min=0)
    return (prefix.index_select(dim, hi) - prefix.index_select(dim, lo)).to(t.dtype)


def window_sum(t: Tensor, w: Window, *, mirrored: bool = False) -> Tensor:
    """Sum ``t`` (N, C, H, W) over the LRN window of ``w``; ``mirrored`` swaps before/after.

    The backward pass needs the mirror: ``i`` lies in ``j``'s window
    ``j-before..j+after`` exactly when ``j`` lies in ``i-after..i+before``.
    """
    before, after = (w.after, w.before) if mirrored else (w.before, w.after)
    if w.mode == ACROSS:
        return box_sum(t, before, after, dim=1)
    # Within a channel the n x n box is separable: rows, then columns.
    return box_sum(box_sum(t, before, after, dim=2), before, after, dim=3)


class LRNParts(NamedTuple):
    """Every quantity of one LRN forward pass, each of the input's shape."""

    S: Tensor  # window sum of squares
    denominator: Tensor  # (k + a*S) ** beta
    output: Tensor  # y = x / denominator
    gain: Tensor  # y / x = denominator ** -1 (0 where the denominator is 0)


def _forward(x: Tensor, w: Window, *, want_parts: bool = False):
    """Return ``(D, inv, y)`` with ``inv = D ** -beta``, or LRNParts if ``want_parts``."""
    S = window_sum(x * x, w)
    D = S.mul(w.a).add_(w.k) if want_parts else S.mul_(w.a).add_(w.k)
    inv = D.pow(-w.beta)
    if w.k == 0:  # only here can D be 0 (see module docstring)
        inv = torch.where(D > 0, inv, torch.zeros((), dtype=inv.dtype, device=inv.device))
    y = x * inv
    if want_parts:
        return LRNParts(S=S, denominator=D.pow(w.beta), output=y, gain=inv)
    return D, inv, y


def _backward(x: Tensor, g: Tensor, w: Window, D: Tensor, inv: Tensor, y: Tensor) -> Tensor:
    """The closed form of the module docstring, from the forward pass's D, D**-beta and y."""
    if w.a == 0 or w.beta == 0:  # D does not depend on x: y = x * const
        return g * inv
    t = g * y / D
    if w.k == 0:
        t = torch.where(D > 0, t, torch.zeros((), dtype=t.dtype, device=t.device))
    inhibition = window_sum(t, w, mirrored=True)
    return torch.addcmul(g * inv, x, inhibition, value=-2.0 * w.a * w.beta)


def _as_4d(x: Tensor) -> Tensor:
    return x.unsqueeze(0) if x.dim() == 3 else x


def _like_input(y: Tensor, x: Tensor) -> Tensor:
    """Undo ``_as_4d`` and the compute dtype (no-ops, and no autograd nodes, when none applied)."""
    return (y.squeeze(0) if x.dim() == 3 else y).to(x.dtype)


def lrn(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, *,
        mode: str = ACROSS, convention: str = "pytorch") -> Tensor:
    """Local response normalization of ``x`` as the library named by ``convention`` computes it.

    Args:
        x: float tensor (N, C, H, W) or (C, H, W), on any device.
        size, alpha, beta, k: in the convention's own meaning (``size`` is
            TensorFlow's ``depth_radius`` under ``"tensorflow"``).
        mode: ``"across"`` channels at one pixel, or ``"within"`` one channel
            over an n x n spatial window.
        convention: one of ``lrn_core.CONVENTIONS``.

    Returns ``x * (k + a * S) ** -beta`` with the input's shape, dtype and device.
    Raises ``ValueError`` for a mode or value the convention does not support.
    """
    _check_input(x)
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    x4 = _as_4d(x).to(_compute_dtype(x))
    y = _forward(x4, w)[2]
    return _like_input(y, x)


def lrn_parts(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, *,
              mode: str = ACROSS, convention: str = "pytorch") -> LRNParts:
    """The window sum S, the denominator, the output and the gain y / x, computed once.

    Same arguments as ``lrn``; every field has the shape and dtype of ``x``.
    """
    _check_input(x)
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    x4 = _as_4d(x).to(_compute_dtype(x))
    parts = _forward(x4, w, want_parts=True)
    return LRNParts(*(_like_input(p, x) for p in parts))


def lrn_backward(x: Tensor, grad_output: Tensor, size: int, alpha: float = 1e-4,
                 beta: float = 0.75, k: float = 1.0, *, mode: str = ACROSS,
                 convention: str = "pytorch") -> Tensor:
    """dL/dx of ``lrn`` given dL/dy = ``grad_output``, in closed form (no autograd)."""
    _check_input(x)
    _check_input(grad_output, "grad_output")
    if grad_output.shape != x.shape:
        raise ValueError(
            f"grad_output has shape {tuple(grad_output.shape)}, x has {tuple(x.shape)}"
        )
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    dtype = _compute_dtype(x)
    x4, g4 = _as_4d(x).to(dtype), _as_4d(grad_output).to(dtype)
    with torch.no_grad():
        gx = _backward(x4, g4, w, *_forward(x4, w))
    return _like_input(gx, x)


class LRNFunction(torch.autograd.Function):
    """Autograd through LRN with the closed-form backward: ``LRNFunction.apply(x, window)``."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Window) -> Tensor:
        D, inv, y = _forward(x, w)
        ctx.save_for_backward(x, D, inv, y)
        ctx.window = w
        return y

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        x, D, inv, y = ctx.saved_tensors
        return _backward(x, grad_output, ctx.window, D, inv, y), None


class LocalResponseNorm(torch.nn.Module):
    """LRN as a layer, in any convention and mode; no trainable parameters.

    Its backward is the closed form of ``lrn_backward`` (through ``LRNFunction``).
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, *,
                 mode: str = ACROSS, convention: str = "pytorch"):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.mode, self.convention = mode, convention
        self.window = resolve(size, alpha, beta, k, mode=mode, convention=convention)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x)
        return _like_input(LRNFunction.apply(_as_4d(x).to(_compute_dtype(x)), self.window), x)

    def extra_repr(self) -> str:
        return (f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, "
                f"mode={self.mode!r}, convention={self.convention!r}")
