"""The memory planner's trace: one forward pass at batch size 1 records every layer call (its
input and output tensors, by storage) and the FLOPs counted inside it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from ..layers import Layer
from ..layers.base import is_shape
from ..models import Model
from ..utils import nest

__all__ = ["Trace", "model_input_specs", "trace"]

_aten = torch.ops.aten


# FlopCounterMode counts matrix products, convolutions and attention kernels (a multiply-add is 2
# FLOPs). Three formulas are added: the bias of addmm and of convolutions (1 FLOP per output, as
# the per-layer rules count element-wise work), and the CPU flash-attention kernel, which the
# counter does not know.
def _addmm_flops(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    return 2 * a_shape[0] * a_shape[1] * b_shape[1] + a_shape[0] * b_shape[1]


def _conv_flops(x_shape, w_shape, bias, stride, padding, dilation, transposed, *args, out_shape=None,
                **kwargs) -> int:
    flops = flop_counter.conv_flop_count(x_shape, w_shape, out_shape, transposed)
    return flops + (math.prod(out_shape) if bias is not None else 0)


def _sdpa_flops(q_shape, k_shape, v_shape, *args, out_shape=None, **kwargs) -> int:
    b, h, s_q, d_q = q_shape
    s_k, d_v = k_shape[-2], v_shape[-1]
    return 2 * b * h * s_q * s_k * d_q + 2 * b * h * s_q * s_k * d_v


_FLOP_FORMULAS = {_aten.addmm: _addmm_flops, _aten.convolution: _conv_flops}
if hasattr(_aten, "_scaled_dot_product_flash_attention_for_cpu"):
    _FLOP_FORMULAS[_aten._scaled_dot_product_flash_attention_for_cpu] = _sdpa_flops


@dataclass
class _TTensor:
    """A traced tensor: per-sample shape/dtype; ``storage`` groups views of one buffer."""

    key: int
    shape: tuple
    dtype: torch.dtype
    storage: int
    producer: int | None = None  # op index
    consumers: list = field(default_factory=list)
    model_input: bool = False
    model_output: bool = False


@dataclass
class _Call:
    module: nn.Module
    inputs: list  # tensor keys
    outputs: list
    kwargs: dict
    flops: float = 0.0  # matmul/convolution/attention FLOPs counted by FlopCounterMode (batch 1)


@dataclass
class Trace:
    tensors: dict
    calls: list
    inputs: list
    outputs: list


def _leaf_modules(model: nn.Module) -> list[nn.Module]:
    """The modules whose calls become ops: outermost non-model layers (a layer's own sublayers are
    part of it) and plain torch modules held directly by a model."""
    leaves: list[nn.Module] = []

    def visit(mod: nn.Module) -> None:
        for child in mod.children():
            if isinstance(child, Model):
                visit(child)
            elif isinstance(child, Layer) or isinstance(mod, Model):
                leaves.append(child)
            else:  # a container (ModuleList/Sequential of torch) inside a model
                visit(child)

    visit(model)
    return leaves


def _check_against_inputs(model, inputs, specs, input_shape) -> None:
    """An ``input_shape`` given for a model with Inputs must agree with their known dimensions
    (a clear ValueError instead of torch's "mat1 and mat2 shapes cannot be multiplied")."""
    if not inputs:
        return
    expected = [tuple(t.shape[1:]) for t in inputs]
    if len(expected) != len(specs) or any(
            len(e) != len(s) or any(d is not None and d != g for d, g in zip(e, s))
            for e, (s, _) in zip(expected, specs)):
        shown = expected[0] if len(expected) == 1 else expected
        raise ValueError(
            f"Received an invalid value for `input_shape`: model {model.name!r} expects per-sample input "
            f"shape {shown} (None: any size). Received: input_shape={input_shape!r}. help: leave input_shape "
            "out to use the model's own, or give only the dimensions it leaves unknown."
        )


def model_input_specs(model, input_shape) -> list[tuple[tuple, torch.dtype]]:
    """(per-sample shape, dtype) of every model input."""
    inputs = list(getattr(model, "inputs", None) or [])
    specs: list[tuple[tuple, torch.dtype]] = []
    if input_shape is not None:
        shapes = [input_shape] if is_shape(tuple(input_shape)) else list(input_shape)
        dtypes = [t.dtype for t in inputs] if len(inputs) == len(shapes) else [model.dtype] * len(shapes)
        for s, dt in zip(shapes, dtypes):
            s = tuple(s)
            if not is_shape(s) or any(d is None or int(d) <= 0 for d in s):
                raise ValueError(
                    f"Received an invalid value for `input_shape`: expected the per-sample shape (no batch axis) "
                    f"with every dimension known, e.g. input_shape=(28, 28, 1). Received: input_shape={input_shape!r}"
                )
            specs.append((tuple(int(d) for d in s), dt))
        _check_against_inputs(model, inputs, specs, input_shape)
        return specs
    if inputs:
        for t in inputs:
            shape = tuple(t.shape[1:])
            if any(d is None for d in shape):
                raise ValueError(
                    f"Model {model.name!r} has an input of shape {tuple(t.shape)} with unknown dimensions. "
                    "help: pass input_shape=... (the per-sample shape, e.g. input_shape=(100, 16) for 100 steps)."
                )
            specs.append((shape, t.dtype))
        return specs
    build_args = getattr(model, "_build_args", None)
    if build_args and is_shape(tuple(build_args[0] or ())) and all(d is not None for d in build_args[0][1:]):
        return [(tuple(int(d) for d in build_args[0][1:]), model.dtype)]
    raise ValueError(
        f"The input shape of model {model.name!r} is unknown. help: pass input_shape=(...) (per sample, "
        "without the batch axis), or build the model with deepnet.Input(shape=...)."
    )


def _dummy(shape: tuple, dtype: torch.dtype, device) -> torch.Tensor:
    return torch.ones((1, *shape), dtype=dtype, device=device)  # ones: valid token ids too


def trace(model, specs) -> Trace:
    """Run ``model`` once at batch size 1 (eval mode, no grad) recording every leaf call and the
    FLOPs that :class:`~torch.utils.flop_counter.FlopCounterMode` counts inside it."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    tensors: dict[int, _TTensor] = {}
    ids: dict[int, int] = {}
    keep: list = []  # keeps traced tensors alive so that ids stay unique
    calls: list[_Call] = []

    def register(t: torch.Tensor) -> int:
        key = ids.get(id(t))
        if key is None:
            key = len(tensors)
            ids[id(t)] = key
            keep.append(t)
            tensors[key] = _TTensor(key, tuple(t.shape[1:]), t.dtype, t.untyped_storage().data_ptr())
        return key

    dummies = [_dummy(s, dt, device) for s, dt in specs]
    input_keys = [register(t) for t in dummies]
    for k in input_keys:
        tensors[k].model_input = True

    counter = FlopCounterMode(display=False, custom_mapping=_FLOP_FORMULAS)
    started: list[float] = []

    def pre_hook(mod, args, kwargs):
        started.append(counter.get_total_flops())

    def hook(mod, args, kwargs, out):
        ins = [register(t) for t in nest.flatten((args, kwargs)) if isinstance(t, torch.Tensor)]
        outs = [register(t) for t in nest.flatten(out) if isinstance(t, torch.Tensor)]
        plain_kwargs = {k: v for k, v in kwargs.items() if not isinstance(v, torch.Tensor)}
        flops = float(counter.get_total_flops() - started.pop()) if started else 0.0
        calls.append(_Call(mod, list(dict.fromkeys(ins)), list(dict.fromkeys(outs)), plain_kwargs, flops))

    handles = []
    for m in _leaf_modules(model):
        handles.append(m.register_forward_pre_hook(pre_hook, with_kwargs=True))
        handles.append(m.register_forward_hook(hook, with_kwargs=True))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), counter:
            arg = dummies[0] if len(dummies) == 1 else dummies
            out = model(arg)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    output_keys = [register(t) for t in nest.flatten(out) if isinstance(t, torch.Tensor)]
    for k in output_keys:
        tensors[k].model_output = True
    return Trace(tensors, calls, input_keys, output_keys)
