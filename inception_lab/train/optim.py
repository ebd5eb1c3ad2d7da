"""The papers' optimizers: SGD with momentum [GoogLeNet, §6], TensorFlow's RMSProp [Rethinking, §8], and Adam.

[Rethinking, §8] trained Inception-v3 with "RMSProp with decay of 0.9 and ε = 1.0" in TensorFlow. TensorFlow 1.x's
``tf.train.RMSPropOptimizer`` (kernel ``ApplyRMSProp``) is not PyTorch's ``torch.optim.RMSprop``:

==========================  ==========================================  ==========================================
                            TensorFlow (:class:`RMSpropTF`)             ``torch.optim.RMSprop``
==========================  ==========================================  ==========================================
mean square ``ms``, start   1 (``ones_initializer`` for the "rms" slot)  0
update of ``ms``            ``ms += (1 - decay) (g² - ms)``              ``ms = alpha ms + (1 - alpha) g²``
denominator                 ``sqrt(ms + ε)``: ε inside the root          ``sqrt(ms) + ε``: ε outside
momentum buffer             ``mom = μ mom + lr g / sqrt(ms + ε)``        ``buf = μ buf + g / (sqrt(ms) + ε)``
step                        ``θ -= mom``                                 ``θ -= lr buf``
==========================  ==========================================  ==========================================

With the usual tiny ε the two nearly agree. With the paper's ε = 1.0 they do not: inside the root, 1.0 is a floor
under the mean square, so a coordinate whose gradients are small (``ms`` << 1) takes plain momentum-SGD steps
``lr g`` instead of RMSProp's normalised ``lr g / sqrt(ms)``; outside, ``sqrt(ms) + 1`` floors the denominator at 1
and changes it even for large gradients. Momentum on the lr-scaled step (TensorFlow) and momentum on the raw step
(PyTorch) agree while ``lr`` is constant and differ when a schedule changes it: TensorFlow's buffer keeps the old
rate's steps. Chapter 8 shows the difference on a small problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from inception_lab.checks import check_choice, check_number

#: The optimizers a recipe can name: "momentum" (SGD), "rmsprop_tf" (:class:`RMSpropTF`), "rmsprop_torch"
#: (``torch.optim.RMSprop``, for comparison), "adam". ``"sgd"`` is accepted as the name of "momentum".
OPTIMIZERS = ("momentum", "sgd", "rmsprop_tf", "rmsprop_torch", "adam")

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


class RMSpropTF(torch.optim.Optimizer):
    """RMSProp as TensorFlow 1.x applies it (``ApplyRMSProp``), the optimizer of [Rethinking, §8].

    Per parameter, with gradient ``g`` (plus ``weight_decay`` x the parameter, an L2 penalty as TF-slim's
    regularization losses add it)::

        ms  <- ms + (1 - decay) (g^2 - ms)          # ms starts at 1.0, not 0
        mom <- momentum mom + lr g / sqrt(ms + eps) # eps inside the square root; lr inside the buffer
        p   <- p - mom

    Args:
        params: parameters or parameter groups.
        lr: learning rate (> 0).
        decay: decay of the running mean square, in [0, 1) (the paper: 0.9).
        momentum: momentum coefficient in [0, 1) (TensorFlow's trainer: 0.9).
        eps: added to the mean square inside the square root (the paper: 1.0).
        weight_decay: L2 penalty added to the gradient (>= 0).
    """

    def __init__(self, params: Iterable[nn.Parameter] | Iterable[dict], lr: float, decay: float = 0.9,
                 momentum: float = 0.9, eps: float = 1.0, weight_decay: float = 0.0) -> None:
        check_number("lr", lr, minimum=0, strict_minimum=True)
        check_number("decay", decay, minimum=0, maximum=1, strict_maximum=True)
        check_number("momentum", momentum, minimum=0, maximum=1, strict_maximum=True)
        check_number("eps", eps, minimum=0, strict_minimum=True)
        check_number("weight_decay", weight_decay, minimum=0)
        super().__init__(params, dict(lr=lr, decay=decay, momentum=momentum, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient (see the class docstring for the formulas)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p, memory_format=torch.preserve_format)  # TF's "rms" slot
                    state["mom"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                ms, mom = state["ms"], state["mom"]
                ms.add_(g.square() - ms, alpha=1 - group["decay"])  # ms += (1 - decay)(g^2 - ms)
                mom.mul_(group["momentum"]).addcdiv_(g, (ms + group["eps"]).sqrt(), value=group["lr"])
                p.sub_(mom)  # var -= mom
        return loss


def build_optimizer(name: str, params: Iterable[nn.Parameter], *, lr: float, momentum: float = 0.9,
                    weight_decay: float = 0.0, rmsprop_decay: float | None = None,
                    epsilon: float | None = None) -> torch.optim.Optimizer:
    """The optimizer ``name`` (:data:`OPTIMIZERS`) over ``params``, with a recipe's hyper-parameters.

    ``"momentum"``/``"sgd"``: ``torch.optim.SGD(momentum=momentum)`` ("asynchronous stochastic gradient descent with
    0.9 momentum" [GoogLeNet, §6]; PyTorch's SGD momentum is ``v = μ v + g; p -= lr v``, which equals the lr-scaled
    buffer for a constant rate). ``"rmsprop_tf"``: :class:`RMSpropTF`. ``"rmsprop_torch"``: ``torch.optim.RMSprop``
    with the same decay, ε (outside the root), momentum. ``"adam"``: ``torch.optim.Adam`` (its own defaults).

    Raises:
        ValueError: for an unknown name, no parameters, or RMSProp without ``rmsprop_decay``/``epsilon``.
    """
    check_choice("optimizer", name, OPTIMIZERS)
    params = list(params)
    if not params:
        raise ValueError("the model has no trainable parameters (none with requires_grad=True).")
    if name in ("momentum", "sgd"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if rmsprop_decay is None or epsilon is None:
        raise ValueError(f"optimizer {name!r} needs rmsprop_decay and epsilon (the paper: 0.9 and 1.0).")
    if name == "rmsprop_tf":
        return RMSpropTF(params, lr=lr, decay=rmsprop_decay, momentum=momentum, eps=epsilon,
                         weight_decay=weight_decay)
    return torch.optim.RMSprop(params, lr=lr, alpha=rmsprop_decay, eps=epsilon, momentum=momentum,
                               weight_decay=weight_decay)
