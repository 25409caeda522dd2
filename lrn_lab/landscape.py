"""Santurkar et al. 2018 ("How Does Batch Normalization Help Optimization?"), two measurements
of one optimizer step, for the claims lab.

Internal covariate shift of layer i at step t: how much layer i's gradient changes when only
the layers before it take the step,

    G  = dL/dW_i at (W_1,  ..., W_{i-1},  W_i, ..., W_k)
    G' = dL/dW_i at (W_1', ..., W_{i-1}', W_i, ..., W_k)      (W' = after the step)

on the same batch, reported as ||G - G'||_2 and cos(G, G') (the paper's figures 5 and 11).

Smoothness along the gradient g of all parameters at w: for step sizes eta, the loss
L(w - eta g) and the gradient there; reported as the range of the loss, the largest change
of the gradient, and the effective beta-smoothness max ||grad L(w) - grad L(w - eta g)|| /
||eta g|| (the paper's figure 4).

Models are nn.Sequential (parameter names start with the layer's index). Every evaluation
goes through torch.func.functional_call with copies of the buffers, so the model itself,
its BatchNorm running statistics included, is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

ETAS = (0.25, 0.5, 1.0, 2.0, 4.0)  # step sizes along the gradient, in learning rates


@dataclass
class Probe:
    step: int  # optimizer steps before this one
    shift_l2: float  # ||G - G'||
    shift_cos: float  # cos(G, G')
    loss_range: float  # max - min of L(w - eta g) over eta in {0} + ETAS x lr
    gradient_change: float  # max ||grad L(w) - grad L(w - eta g)||
    beta: float  # max ||grad L(w) - grad L(w - eta g)|| / ||eta g||


def probed_layer(model: nn.Sequential) -> str:
    """The second convolution's weight: the first layer that has layers before it to shift."""
    convs = [name for name, m in model.named_children() if isinstance(m, nn.Conv2d)]
    return f"{convs[1]}.weight"


def loss_and_grads(model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor,
                   y: torch.Tensor, loss_fn=F.cross_entropy) -> tuple[float, dict]:
    """The loss at ``params`` (in the model's current mode) and its gradient by parameter."""
    leaves = {n: p.detach().requires_grad_() for n, p in params.items()}
    buffers = {n: b.clone() for n, b in model.named_buffers()}  # BatchNorm's stay untouched
    loss = loss_fn(functional_call(model, {**leaves, **buffers}, (x,)), y)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return float(loss.detach()), dict(zip(leaves, grads))


def _index(name: str) -> int:
    return int(name.split(".")[0])


def covariate_shift(model: nn.Module, before: dict, after: dict, grads: dict, layer: str,
                    x: torch.Tensor, y: torch.Tensor, loss_fn=F.cross_entropy
                    ) -> tuple[float, float]:
    """(||G - G'||, cos(G, G')) for ``layer`` (a parameter's name): G = ``grads[layer]``,
    the gradient at ``before``; G' with the layers before it at ``after``."""
    mixed = {n: (after if _index(n) < _index(layer) else before)[n] for n in before}
    _, shifted = loss_and_grads(model, mixed, x, y, loss_fn)
    g, g2 = grads[layer].flatten(), shifted[layer].flatten()
    return float((g - g2).norm()), float(F.cosine_similarity(g, g2, dim=0))


def smoothness(model: nn.Module, params: dict, grads: dict, lr: float, x: torch.Tensor,
               y: torch.Tensor, loss_fn=F.cross_entropy) -> tuple[float, float, float]:
    """(loss range, largest gradient change, effective beta) along -grads from ``params``."""
    g = torch.cat([grads[n].flatten() for n in params])
    loss0, _ = loss_and_grads(model, params, x, y, loss_fn)
    losses, changes, betas = [loss0], [], []
    for eta in (e * lr for e in ETAS):
        moved = {n: p - eta * grads[n] for n, p in params.items()}
        loss, there = loss_and_grads(model, moved, x, y, loss_fn)
        change = float((g - torch.cat([there[n].flatten() for n in params])).norm())
        losses.append(loss)
        changes.append(change)
        betas.append(change / max(eta * float(g.norm()), 1e-12))
    return max(losses) - min(losses), max(changes), max(betas)


def probe(model: nn.Module, before: dict, grads: dict, after: dict, layer: str,
          x: torch.Tensor, y: torch.Tensor, lr: float, step: int) -> Probe:
    """Both measurements of the step that took the parameters from ``before`` to ``after``
    with the gradients ``grads`` (taken at ``before``) on the batch (x, y)."""
    shift_l2, shift_cos = covariate_shift(model, before, after, grads, layer, x, y)
    return Probe(step, shift_l2, shift_cos, *smoothness(model, before, grads, lr, x, y))
