"""Local Response Normalization: forward, closed-form backward, autograd Function, Module.

Notation follows docs/conventions.md: ``S`` is the window sum of
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
import torch.nn.functional as F
from torch import Tensor

from .conventions import ACROSS, Window, resolve

# A window up to this many taps is summed by shifted adds (one pass per tap); a
# wider one by doubling, about 2 * log2(taps) passes (see box_sum and lrn_core.bench).
_SHIFTED_ADD_MAX_TAPS = 5

# On the CPU the work goes in blocks of about this many elements (2 MiB of float32)
# so that each block's dozen passes run in cache instead of main memory, and no
# full-size temporaries are allocated. On a GPU the whole tensor is one block.
# 2**19 was the fastest of 2**16..2**20 on every benchmark shape (2-core CPU).
_CPU_BLOCK_ELEMENTS = 1 << 19


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


class _Workspace:
    """Buffers reused by every block of one call: the CPU path then allocates (and
    page-faults) nothing per block. ``ws(name, like)`` is a buffer shaped like ``like``."""

    def __init__(self):
        self._buffers: dict[str, Tensor] = {}

    def __call__(self, name: str, like: Tensor, shape: tuple[int, ...] | None = None) -> Tensor:
        shape = like.shape if shape is None else torch.Size(shape)
        numel = shape.numel()
        buf = self._buffers.get(name)
        if buf is None or buf.numel() < numel or buf.dtype != like.dtype:
            buf = torch.empty(numel, dtype=like.dtype, device=like.device)
            self._buffers[name] = buf
        return buf[:numel].view(shape)


def box_sum(t: Tensor, before: int, after: int, dim: int, out: Tensor, ws: _Workspace) -> Tensor:
    """``out[i] = sum(t[j] for j in i-before .. i+after)`` along ``dim``, zeros beyond the ends."""
    # Taps more than length - 1 away never reach an element: drop them.
    before, after = min(before, t.shape[dim] - 1), min(after, t.shape[dim] - 1)
    if before + after + 1 <= _SHIFTED_ADD_MAX_TAPS:
        return _shifted_sum(t, before, after, dim, out)
    return _doubling_sum(t, before, after, dim, out, ws)


def _shifted_sum(t: Tensor, before: int, after: int, dim: int, out: Tensor) -> Tensor:
    """box_sum as one add per tap of ``t`` shifted by -before..after."""
    length = t.shape[dim]
    offsets = [-o for o in range(1, before + 1)] + list(range(1, after + 1))  # t[i + o]
    if not offsets:
        return out.copy_(t)
    for n, o in enumerate(offsets):
        lo, hi = max(-o, 0), length - max(o, 0)  # the i whose t[i + o] exists
        target = out.narrow(dim, lo, hi - lo)
        if n == 0:  # the first add writes out, the uncovered border copies t
            torch.add(t.narrow(dim, lo, hi - lo), t.narrow(dim, lo + o, hi - lo), out=target)
            out.narrow(dim, 0, lo).copy_(t.narrow(dim, 0, lo))
            out.narrow(dim, hi, length - hi).copy_(t.narrow(dim, hi, length - hi))
        else:
            target.add_(t.narrow(dim, lo + o, hi - lo))
    return out


def _doubling_sum(t: Tensor, before: int, after: int, dim: int, out: Tensor,
                  ws: _Workspace) -> Tensor:
    """box_sum by doubling: F_w[m] = t[m] + ... + t[m+w-1] gives F_2w[m] = F_w[m] + F_w[m+w],
    and the window is the sum of the F_w for the binary digits of its width, side by side.

    About 2 * log2(width) contiguous passes, and every sum is pairwise over at most
    `width` terms, so float32 stays accurate; a prefix sum over the whole axis would
    subtract two large numbers and lose the small window sums next to a bright spot.
    """
    taps, length = before + after + 1, t.shape[dim]
    padded_len = length + before  # position m of `padded` is t[m - before]
    shape = t.shape[:dim] + (padded_len,) + t.shape[dim + 1:]
    F = ws("doubling_a", t, shape)
    F.narrow(dim, 0, before).zero_()
    F.narrow(dim, before, length).copy_(t)
    F_next = ws("doubling_b", t, shape)
    width, offset = 1, 0
    while True:
        if taps & width:  # add F_width[i + offset] for every output i
            valid = min(length, padded_len - offset)  # the first digit has offset 0: all
            src = F.narrow(dim, offset, valid)
            if offset == 0:
                out.copy_(src)
            else:
                out.narrow(dim, 0, valid).add_(src)
            offset += width
        if 2 * width > taps:
            return out
        keep = max(padded_len - width, 0)  # F_2w = F_w where m + w runs off the end
        torch.add(
            F.narrow(dim, 0, keep), F.narrow(dim, width, keep), out=F_next.narrow(dim, 0, keep)
        )
        F_next.narrow(dim, keep, padded_len - keep).copy_(F.narrow(dim, keep, padded_len - keep))
        F, F_next = F_next, F
        width *= 2


# The work layout: across channels (N, C, H*W) with the window on axis 1; within a
# channel (N*C, H, W) with the window on axes 1 and 2. Blocks are slices of it.

def _work_layout(t: Tensor, mode: str) -> Tensor:
    n, c, h, w = t.shape
    return t.reshape(n, c, h * w) if mode == ACROSS else t.reshape(n * c, h, w)


def _blocks(shape: torch.Size, mode: str, device: torch.device) -> list[tuple[slice, ...]]:
    """Index tuples that cut the work layout into cache-sized blocks (one on a GPU)."""
    if device.type != "cpu":
        return [(slice(None),)]
    if mode == ACROSS:
        n, c, pixels = shape
        run = max(1, _CPU_BLOCK_ELEMENTS // c)  # pixels per block, all channels
        if run >= pixels:  # small images: whole images per block
            per = max(1, run // pixels)
            return [(slice(i, i + per),) for i in range(0, n, per)]
        run = -(-pixels // -(-pixels // run))  # equal runs: no small leftover block
        return [(slice(i, i + 1), slice(None), slice(j, j + run))
                for i in range(n) for j in range(0, pixels, run)]
    planes, h, w = shape
    per = max(1, _CPU_BLOCK_ELEMENTS // (h * w))
    return [(slice(i, i + per),) for i in range(0, planes, per)]


def window_sum(t: Tensor, w: Window, out: Tensor, ws: _Workspace, *,
               mirrored: bool = False) -> Tensor:
    """Sum a block ``t`` of the work layout over the LRN window; ``mirrored`` swaps before/after.

    The backward pass needs the mirror: ``i`` lies in ``j``'s window
    ``j-before..j+after`` exactly when ``j`` lies in ``i-after..i+before``.
    """
    before, after = (w.after, w.before) if mirrored else (w.before, w.after)
    if w.mode == ACROSS:
        return box_sum(t, before, after, 1, out, ws)
    # Within a channel the n x n box is separable: rows, then columns.
    rows = box_sum(t, before, after, 1, ws("rows", t), ws)
    return box_sum(rows, before, after, 2, out, ws)


def _power_(D: Tensor, exponent: float, ws: _Workspace) -> Tensor:
    """``D ** exponent`` in place; LRN's usual exponents by cheap instructions.

    ``torch.pow`` with a fractional exponent costs several times ``rsqrt``/``sqrt``,
    and about twice ``exp(exponent * log(D))``, which has the same float accuracy.
    """
    if exponent == 0:
        return D.fill_(1)
    if exponent == -0.5:
        return D.rsqrt_()
    if exponent == -1:
        return D.reciprocal_()
    if exponent == -0.75:  # AlexNet's beta: D**-0.5 * D**-0.25
        D.rsqrt_()
        return D.mul_(torch.sqrt(D, out=ws("sqrt", D)))
    return D.log_().mul_(exponent).exp_()


def _normalizer(xb: Tensor, w: Window, ws: _Workspace, *,
                keep_D: bool = True) -> tuple[Tensor, Tensor | None, Tensor]:
    """For a block: the window sum S, ``D = k + a*S`` and the gain ``D ** -beta``
    (workspace buffers, valid until the next block). Without ``keep_D`` the gain
    is computed in D's buffer, and D is returned as None."""
    squares = torch.mul(xb, xb, out=ws("squares", xb))
    S = window_sum(squares, w, ws("S", xb), ws)
    k = torch.tensor(w.k, dtype=xb.dtype, device=xb.device)  # 0-dim: one pass for k + a*S
    D = torch.add(k, S, alpha=w.a, out=ws("D", xb))
    zero = (D == 0) if w.k == 0 else None  # only with k = 0 can D be 0 (module docstring)
    gain = _power_(ws("gain", xb).copy_(D) if keep_D else D, -w.beta, ws)
    if zero is not None:
        gain.masked_fill_(zero, 0)
    return S, (D if keep_D else None), gain


class LRNParts(NamedTuple):
    """Every quantity of one LRN forward pass, each of the input's shape."""

    S: Tensor  # window sum of squares
    denominator: Tensor  # (k + a*S) ** beta
    output: Tensor  # y = x / denominator
    gain: Tensor  # y / x = denominator ** -1 (0 where the denominator is 0)


def _forward(x: Tensor, w: Window) -> Tensor:
    """y for a contiguous (N, C, H, W) tensor, block by block."""
    x3 = _work_layout(x, w.mode)
    y3 = torch.empty_like(x3)
    ws = _Workspace()
    for idx in _blocks(x3.shape, w.mode, x3.device):
        xb = x3[idx]
        torch.mul(xb, _normalizer(xb, w, ws, keep_D=False)[2], out=y3[idx])
    return y3.view(x.shape)


def _backward(x: Tensor, g: Tensor, w: Window, y: Tensor | None = None) -> Tensor:
    """The closed form of the module docstring, block by block; ``D`` is recomputed
    per block, which is cheaper than keeping it from the forward pass in memory."""
    x3, g3 = _work_layout(x, w.mode), _work_layout(g, w.mode)
    y3 = None if y is None else _work_layout(y, w.mode)
    gx3 = torch.empty_like(x3)
    ws = _Workspace()
    for idx in _blocks(x3.shape, w.mode, x3.device):
        xb, gb, out = x3[idx], g3[idx], gx3[idx]
        _, D, gain = _normalizer(xb, w, ws)
        torch.mul(gb, gain, out=out)
        if w.a == 0 or w.beta == 0:  # D does not depend on x: y = x * const
            continue
        t = torch.mul(xb, gain, out=ws("t", xb)) if y3 is None else ws("t", xb).copy_(y3[idx])
        t.mul_(gb).div_(D)  # g_j * y_j / D_j
        if w.k == 0:
            t.masked_fill_(D == 0, 0)
        inhibition = window_sum(t, w, ws("inhibition", xb), ws, mirrored=True)
        out.addcmul_(xb, inhibition, value=-2.0 * w.a * w.beta)
    return gx3.view(x.shape)


def _as_4d(x: Tensor) -> Tensor:
    return x.unsqueeze(0) if x.dim() == 3 else x


def _prepared(x: Tensor) -> Tensor:
    """(N, C, H, W), contiguous, in the compute dtype (a no-op for the common case)."""
    return _as_4d(x).to(_compute_dtype(x)).contiguous()


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

    Returns ``x * (k + a * S) ** -beta`` with the input's shape, dtype and device;
    differentiable, through the closed-form backward, when ``x`` requires grad.
    Raises ``ValueError`` for a mode or value the convention does not support.
    """
    _check_input(x)
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    if x.requires_grad and torch.is_grad_enabled():
        return _like_input(LRNFunction.apply(_prepared(x), w), x)
    return _like_input(_forward(_prepared(x), w), x)


def lrn_parts(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, *,
              mode: str = ACROSS, convention: str = "pytorch") -> LRNParts:
    """The window sum S, the denominator, the output and the gain y / x, computed once.

    Same arguments as ``lrn``; every field has the shape and dtype of ``x``.
    """
    _check_input(x)
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    x3 = _work_layout(_prepared(x), w.mode)  # one block: the app's tensors are small
    S, D, gain = _normalizer(x3, w, _Workspace())  # buffers of this call alone
    # D ** beta as 1 / gain: torch.pow with a fractional exponent took a third of these
    # parts' time on the Explorer's maps, on every slider move. Where D is 0 (k = 0 only),
    # the gain is set to 0 and D ** beta is 0.
    denominator = torch.reciprocal(gain)
    if w.k == 0:
        denominator.masked_fill_(D == 0, 0)
    parts = LRNParts(S=S, denominator=denominator, output=x3 * gain, gain=gain)
    return LRNParts(*(_like_input(p.view(_as_4d(x).shape), x) for p in parts))


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
    with torch.no_grad():
        gx = _backward(_prepared(x), _prepared(grad_output).to(_compute_dtype(x)), w)
    return _like_input(gx, x)


def lrn_reference(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                  *, mode: str = ACROSS, convention: str = "pytorch") -> Tensor:
    """The definition written with torch primitives: differentiable by plain autograd,
    slower and hungrier than ``lrn``. For checking ``lrn`` and ``lrn_backward`` against (the
    app's Gradients page does), not for use.

    The window sum is the definition's own sum, one shifted slice of the zero-padded squares
    per tap (rows, then columns, within a channel). ``F.local_response_norm`` pools instead;
    autograd through these slices is 1.2 to 2 times faster than through a pool.
    Where ``k = 0`` and a window is all zero it gives NaN (0 * inf), not ``lrn``'s 0.
    """
    _check_input(x)
    w = resolve(size, alpha, beta, k, mode=mode, convention=convention)
    x4 = _as_4d(x)
    squares = x4 * x4
    _, C, H, W = x4.shape
    if w.mode == ACROSS:  # S_c = sum of squares[c - before .. c + after]
        padded = F.pad(squares, (0, 0, 0, 0, w.before, w.after))
        S = sum(padded[:, j:j + C] for j in range(w.taps))
    else:  # the same over rows, then over columns
        padded = F.pad(squares, (w.before, w.after, w.before, w.after))
        rows = sum(padded[:, :, i:i + H] for i in range(w.taps))
        S = sum(rows[:, :, :, j:j + W] for j in range(w.taps))
    y = x4 * (w.k + w.a * S) ** -w.beta
    return y.squeeze(0) if x.dim() == 3 else y


class LRNFunction(torch.autograd.Function):
    """Autograd through LRN with the closed-form backward: ``LRNFunction.apply(x, window)``."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Window) -> Tensor:
        x = x.contiguous()
        y = _forward(x, w)
        ctx.save_for_backward(x, y)  # y is returned anyway: keeping it costs no memory
        ctx.window = w
        return y

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        x, y = ctx.saved_tensors
        return _backward(x, grad_output.contiguous(), ctx.window, y), None


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
        return _like_input(LRNFunction.apply(_prepared(x), self.window), x)

    def extra_repr(self) -> str:
        return (f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, "
                f"mode={self.mode!r}, convention={self.convention!r}")
