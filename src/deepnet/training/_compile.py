"""What ``compile`` resolves besides the loop: the device, per-output arguments, the optional
``torch.compile`` of the train step and the float16 loss-scaler shim."""

from __future__ import annotations

import warnings

import torch

__all__ = ["ScalerShim", "compiled_step", "default_device", "output_names", "per_output"]


def default_device() -> torch.device:
    """CUDA if available, else Apple MPS, else CPU.

    >>> default_device().type in ("cpu", "cuda", "mps")
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device) -> torch.device:
    """``compile(device=...)`` as a ``torch.device`` (the default device for ``None``)."""
    if device is None:
        return default_device()
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(
            f"Received an invalid value for `device` of compile, expected 'cpu', 'cuda', 'cuda:<index>', 'mps' or a "
            f"torch.device. Received: device={device!r}"
        ) from e


def output_names(model) -> list[str]:
    """The names of the model's outputs (``["output"]`` for a single unnamed one)."""
    outputs = getattr(model, "_output_struct", None) if getattr(model, "_functional", False) else None
    if isinstance(outputs, dict):
        return list(outputs)
    if isinstance(outputs, (list, tuple)):
        return [t.node.layer.name for t in outputs]
    return ["output"]


def per_output(spec, names: list[str], what: str, default=None) -> list:
    """Broadcast a compile argument (single / list / dict) to one entry per output.

    >>> per_output({"b": 2.0}, ["a", "b"], "loss_weights", 1.0)
    [1.0, 2.0]
    """
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"`{what}` has keys {unknown} that are not outputs of the model; outputs are {names}.")
        return [spec.get(k, default) for k in names]
    if isinstance(spec, (list, tuple)) and n > 1 and len(spec) == n and what != "metrics":
        return list(spec)
    if isinstance(spec, (list, tuple)) and what == "metrics" and n > 1 and len(spec) == n and all(
        isinstance(s, (list, tuple)) or s is None for s in spec
    ):
        return list(spec)
    if isinstance(spec, (list, tuple)) and n > 1 and what != "metrics":
        raise ValueError(f"`{what}` is a list of {len(spec)} entries but the model has {n} outputs ({names}).")
    if isinstance(spec, (list, tuple)) and what == "loss_weights":  # one output
        if len(spec) != 1:
            raise ValueError(f"`loss_weights` is a list of {len(spec)} entries but the model has 1 output ({names}).")
        return list(spec)
    return [spec] * n


def compiled_step(forward_loss):
    """``forward_loss`` under ``torch.compile``, falling back to eager execution (with a
    warning) where compilation is unavailable or fails on the first call."""
    try:
        compiled = torch.compile(forward_loss, dynamic=False)
    except Exception as e:  # torch.compile unavailable on this platform
        warnings.warn(f"jit_compile=True: torch.compile is unavailable ({e}); running eagerly.", stacklevel=3)
        return forward_loss
    state = {"ok": None}

    def step(x, y, sw):
        if state["ok"] is False:
            return forward_loss(x, y, sw)
        try:
            out = compiled(x, y, sw)
            state["ok"] = True
            return out
        except Exception as e:
            if state["ok"]:
                raise
            warnings.warn(
                f"jit_compile=True: torch.compile could not compile the train step "
                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); falling back to eager execution.",
                stacklevel=3,
            )
            state["ok"] = False
            return forward_loss(x, y, sw)

    return step


class ScalerShim:
    """What ``torch.amp.GradScaler.step`` needs from an optimizer, routed to ours."""

    def __init__(self, optimizer):
        self._optimizer = optimizer

    @property
    def param_groups(self):
        return self._optimizer.torch_optimizer.param_groups

    def step(self, *args, **kwargs):
        self._optimizer.step()
