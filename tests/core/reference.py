"""An independent, deliberately plain LRN for the tests to compare against.

The windows and alpha scalings below are transcribed from
docs/conventions.md on their own, not imported from lrn_core,
and the window sum is taken with zero padding and ``unfold``, not with
lrn_core's shifted adds or prefix sums. Autograd through it gives the
reference gradient.
"""

import torch.nn.functional as F

# size -> (taps below the centre, taps above it), as docs/conventions.md states them.
NOTE_WINDOW = {
    "pytorch": lambda n: (n // 2, (n - 1) // 2),  # c - floor(n/2) .. c + floor((n-1)/2)
    "tensorflow": lambda r: (r, r),  # d - r .. d + r
    "caffe": lambda n: ((n - 1) // 2, (n - 1) // 2),  # odd n, centred
    "onnx": lambda n: ((n - 1) // 2, -(-(n - 1) // 2)),  # floor((size-1)/2), ceil((size-1)/2)
    "cudnn": lambda n: (
        (n - 1) // 2,
        n - 1 - (n - 1) // 2,
    ),  # look-behind floor((n-1)/2), rest ahead
    "onednn": lambda n: ((n - 1) // 2, (n - 1) // 2),  # even n sums only n-1 taps
    "opencv": lambda n: ((n - 1) // 2, (n - 1) // 2),  # odd n, centred
    "alexnet": lambda n: (n // 2, n // 2),  # i - n/2 .. i + n/2, integer division
}

# alpha -> a, the factor that multiplies S.
NOTE_A = {
    "pytorch": lambda alpha, n, mode: alpha / n,
    "tensorflow": lambda alpha, r, mode: alpha,
    "caffe": lambda alpha, n, mode: alpha / n if mode == "across" else alpha / n**2,
    "onnx": lambda alpha, n, mode: alpha / n,
    "cudnn": lambda alpha, n, mode: alpha / n if mode == "across" else alpha / n**2,
    "onednn": lambda alpha, n, mode: alpha / n if mode == "across" else alpha / n**2,
    "opencv": lambda alpha, n, mode: alpha / n if mode == "across" else alpha / n**2,
    "alexnet": lambda alpha, n, mode: alpha,
}

WITHIN_CONVENTIONS = ("caffe", "cudnn", "onednn", "opencv", "alexnet")


def reference_lrn(x, size, alpha, beta, k, mode, convention):
    """y = x * (k + a*S) ** -beta, S by zero padding and unfold; x is (N, C, H, W)."""
    before, after = NOTE_WINDOW[convention](size)
    a = NOTE_A[convention](alpha, size, mode)
    if convention == "caffe" and mode == "within":
        k = 1.0  # Caffe's CPU engine ignores k within a channel
    taps = before + after + 1
    sq = x * x
    if mode == "across":
        padded = F.pad(sq, (0, 0, 0, 0, before, after))  # pads the channel axis
        S = padded.unfold(1, taps, 1).sum(-1)
    else:
        padded = F.pad(sq, (before, after, before, after))
        S = padded.unfold(2, taps, 1).unfold(3, taps, 1).sum((-1, -2))
    return x * (k + a * S) ** -beta
