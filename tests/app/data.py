"""Small inputs shared by the app's logic tests."""

import numpy as np

ACROSS = dict(size=5, alpha=2.0, beta=0.75, k=1.0, mode="across", convention="pytorch")


def relu_features(shape, seed=0):
    """Non-negative, like the app's Gabor + ReLU features, with some exact zeros."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return np.maximum(x, 0)
