"""lrn_core: Local Response Normalization in every major framework's convention, and BatchNorm.

Pure torch, no UI. The API: docs/library.md; what each convention means: docs/conventions.md.
"""

from .batchnorm import batch_norm, batch_norm_backward
from .conventions import (
    ACROSS,
    CONVENTIONS,
    MODES,
    WITHIN,
    Window,
    conventions_for,
    resolve,
    translate,
)
from .local_response import (
    LocalResponseNorm,
    LRNFunction,
    LRNParts,
    lrn,
    lrn_backward,
    lrn_parts,
    lrn_reference,
)

__all__ = [
    "ACROSS", "WITHIN", "MODES", "CONVENTIONS", "Window",
    "conventions_for", "resolve", "translate",
    "lrn", "lrn_parts", "lrn_backward", "lrn_reference", "LRNParts", "LRNFunction",
    "LocalResponseNorm",
    "batch_norm", "batch_norm_backward",
]
