"""Named LRN settings, each in the convention of the library it comes from.

Applying one keeps the user's convention when an exact translation exists (through
``lrn_core.translate``) and otherwise switches to the preset's own convention.
"""

from __future__ import annotations

from dataclasses import replace

from lrn_app.state import Explorer, repair
from lrn_core import translate

# name -> (convention, size, alpha, beta, k); size None: chosen from the channel count.
PRESETS = {
    "AlexNet paper": ("alexnet", 5, 1e-4, 0.75, 2.0),
    "PyTorch default": ("pytorch", 5, 1e-4, 0.75, 1.0),  # nn.LocalResponseNorm(5)
    "TensorFlow default": ("tensorflow", 5, 1.0, 0.5, 1.0),  # tf.nn.lrn's defaults
    "Caffe AlexNet model": ("caffe", 5, 1e-4, 0.75, 1.0),  # bvlc_alexnet's norm1
    "Identity (alpha = 0)": (None, None, 0.0, None, None),  # keeps everything else
    "L2 normalisation": ("tensorflow", None, 1.0, 0.5, 0.0),  # y = x / ||x|| over all channels
}


def apply_preset(state: Explorer, name: str) -> tuple[Explorer, str]:
    """The state with preset ``name`` applied, and a sentence saying what was set."""
    convention, size, alpha, beta, k = PRESETS[name]
    if convention is None:
        new, _ = repair(replace(state, alpha=alpha))
        return new, "alpha = 0: the denominator is k^beta everywhere, a constant scale."
    if size is None:  # L2: a radius of C - 1 reaches every channel from every channel
        size = state.channels - 1
    params = dict(size=size, alpha=alpha, beta=beta, k=k)
    try:
        if state.mode != "across":
            raise ValueError("presets are across-channel settings")
        out = translate(params, convention, state.convention, mode="across")
        target = state.convention
    except ValueError:
        out, target = params, convention
    new, _ = repair(replace(state, mode="across", convention=target, n=int(out["size"]),
                            alpha=float(out["alpha"]), beta=float(out["beta"]), k=float(out["k"])))
    return new, (
        f"{name} ({convention}: size {size}, alpha {alpha:g}, beta {beta:g}, k {k:g}) "
        f"in {target}'s terms: {new.n}, alpha {new.alpha:.4g}, beta {new.beta:g}, k {new.k:g}."
    )
