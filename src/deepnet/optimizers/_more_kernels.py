"""torch.optim.Optimizer implementations of Keras 3's Adafactor, Ftrl, Lamb, Muon and
ScheduleFreeAdamW (Keras' formulas and update order).

Element-wise algorithms (Ftrl, Lamb, ScheduleFreeAdamW) update all parameters of a group with
``torch._foreach_*`` ops; Adafactor (factored second moments) and Muon (Newton-Schulz
orthogonalisation) depend on each tensor's shape and run per tensor, as Keras does. Each
parameter's state holds ``step`` (a float: Keras' ``iterations + 1`` at the update).
Decoupled weight decay is applied by the deepnet wrapper before ``step`` (Muon applies its own).
"""

from __future__ import annotations

import math
import re

import torch

__all__ = ["TorchAdafactor", "TorchFtrl", "TorchLamb", "TorchMuon", "TorchScheduleFree"]


def _init_state(state: dict, p: torch.Tensor, init: dict) -> None:
    if not state:
        state["step"] = 0.0
        for name, make in init.items():
            state[name] = make(p)


def _collect(optimizer: torch.optim.Optimizer, group: dict, init: dict):
    """Parameters with a gradient, their gradients and per-parameter state dicts (created with
    ``init[name](p)`` on first use), ``step`` advanced to this update's number."""
    params, grads, states = [], [], []
    for p in group["params"]:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            raise RuntimeError(f"{type(optimizer).__name__} does not support sparse gradients.")
        state = optimizer.state[p]
        _init_state(state, p, init)
        state["step"] += 1.0
        params.append(p)
        grads.append(p.grad)
        states.append(state)
    return params, grads, states


def _zeros(p):
    return torch.zeros_like(p, memory_format=torch.preserve_format)


class _Base(torch.optim.Optimizer):
    _state_init: dict = {}

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states = _collect(self, group, self._init_for(group))
            if params:
                self._update(group, params, grads, states)
        return loss

    def _init_for(self, group: dict) -> dict:
        return self._state_init

    @torch.no_grad()
    def init_state(self) -> None:
        """Create every parameter's state now (Keras creates it when the optimizer is built)."""
        for group in self.param_groups:
            init = self._init_for(group)
            for p in group["params"]:
                _init_state(self.state[p], p, init)

    def _update(self, group, params, grads, states):  # pragma: no cover - abstract
        raise NotImplementedError


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x.square().mean().sqrt()


class TorchAdafactor(_Base):
    """Adafactor (Shazeer & Stern, 2018) in Keras' form: second moments factored over the last
    two axes of tensors with ``ndim >= 2``; step size ``max(epsilon_2, rms(w)) * min(lr,
    1/sqrt(t))``; update clipped to RMS ``clip_threshold``."""

    def __init__(self, params, lr=1e-3, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0):
        super().__init__(params, {"lr": lr, "beta_2_decay": beta_2_decay, "epsilon_1": epsilon_1,
                                  "epsilon_2": epsilon_2, "clip_threshold": clip_threshold})

    def _init_for(self, group):
        def factored(p, drop):  # the shape without axis `drop` (a placeholder below rank 2)
            shape = () if p.ndim < 2 else p.shape[:drop] + p.shape[drop:][1:]
            return torch.zeros(shape, dtype=p.dtype, device=p.device)

        return {"r": lambda p: factored(p, -1), "c": lambda p: factored(p, -2), "v": _zeros}

    def _update(self, group, params, grads, states):
        for p, g, state in zip(params, grads, states):
            t = state["step"]
            rho = min(group["lr"], 1.0 / math.sqrt(t))
            beta = 1.0 - t ** group["beta_2_decay"]
            square = g.square().add_(group["epsilon_1"])
            v = state["v"]
            if p.ndim >= 2:
                r, c = state["r"], state["c"]
                r.mul_(beta).add_(square.mean(dim=-1), alpha=1.0 - beta)
                c.mul_(beta).add_(square.mean(dim=-2), alpha=1.0 - beta)
                v.copy_((r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.mul_(beta).add_(square, alpha=1.0 - beta)
            u = g / v.sqrt()
            u.div_(torch.clamp(_rms(u) / group["clip_threshold"], min=1.0))
            alpha = torch.clamp(_rms(p), min=group["epsilon_2"]) * rho
            p.sub_(alpha * u)


class TorchFtrl(_Base):
    """Follow-the-regularized-leader (McMahan et al., 2013), Keras' formula with L1, L2,
    L2-shrinkage and ``beta``. State: ``accumulator`` (starts at ``initial_accumulator_value``)
    and ``linear``."""

    def __init__(self, params, lr=1e-3, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0):
        super().__init__(params, {
            "lr": lr, "learning_rate_power": learning_rate_power,
            "initial_accumulator_value": initial_accumulator_value,
            "l1_regularization_strength": l1_regularization_strength,
            "l2_regularization_strength": l2_regularization_strength,
            "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength,
            "beta": beta})

    def _init_for(self, group):
        value = group["initial_accumulator_value"]
        return {"accumulator": lambda p: torch.full_like(p, value), "linear": _zeros}

    def _update(self, group, params, grads, states):
        lr, power = group["lr"], -group["learning_rate_power"]
        l1 = group["l1_regularization_strength"]
        l2 = group["l2_regularization_strength"] + group["beta"] / (2.0 * lr)
        accums = [s["accumulator"] for s in states]
        linears = [s["linear"] for s in states]
        shrink = group["l2_shrinkage_regularization_strength"]
        used = torch._foreach_add(grads, params, alpha=2.0 * shrink) if shrink else grads
        new_accums = torch._foreach_addcmul(accums, grads, grads)
        new_pow = torch._foreach_pow(new_accums, power)
        sigma = torch._foreach_sub(new_pow, torch._foreach_pow(accums, power))
        torch._foreach_div_(sigma, lr)
        torch._foreach_add_(linears, used)
        torch._foreach_sub_(linears, torch._foreach_mul(sigma, params))
        quadratic = torch._foreach_div(new_pow, lr)
        torch._foreach_add_(quadratic, 2.0 * l2)
        clipped = torch._foreach_clamp_min(linears, -l1)
        torch._foreach_clamp_max_(clipped, l1)
        torch._foreach_sub_(clipped, linears)
        torch._foreach_div_(clipped, quadratic)
        torch._foreach_copy_(params, clipped)
        torch._foreach_copy_(accums, new_accums)


def _adam_moments(group, grads, states, beta_1, beta_2):
    """Keras' ``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``; returns (m, v) lists."""
    ms = [s["momentum"] for s in states]
    vs = [s["velocity"] for s in states]
    torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
    torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), 1.0 - beta_2)
    return ms, vs


class TorchLamb(_Base):
    """LAMB (You et al., 2019) as Keras: the bias-corrected Adam direction scaled per tensor by
    ``||w|| / ||update||`` (1 when either norm is 0). State: ``momentum``, ``velocity``."""

    _state_init = {"momentum": _zeros, "velocity": _zeros}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    def _update(self, group, params, grads, states):
        beta_1, beta_2 = group["betas"]
        t = states[0]["step"]
        ms, vs = _adam_moments(group, grads, states, beta_1, beta_2)
        denom = torch._foreach_div(vs, 1.0 - beta_2 ** t)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, group["eps"])
        update = torch._foreach_div(ms, denom)
        torch._foreach_div_(update, 1.0 - beta_1 ** t)
        w_norms = torch._foreach_norm(params)
        u_norms = torch._foreach_norm(update)
        ratios = [torch.where((w > 0) & (u > 0), w / u, torch.ones_like(w))
                  for w, u in zip(w_norms, u_norms)]
        torch._foreach_mul_(ratios, -group["lr"])
        torch._foreach_addcmul_(params, update, ratios)


class TorchScheduleFree(_Base):
    """Schedule-free AdamW (Defazio et al., 2024) as Keras: ``momentum`` (z) starts at the
    weights; the weights hold the interpolation ``y = (1 - b1) z + b1 x`` of z and the running
    average x. State: ``momentum`` (z), ``velocity``."""

    _state_init = {"momentum": lambda p: p.detach().clone(), "velocity": _zeros}

    def __init__(self, params, lr=2.5e-3, betas=(0.9, 0.999), eps=1e-8, warmup_steps=0):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "warmup_steps": warmup_steps})

    def _update(self, group, params, grads, states):
        beta_1, beta_2 = group["betas"]
        t = states[0]["step"]
        lr = group["lr"]
        if group["warmup_steps"] > 0:
            lr = lr * min(t / group["warmup_steps"], 1.0)
        zs = [s["momentum"] for s in states]
        vs = [s["velocity"] for s in states]
        torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), 1.0 - beta_2)
        denom = torch._foreach_div(vs, 1.0 - beta_2 ** t)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_addcdiv_(zs, grads, denom, value=-lr)
        # x_old from y_old and z (Keras' torch backend reads z after its update: kept as is)
        xs = torch._foreach_sub(params, torch._foreach_mul(zs, 1.0 - beta_1))
        torch._foreach_div_(xs, beta_1)
        torch._foreach_lerp_(xs, zs, 1.0 / t)
        torch._foreach_mul_(xs, beta_1)
        torch._foreach_add_(xs, zs, alpha=1.0 - beta_1)
        torch._foreach_copy_(params, xs)


def _newton_schulz(x: torch.Tensor, steps: int, a: float, b: float, c: float) -> torch.Tensor:
    """Approximate orthogonalisation of a matrix by Keras' quintic Newton-Schulz iteration."""
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.transpose(-2, -1)
    x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
    for _ in range(steps):
        gram = x @ x.transpose(-2, -1)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.transpose(-2, -1) if tall else x


class TorchMuon(_Base):
    """Muon (Jordan et al., 2024; Keras' form): 2-D weights take Nesterov momentum orthogonalised
    by Newton-Schulz and scaled by ``sqrt(max(rows, cols)) * rms_rate``; other weights (and
    embeddings / ``exclude_layers`` matches by ``path``) take AdamW at ``lr * adam_lr_ratio``.
    Decoupled decay ``w -= w * decay * lr`` first (``adam_weight_decay`` for the AdamW ones).
    State: ``momentum``, and ``velocity`` for the AdamW ones."""

    def __init__(self, params, lr=1e-3, adam_betas=(0.9, 0.999), eps=1e-7, weight_decay=0.0,
                 adam_weight_decay=0.0, exclude_layers=(), exclude_embeddings=True,
                 muon_coefficients=(3.4445, -4.7750, 2.0315), adam_lr_ratio=1.0, momentum=0.95,
                 ns_steps=5, nesterov=True, rms_rate=0.2):
        super().__init__(params, {
            "lr": lr, "adam_betas": tuple(adam_betas), "eps": eps, "weight_decay": weight_decay,
            "adam_weight_decay": adam_weight_decay, "exclude_layers": list(exclude_layers),
            "exclude_embeddings": exclude_embeddings, "muon_coefficients": tuple(muon_coefficients),
            "adam_lr_ratio": adam_lr_ratio, "momentum": momentum, "ns_steps": ns_steps,
            "nesterov": nesterov, "rms_rate": rms_rate})

    @staticmethod
    def uses_adam(p: torch.Tensor, group: dict) -> bool:
        """Whether ``p`` takes the AdamW update (Keras' rule on shape and ``path``)."""
        if p.ndim != 2:
            return True
        path = getattr(p, "path", None) or getattr(p, "name", None) or ""
        if group["exclude_embeddings"] and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in group["exclude_layers"])

    def _init_for(self, group):
        return {"momentum": _zeros}

    def _update(self, group, params, grads, states):
        lr = group["lr"]
        for p, g, state in zip(params, grads, states):
            adam = self.uses_adam(p, group)
            decay = group["adam_weight_decay"] if adam else group["weight_decay"]
            if decay:
                p.mul_(1.0 - decay * lr)
            if adam:
                self._adam(group, p, g, state)
            else:
                self._muon(group, p, g, state)

    @staticmethod
    def _adam(group, p, g, state):
        beta_1, beta_2 = group["adam_betas"]
        t = state["step"]
        if "velocity" not in state:
            state["velocity"] = _zeros(p)
        m, v = state["momentum"], state["velocity"]
        m.lerp_(g, 1.0 - beta_1)
        v.lerp_(g * g, 1.0 - beta_2)
        alpha = group["lr"] * group["adam_lr_ratio"] * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        p.sub_(m * alpha / (v.sqrt() + group["eps"]))

    @staticmethod
    def _muon(group, p, g, state):
        m = state["momentum"]
        m.mul_(group["momentum"]).add_(g)
        direction = g + group["momentum"] * m if group["nesterov"] else m
        update = _newton_schulz(direction, group["ns_steps"], *group["muon_coefficients"])
        scale = group["lr"]
        if group["rms_rate"] is not None:
            scale = scale * math.sqrt(max(p.shape[0], p.shape[1])) * group["rms_rate"]
        p.sub_(update * scale)
