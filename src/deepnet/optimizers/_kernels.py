"""torch.optim.Optimizer implementations for algorithms torch does not ship in Keras' form.

Each updates all parameters of a group with ``torch._foreach_*`` ops (one multi-tensor kernel
per op, no Python loop over tensor math). Weight decay is not handled here: the deepnet wrapper
applies Keras' decoupled decay before calling ``step``.
"""

from __future__ import annotations

import torch

__all__ = ["KerasAdamax", "KerasRMSprop", "Lion", "clip_by_global_norm_", "clip_by_norm_"]


def clip_by_norm_(grads: list[torch.Tensor], clipnorm: float) -> None:
    """Keras' per-tensor clipping, in place: ``g * clipnorm / max(||g||, clipnorm)``."""
    if grads:
        factors = torch._foreach_norm(grads)
        torch._foreach_clamp_min_(factors, clipnorm)
        torch._foreach_reciprocal_(factors)
        torch._foreach_mul_(factors, clipnorm)
        torch._foreach_mul_(grads, factors)


def clip_by_global_norm_(grads: list[torch.Tensor], clipnorm: float) -> None:
    """Keras' global clipping, in place: every gradient times ``clipnorm / max(norm, clipnorm)``
    where ``norm`` is the L2 norm of all of them (no epsilon, unlike torch's
    ``clip_grad_norm_``); a non-finite norm makes the gradients NaN, as in Keras."""
    if not grads:
        return
    device = grads[0].device
    norms = torch._foreach_norm(grads)
    total = torch.linalg.vector_norm(torch.stack([n.to(device) for n in norms]))
    scale = clipnorm / torch.clamp_min(total, clipnorm) + (total - total)
    if all(g.device == device for g in grads):
        torch._foreach_mul_(grads, scale)
    else:
        for g in grads:
            g.mul_(scale.to(g.device))


def _group_tensors(optimizer: torch.optim.Optimizer, group: dict, state_names: tuple[str, ...]):
    """Parameters with a gradient, their gradients and their (lazily created) state tensors."""
    params, grads = [], []
    states: list[list[torch.Tensor]] = [[] for _ in state_names]
    for p in group["params"]:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            raise RuntimeError(f"{type(optimizer).__name__} does not support sparse gradients.")
        params.append(p)
        grads.append(p.grad)
        state = optimizer.state[p]
        if not state:
            for name in state_names:
                state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
        for bucket, name in zip(states, state_names):
            bucket.append(state[name])
    return params, grads, states


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al., 2023), Keras' update order:

    ``p -= lr * sign(beta_1 * m + (1 - beta_1) * g)``; then ``m = beta_2 * m + (1 - beta_2) * g``.
    State per parameter: ``exp_avg`` (m).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.99)):
        super().__init__(params, {"lr": lr, "betas": tuple(betas)})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, (exp_avgs,) = _group_tensors(self, group, ("exp_avg",))
            if not params:
                continue
            beta_1, beta_2 = group["betas"]
            update = torch._foreach_mul(exp_avgs, beta_1)
            torch._foreach_add_(update, grads, alpha=1.0 - beta_1)
            torch._foreach_sign_(update)
            torch._foreach_add_(params, update, alpha=-group["lr"])
            torch._foreach_mul_(exp_avgs, beta_2)
            torch._foreach_add_(exp_avgs, grads, alpha=1.0 - beta_2)
        return loss


class KerasRMSprop(torch.optim.Optimizer):
    """RMSprop with Keras' formula (epsilon inside the square root, lr inside the momentum):

    ``v = rho * v + (1 - rho) * g**2``; centered: ``a = rho * a + (1 - rho) * g`` and
    ``d = sqrt(v - a**2 + eps)``, else ``d = sqrt(v + eps)``; ``inc = lr * g / d``;
    with momentum ``b = momentum * b + inc; p -= b`` else ``p -= inc``.
    State per parameter: ``square_avg`` (v), ``grad_avg`` (a, centered), ``momentum_buffer`` (b,
    momentum > 0); the names match torch.optim.RMSprop's.
    """

    def __init__(self, params, lr: float = 1e-3, alpha: float = 0.9, eps: float = 1e-7,
                 momentum: float = 0.0, centered: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "momentum": momentum,
                                  "centered": centered})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rho, eps, lr = group["alpha"], group["eps"], group["lr"]
            momentum, centered = group["momentum"], group["centered"]
            names = ("square_avg",) + (("grad_avg",) if centered else ()) + (
                ("momentum_buffer",) if momentum > 0 else ()
            )
            params, grads, states = _group_tensors(self, group, names)
            if not params:
                continue
            square_avgs = states[0]
            torch._foreach_mul_(square_avgs, rho)
            torch._foreach_addcmul_(square_avgs, grads, grads, value=1.0 - rho)
            if centered:
                grad_avgs = states[1]
                torch._foreach_mul_(grad_avgs, rho)
                torch._foreach_add_(grad_avgs, grads, alpha=1.0 - rho)
                denom = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1.0)
                torch._foreach_add_(denom, eps)
            else:
                denom = torch._foreach_add(square_avgs, eps)
            torch._foreach_sqrt_(denom)
            if momentum > 0:
                buffers = states[-1]
                torch._foreach_mul_(buffers, momentum)
                torch._foreach_addcdiv_(buffers, grads, denom, value=lr)
                torch._foreach_sub_(params, buffers)
            else:
                torch._foreach_addcdiv_(params, grads, denom, value=-lr)
        return loss


def _next_steps(optimizer: torch.optim.Optimizer, params: list) -> list[float]:
    """Advance and return each parameter's step count, kept as torch's non-capturable optimizers
    keep it (a float32 tensor on the CPU, so reading it never waits for an accelerator)."""
    steps = []
    for p in params:
        state = optimizer.state[p]
        step = state.get("step")
        if not isinstance(step, torch.Tensor) or step.device.type != "cpu":
            step = torch.tensor(float(step or 0.0), dtype=torch.float32)
            state["step"] = step
        step += 1.0
        steps.append(step.item())
    return steps


class KerasAdamax(torch.optim.Optimizer):
    """Adamax with Keras' formula (epsilon added to the divisor, not inside the maximum):

    ``m = beta_1 * m + (1 - beta_1) * g``; ``u = max(beta_2 * u, |g|)``;
    ``p -= lr / (1 - beta_1 ** t) * m / (u + eps)``.
    State per parameter: ``exp_avg`` (m), ``exp_inf`` (u) and ``step`` (t, a CPU tensor), as in
    torch.optim.Adamax (whose checkpoints therefore load).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-7):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, (exp_avgs, exp_infs) = _group_tensors(self, group, ("exp_avg", "exp_inf"))
            if not params:
                continue
            beta_1, beta_2 = group["betas"]
            scales = [-group["lr"] / (1.0 - beta_1 ** t) for t in _next_steps(self, params)]
            torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta_1)
            torch._foreach_mul_(exp_infs, beta_2)
            torch._foreach_maximum_(exp_infs, torch._foreach_abs(grads))
            denom = torch._foreach_add(exp_infs, group["eps"])
            torch._foreach_addcdiv_(params, exp_avgs, denom, scales)
        return loss
