"""Memory planner: how much memory a training step (and inference) needs, before running it.

``memory(model, batch_size)`` predicts, for one training step of ``model`` at ``batch_size``:

* **parameters** (weights and buffers), **gradients** (one per trainable weight) and
  **optimizer state** (found by building a throw-away copy of the optimizer on a probe tensor and
  counting what it keeps: Adam 2 slots per weight + a step counter, SGD with momentum 1, ...);
* **activations** saved for the backward pass: the model is traced once at batch size 1 (in
  inference mode, no gradients, so nothing is trained or changed) to get every layer's real
  input and output tensors, then each layer type has a rule for what autograd keeps (Dense keeps
  its input, ReLU its output, BatchNormalization its input and statistics, Dropout its mask,
  max-pooling its input and int64 indices, LSTM its fused-kernel workspace, attention its
  projections and softmax statistics, ...). Layers without a rule (custom layers,
  ``TorchModuleWrapper``) are measured by running a copy of the layer under
  ``torch.autograd.graph.saved_tensors_hooks``;
* the **training peak**: a replay of the step (forward pass, loss, backward pass in reverse
  layer order with gradients appearing as activations are released, optimizer step) that keeps
  track of which tensors are alive at each moment;
* the **inference peak** (forward pass under ``torch.no_grad``) and the forward **FLOPs** per
  sample (multiply-adds count 2).

Everything scales with the batch size, so :func:`max_batch_size` finds the largest batch that
fits a memory budget by replaying the step for candidate sizes (no tensor is allocated).

The rules were checked against measured peaks (see ``docs/diagnose.md``). They describe what
PyTorch's kernels keep, so custom CUDA kernels, ``torch.compile`` fusion or allocator caching
(PyTorch's CUDA allocator rounds and caches blocks: ``torch.cuda.memory_reserved`` is larger
than the allocated bytes predicted here) can move the real number.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from ._result import DiagnosisResult, new_figure

__all__ = ["MaxBatchSize", "MemoryPlan", "max_batch_size", "memory", "parse_bytes"]

#: batch sizes of the growth table
GROWTH_BATCH_SIZES = (1, 8, 32, 128, 512)
_PRECISIONS = ("float32", "float64", "mixed_bfloat16", "mixed_float16")
_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}


# ----------------------------------------------------------------------------- sizes


def parse_bytes(value, argument: str = "memory_budget") -> int:
    """Bytes from an int/float or a string such as ``"4GB"``, ``"4 GiB"``, ``"512MiB"``, ``"1.5e9"``.

    Decimal units are powers of 1000 (``GB`` = 10**9) and binary units powers of 1024
    (``GiB`` = 2**30); ``K``/``M``/``G`` alone mean the decimal units."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if math.isfinite(v) and v > 0:
            return int(v)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        if m and m.group(2).lower() in _UNITS:
            v = float(m.group(1)) * _UNITS[m.group(2).lower()]
            if math.isfinite(v) and v > 0:
                return int(v)
    raise ValueError(
        f"Received an invalid value for `{argument}`, expected a positive number of bytes or a string "
        f"such as '4GB', '16GiB' or '512MiB'. Received: {argument}={value!r}"
    )


def readable(num_bytes: float) -> str:
    """``1536`` -> ``'1.50 KiB'`` (powers of 1024)."""
    v = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            return f"{v:.0f} B" if unit == "B" else f"{v:.2f} {unit}"
        v /= 1024
    return f"{v:.2f} TiB"  # pragma: no cover


def _plot_unit(max_bytes: float) -> tuple[float, str]:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if max_bytes >= 2 * scale:
            return float(scale), unit
    return 1.0, "B"


def readable_flops(flops: float) -> str:
    v = float(flops)
    for unit in ("", "K", "M", "G", "T", "P"):
        if abs(v) < 1000 or unit == "P":
            return f"{v:.0f} FLOPs" if unit == "" else f"{v:.2f} {unit}FLOPs"
        v /= 1000
    return f"{v:.2f} PFLOPs"  # pragma: no cover


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


# ----------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    precision: str
    mixed: bool
    cbytes: int  # bytes of a floating activation in the compute dtype
    device: str  # "cpu" or "cuda"/other
    training: bool = True


def _resolve_precision(precision) -> str:
    if precision is None:
        from .. import mixed_precision

        return mixed_precision.global_policy().name
    name = getattr(precision, "name", precision)
    if name not in _PRECISIONS:
        raise ValueError(
            f"Received an invalid value for `precision`, expected one of {', '.join(map(repr, _PRECISIONS))}. "
            f"Received: precision={precision!r}"
        )
    return name


# ----------------------------------------------------------------------------- trace


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


@dataclass
class _Trace:
    tensors: dict
    calls: list
    inputs: list
    outputs: list


def _leaf_modules(model: nn.Module) -> list[nn.Module]:
    """The modules whose calls become ops: outermost non-model layers (a layer's own sublayers are
    part of it) and plain torch modules held directly by a model."""
    from ..layers.base import Layer
    from ..models.model import Model

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


def _model_input_specs(model, input_shape) -> list[tuple[tuple, torch.dtype]]:
    """(per-sample shape, dtype) of every model input."""
    from ..layers.base import is_shape

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


def _trace(model, specs) -> _Trace:
    """Run ``model`` once at batch size 1 (eval mode, no grad) recording every leaf call."""
    from ..utils import nest

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

    def hook(mod, args, kwargs, out):
        ins = [register(t) for t in nest.flatten((args, kwargs)) if isinstance(t, torch.Tensor)]
        outs = [register(t) for t in nest.flatten(out) if isinstance(t, torch.Tensor)]
        plain_kwargs = {k: v for k, v in kwargs.items() if not isinstance(v, torch.Tensor)}
        calls.append(_Call(mod, list(dict.fromkeys(ins)), list(dict.fromkeys(outs)), plain_kwargs))

    handles = [m.register_forward_hook(hook, with_kwargs=True) for m in _leaf_modules(model)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            arg = dummies[0] if len(dummies) == 1 else dummies
            out = model(arg)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    output_keys = [register(t) for t in nest.flatten(out) if isinstance(t, torch.Tensor)]
    for k in output_keys:
        tensors[k].model_output = True
    return _Trace(tensors, calls, input_keys, output_keys)


# ----------------------------------------------------------------------------- layer rules


@dataclass
class _IO:
    layer: nn.Module
    in_shapes: list
    out_shapes: list
    in_items: list  # bytes per element of each input (after mixed-precision propagation)
    in_rg: list  # whether each input requires grad
    in_float: list
    trainable: bool  # has weights that receive gradients
    kwargs: dict
    ctx: _Ctx

    @property
    def in_numel(self) -> list:
        return [_numel(s) for s in self.in_shapes]

    @property
    def out_numel(self) -> list:
        return [_numel(s) for s in self.out_shapes]


@dataclass
class _Spec:
    """What one layer call allocates and keeps (bytes per sample unless said otherwise)."""

    save_in: list | None = None  # per input: kept for backward
    save_out: list | None = None  # per output: kept for backward
    inter: list = field(default_factory=list)  # [(bytes per sample, saved in training)]
    inter_fixed: float = 0.0  # batch-independent saved bytes (e.g. half-precision weight copies)
    alias: list | None = None  # per output: index of the input it is a view of, or None
    out_kind: str = "same"  # "same", "compute", "float32" (dtype of float outputs under mixed precision)
    flops: float = 0.0  # forward FLOPs per sample
    bwd_temp: float = 0.0  # transient bytes per sample during the backward of this layer
    note: str = ""


_RULES: dict[str, Any] = {}


def _rule(*names):
    def deco(fn):
        for n in names:
            _RULES[n] = fn
        return fn

    return deco


# activations whose backward needs the output ("out"), the input ("in") or nothing ("none")
_ACT_SAVES = {
    "linear": "none", "relu": "out", "sigmoid": "out", "tanh": "out", "softmax": "out",
    "log_softmax": "out", "exponential": "out", "elu": "out", "selu": "out",
}


def _act_kind(fn) -> str:
    if fn is None:
        return "none"
    from .. import activations

    try:
        name = activations.serialize(fn)
    except Exception:  # an arbitrary callable
        name = getattr(fn, "__name__", "")
    return _ACT_SAVES.get(name, "in")


def _with_activation(spec: _Spec, io: _IO, fn, pre_bytes: float) -> _Spec:
    """Add the effect of a fused activation applied to a pre-activation of ``pre_bytes``."""
    kind = _act_kind(fn)
    if kind == "none":
        return spec
    if kind == "out":
        spec.save_out = [True] * len(io.out_shapes)
        spec.inter.append((pre_bytes, False))
    else:
        spec.inter.append((pre_bytes, True))
    spec.flops += 4 * io.out_numel[0]
    return spec


def _activation_bwd_temp(spec: _Spec, io: _IO) -> None:
    """Backward of ``act(x @ W)``: first grad_out and the pre-activation gradient are alive, then
    the pre-activation gradient and grad_in (the replay already counts grad_out + grad_in)."""
    if spec.inter:  # a fused activation
        z = io.out_numel[0] * io.ctx.cbytes
        spec.bwd_temp = max(0.0, z - io.in_numel[0] * io.in_items[0])


def _matmul_input(io: _IO, spec: _Spec, index: int = 0) -> None:
    """A matmul-like op keeps its input for the weight gradient; under mixed precision it keeps
    the half-precision copy autocast makes instead."""
    if not io.trainable:
        spec.save_in = spec.save_in or [False] * len(io.in_shapes)
        return
    if io.ctx.mixed and io.in_float[index] and io.in_items[index] > io.ctx.cbytes:
        spec.inter.append((io.in_numel[index] * io.ctx.cbytes, True))
    else:
        spec.save_in = spec.save_in or [False] * len(io.in_shapes)
        spec.save_in[index] = True


def _weight_copies(io: _IO, spec: _Spec) -> None:
    """Autocast keeps a half-precision copy of each weight a matmul uses (until backward)."""
    if io.ctx.mixed:
        n = sum(p.numel() for p in io.layer.parameters() if p.is_floating_point())
        spec.inter_fixed += n * io.ctx.cbytes


@_rule("Dense", "EinsumDense")
def _dense(io: _IO) -> _Spec:
    layer = io.layer
    cin = io.in_shapes[0][-1] if io.in_shapes[0] else 1
    out = io.out_numel[0]
    spec = _Spec(out_kind="compute", flops=2.0 * cin * out + (out if getattr(layer, "bias", None) is not None else 0))
    _matmul_input(io, spec)
    _weight_copies(io, spec)
    _with_activation(spec, io, getattr(layer, "_act", None), out * io.ctx.cbytes)
    _activation_bwd_temp(spec, io)
    return spec


def _conv_geometry(layer, io: _IO):
    channels_last = getattr(layer, "data_format", "channels_last") != "channels_first"
    ins, outs = io.in_shapes[0], io.out_shapes[0]
    cin = ins[-1] if channels_last else ins[0]
    cout = outs[-1] if channels_last else outs[0]
    in_sp = ins[:-1] if channels_last else ins[1:]
    out_sp = outs[:-1] if channels_last else outs[1:]
    return cin, cout, _numel(in_sp), _numel(out_sp)


@_rule("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
       "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
def _conv(io: _IO) -> _Spec:
    layer = io.layer
    name = type(layer).__name__
    cin, cout, in_sp, out_sp = _conv_geometry(layer, io)
    k = _numel(getattr(layer, "kernel_size", (1,)))
    spec = _Spec(out_kind="compute")
    if "Transpose" in name:
        spec.flops = 2.0 * k * cin * cout * in_sp
    elif name.startswith("Depthwise"):
        spec.flops = 2.0 * k * cout * out_sp
    elif name.startswith("Separable"):
        mid = cin * getattr(layer, "depth_multiplier", 1)
        spec.flops = 2.0 * k * mid * out_sp + 2.0 * mid * cout * out_sp
        # the depthwise result is the pointwise product's input: kept for its weight gradient
        spec.inter.append((mid * out_sp * io.ctx.cbytes, io.trainable))
    else:
        spec.flops = 2.0 * k * cin * cout * out_sp / max(1, getattr(layer, "groups", 1))
    if getattr(layer, "bias", None) is not None:
        spec.flops += io.out_numel[0]
    _matmul_input(io, spec)
    _weight_copies(io, spec)
    _with_activation(spec, io, getattr(layer, "_act", getattr(layer, "activation", None)),
                     io.out_numel[0] * io.ctx.cbytes)
    _activation_bwd_temp(spec, io)
    return spec


@_rule("Activation")
def _activation(io: _IO) -> _Spec:
    kind = _act_kind(io.layer.activation)
    if kind == "none":
        return _Spec(alias=[0])
    spec = _Spec(flops=4.0 * io.in_numel[0], out_kind="float32" if _act_name(io.layer.activation) in ("softmax", "log_softmax") else "same")
    if kind == "out":
        spec.save_out = [True]
    else:
        spec.save_in = [True]
    return spec


def _act_name(fn) -> str:
    from .. import activations

    try:
        return activations.serialize(fn)
    except Exception:
        return getattr(fn, "__name__", "")


@_rule("ReLU", "Softmax", "LeakyReLU", "ELU", "PReLU")
def _act_layer(io: _IO) -> _Spec:
    name = type(io.layer).__name__
    spec = _Spec(flops=4.0 * io.in_numel[0], out_kind="float32" if name == "Softmax" else "same")
    if name in ("ReLU", "Softmax", "ELU"):
        spec.save_out = [True]
    else:
        spec.save_in = [True]
    return spec


@_rule("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout", "AlphaDropout")
def _dropout(io: _IO) -> _Spec:
    layer = io.layer
    rate = float(getattr(layer, "rate", 0.0) or 0.0)
    if not io.ctx.training or rate == 0.0:
        return _Spec(alias=[0])
    n = io.in_numel[0]
    name = type(layer).__name__
    if name.startswith("Spatial"):
        shape = io.in_shapes[0]
        mask = shape[-1] if getattr(layer, "data_format", "channels_last") != "channels_first" else shape[0]
        mask_bytes = mask * io.in_items[0]
    elif name == "GaussianDropout" or getattr(layer, "noise_shape", None) is not None or getattr(layer, "seed", None) is not None:
        mask_bytes = n * io.in_items[0]  # a float mask / noise tensor multiplies the input
    else:
        # F.dropout: a float mask on CPU, a bool mask on CUDA
        mask_bytes = n * (io.in_items[0] if io.ctx.device == "cpu" else 1)
    return _Spec(inter=[(mask_bytes, io.in_rg[0])], flops=2.0 * n)


@_rule("GaussianNoise")
def _noise(io: _IO) -> _Spec:
    if not io.ctx.training or not getattr(io.layer, "stddev", 0.0):
        return _Spec(alias=[0])
    return _Spec(inter=[(io.in_numel[0] * io.in_items[0], False)], flops=2.0 * io.in_numel[0])


@_rule("Flatten", "Reshape", "Permute", "Cropping1D", "Cropping2D", "Cropping3D", "InputLayer", "Identity",
       "RepeatVector")
def _view(io: _IO) -> _Spec:
    return _Spec(alias=[0] * len(io.out_shapes))


@_rule("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
       "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation",
       "RandomZoom", "RandomTranslation", "RandomCrop", "RandomContrast", "RandomBrightness")
def _copying(io: _IO) -> _Spec:
    # a new output, nothing kept (these layers sit on the inputs, where nothing needs a gradient,
    # and their backward needs only shapes when something does)
    return _Spec(flops=float(io.out_numel[0]))


@_rule("BatchNormalization")
def _batchnorm(io: _IO) -> _Spec:
    layer = io.layer
    shape = io.in_shapes[0]
    axis = getattr(layer, "axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) else axis
    channels = shape[axis - 1] if axis > 0 else shape[axis]
    spec = _Spec(flops=5.0 * io.in_numel[0], out_kind="same")
    if io.trainable or any(io.in_rg):
        spec.save_in = [True]
    spec.inter_fixed += 2 * channels * 4  # batch mean and inverse std
    return spec


def _rows(io: _IO, layer) -> int:
    shape = io.in_shapes[0]
    axes = getattr(layer, "_axes", None) or getattr(layer, "axis", -1)
    axes = [axes] if isinstance(axes, int) else list(axes)
    size = 1
    for a in axes:
        a = a - 1 if a > 0 else a  # layer axes count the batch axis
        size *= shape[a]
    return max(1, io.in_numel[0] // max(1, size))


@_rule("LayerNormalization", "RMSNormalization")
def _layernorm(io: _IO) -> _Spec:
    layer = io.layer
    rows = _rows(io, layer)
    rms = type(layer).__name__ == "RMSNormalization"
    spec = _Spec(save_in=[True], flops=6.0 * io.in_numel[0], out_kind="float32")
    spec.inter.append(((1 if rms else 2) * rows * 4, True))
    if rms or getattr(layer, "_fused", True) is False:  # composite ops keep a normalised copy too
        spec.inter.append((io.in_numel[0] * 4, True))
    return spec


@_rule("GroupNormalization")
def _groupnorm(io: _IO) -> _Spec:
    groups = int(getattr(io.layer, "groups", 1) or 1)
    spec = _Spec(save_in=[True], flops=6.0 * io.in_numel[0], out_kind="float32")
    spec.inter.append((2 * groups * 4, True))
    return spec


@_rule("UnitNormalization")
def _unitnorm(io: _IO) -> _Spec:
    rows = _rows(io, io.layer)
    return _Spec(save_in=[True], inter=[(rows * 4, True)], flops=4.0 * io.in_numel[0], out_kind="float32")


@_rule("MaxPooling1D", "MaxPooling2D", "MaxPooling3D")
def _maxpool(io: _IO) -> _Spec:
    # max_pool keeps its input and the int64 argmax indices
    k = _numel(getattr(io.layer, "pool_size", (1,)))
    return _Spec(save_in=[True], inter=[(io.out_numel[0] * 8, True)], flops=float(k * io.out_numel[0]))


@_rule("AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
def _avgpool(io: _IO) -> _Spec:
    k = _numel(getattr(io.layer, "pool_size", (1,)))
    return _Spec(save_in=[True], flops=float(k * io.out_numel[0]))


@_rule("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D")
def _gap(io: _IO) -> _Spec:
    return _Spec(flops=float(io.in_numel[0]))


@_rule("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
def _gmp(io: _IO) -> _Spec:
    return _Spec(save_in=[True], save_out=[True], flops=float(io.in_numel[0]))


@_rule("Embedding")
def _embedding(io: _IO) -> _Spec:
    n = io.in_numel[0]
    spec = _Spec(out_kind="float32")
    if io.trainable:
        if io.in_items[0] == 8 and not io.in_float[0]:
            spec.save_in = [True]
        else:
            spec.inter.append((n * 8, True))  # the int64 copy of the indices
    return spec


@_rule("Add", "Subtract", "Average", "Concatenate")
def _merge_free(io: _IO) -> _Spec:
    return _Spec(flops=float(sum(io.in_numel)))


@_rule("Multiply", "Maximum", "Minimum", "Dot")
def _merge_saving(io: _IO) -> _Spec:
    spec = _Spec(save_in=[True] * len(io.in_shapes), flops=float(sum(io.in_numel)))
    if type(io.layer).__name__ == "Dot":
        a = io.in_shapes[0]
        spec.flops = 2.0 * _numel(a) * (io.out_numel[0] / max(1, _numel(a[:-1]) if len(a) > 1 else 1))
    return spec


def _explicit_attention(io: _IO, dropout: float) -> bool:
    if io.kwargs.get("return_attention_scores"):
        return True
    if not (io.ctx.training and dropout > 0):
        return False
    # the fused CPU kernel has no dropout (PyTorch falls back to the math path); seeded dropout is explicit
    return io.ctx.device == "cpu" or getattr(io.layer, "seed", None) is not None


@_rule("MultiHeadAttention", "GroupedQueryAttention")
def _mha(io: _IO) -> _Spec:
    layer = io.layer
    c = io.ctx.cbytes
    heads = int(getattr(layer, "num_heads", 1))
    kd = int(getattr(layer, "key_dim", 1))
    vd = int(getattr(layer, "value_dim", None) or kd)
    q_shape = io.in_shapes[0]
    v_shape = io.in_shapes[1] if len(io.in_shapes) > 1 else q_shape
    dq, dv = q_shape[-1], v_shape[-1]
    t = max(1, _numel(q_shape) // dq)
    s = max(1, _numel(v_shape) // dv)
    dout = io.out_numel[0] // t if io.out_numel else dq
    q, k, v, merged = t * heads * kd * c, s * heads * kd * c, s * heads * vd * c, t * heads * vd * c
    dropout = float(getattr(layer, "dropout", 0.0) or 0.0)
    spec = _Spec(out_kind="compute")
    spec.flops = 2.0 * (t * dq * heads * kd + s * dv * heads * kd + s * dv * heads * vd
                        + t * s * heads * kd + t * s * heads * vd + t * heads * vd * dout)
    for i in range(len(io.in_shapes)):
        _matmul_input(io, spec, i)
    _weight_copies(io, spec)
    need = io.trainable or any(io.in_rg)
    spec.inter += [(q, need), (k, need), (v, need), (merged, need)]
    if _explicit_attention(io, dropout):
        scores = heads * t * s * c
        n_scores = 3 if (io.ctx.training and dropout > 0) else 1
        spec.inter += [(scores, need)] * n_scores + [(scores, False)]
        spec.bwd_temp = 2 * scores + q + k + v
    else:
        spec.inter += [(heads * t * 4, need), (t * heads * vd * c, False)]  # log-sum-exp; the heads' output
        spec.bwd_temp = q + k + v + merged
    return spec


@_rule("Attention", "AdditiveAttention")
def _attention(io: _IO) -> _Spec:
    layer = io.layer
    c = io.ctx.cbytes
    q_shape = io.in_shapes[0]
    v_shape = io.in_shapes[1] if len(io.in_shapes) > 1 else q_shape
    d = q_shape[-1]
    t = max(1, _numel(q_shape) // d)
    s = max(1, _numel(v_shape) // v_shape[-1])
    dropout = float(getattr(layer, "dropout", 0.0) or 0.0)
    need = any(io.in_rg)
    spec = _Spec(save_in=[need] * len(io.in_shapes), out_kind="compute")
    spec.flops = 2.0 * t * s * d + 2.0 * t * s * v_shape[-1]
    n_scores = 3 if (io.ctx.training and dropout > 0) else 1  # probabilities, dropout mask, dropped
    if type(layer).__name__ == "AdditiveAttention" or getattr(layer, "score_mode", "dot") == "concat":
        # tanh(q + k) over (T, S, dim) is materialised and kept
        spec.inter += [(t * s * d * c, need), (t * s * d * c, False)]
        spec.flops += 3.0 * t * s * d
    else:
        # (batch, T, dim) inputs take PyTorch's math path: a scaled copy of the query, a contiguous
        # transposed key and the attention probabilities are kept
        spec.inter += [(t * d * c, need), (s * d * c, need)]
    spec.inter += [(t * s * c, need)] * n_scores
    spec.bwd_temp = 2 * t * s * c
    return spec


def _rnn_saved(layer, t: int, i: int, u: int, c: int, device: str) -> float:
    """Bytes per sample a recurrent layer keeps for backward (fused kernels, one direction).

    Calibrated against ``saved_tensors_hooks`` on PyTorch's CPU kernels: LSTM (oneDNN) keeps a
    workspace of 8*T*U + 7*(T+1)*max(I, U) + 3*U floats plus its input, output sequence and
    states; GRU keeps 7 values per unit and step plus its input; SimpleRNN one per unit and step."""
    kind = type(layer).__name__
    if kind == "LSTM":
        if getattr(layer, "_vf", True) is None:  # step loop: gates, cell states and activations per step
            return c * t * (12 * u + i)
        width = max(i, u)
        ws = 8 * t * u + 7 * (t + 1) * width + 3 * u
        return 4 * ws + c * (t * i + t * u + 3 * u)
    if kind == "GRU":
        per_step = 7 * u if getattr(layer, "reset_after", True) else 6 * u
        return c * (t * per_step + t * i)
    return c * (t * u + t * i + u)


@_rule("SimpleRNN", "LSTM", "GRU")
def _rnn(io: _IO) -> _Spec:
    layer = io.layer
    shape = io.in_shapes[0]
    t, i = (shape[0], shape[-1]) if len(shape) >= 2 else (1, shape[-1])
    u = int(layer.units)
    gates = {"LSTM": 4, "GRU": 3}.get(type(layer).__name__, 1)
    c = io.ctx.cbytes
    need = io.trainable or any(io.in_rg)
    spec = _Spec(out_kind="compute", flops=2.0 * gates * t * (i * u + u * u))
    spec.inter.append((_rnn_saved(layer, t, i, u, c, io.ctx.device), need))
    spec.inter.append((gates * u * c * 2, False))  # one step's gates
    _weight_copies(io, spec)
    spec.bwd_temp = c * t * (gates * u + i)
    return spec


@_rule("Bidirectional")
def _bidirectional(io: _IO) -> _Spec:
    layer = io.layer
    fwd = getattr(layer, "forward_layer", None)
    bwd = getattr(layer, "backward_layer", fwd)
    shape = io.in_shapes[0]
    t, i = (shape[0], shape[-1]) if len(shape) >= 2 else (1, shape[-1])
    c = io.ctx.cbytes
    need = io.trainable or any(io.in_rg)
    spec = _Spec(out_kind="compute")
    for sub in (fwd, bwd):
        if sub is None:
            continue
        u = int(sub.units)
        gates = {"LSTM": 4, "GRU": 3}.get(type(sub).__name__, 1)
        spec.flops += 2.0 * gates * t * (i * u + u * u)
        spec.inter.append((_rnn_saved(sub, t, i, u, c, io.ctx.device), need))
        spec.inter.append((t * u * c, False))  # each direction's output before merging
        spec.bwd_temp += c * t * (gates * u + i)
    _weight_copies(io, spec)
    return spec


def _torch_flops(module: nn.Module, inp, out) -> float:
    """FLOPs of one call of a plain torch module with a known formula (0 when unknown)."""
    x = inp[0] if inp and isinstance(inp[0], torch.Tensor) else None
    y = out[0] if isinstance(out, (tuple, list)) else out
    if x is None or not isinstance(y, torch.Tensor):
        return 0.0
    if isinstance(module, nn.Linear):
        return 2.0 * x.numel() * module.out_features + (y.numel() if module.bias is not None else 0)
    if isinstance(module, nn.modules.conv._ConvNd):
        k = _numel(module.kernel_size)
        if isinstance(module, nn.modules.conv._ConvTransposeNd):
            return 2.0 * x.numel() * module.out_channels * k / module.groups
        return 2.0 * y.numel() * module.in_channels * k / module.groups
    if isinstance(module, nn.RNNBase):
        gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
        steps = x.numel() / module.input_size
        dirs = 2 if module.bidirectional else 1
        h = module.hidden_size
        return 2.0 * gates * steps * dirs * (module.input_size * h + h * h) * module.num_layers
    return 0.0


def _probe(io: _IO) -> _Spec:
    """Measure what a layer without a rule keeps, on a copy of it (training mode, batch 1 and 2)."""
    layer = io.layer
    try:
        clone = copy.deepcopy(layer)
    except Exception as e:  # un-copyable modules: assume inputs and outputs are kept
        return _Spec(save_in=[True] * len(io.in_shapes), save_out=[True] * len(io.out_shapes),
                     note=f"not measured ({type(e).__name__}); assumed to keep inputs and outputs")
    clone.train(io.ctx.training)
    weights = {t.untyped_storage().data_ptr() for t in list(clone.parameters()) + list(clone.buffers())}
    device = next((p.device for p in clone.parameters()), torch.device("cpu"))
    results = []
    flops = 0.0
    try:
        for batch in (1, 2):
            args = []
            for shape, rg, is_float in zip(io.in_shapes, io.in_rg, io.in_float):
                if is_float:
                    args.append(torch.randn((batch, *shape), device=device).requires_grad_(rg))
                else:
                    args.append(torch.ones((batch, *shape), dtype=torch.long, device=device))
            saved: dict[int, int] = {}
            counted = [0.0]

            def pack(t, saved=saved):
                ptr = t.untyped_storage().data_ptr()
                if ptr not in weights:
                    saved[ptr] = t.untyped_storage().nbytes()
                return t

            def count(m, i, o, counted=counted):
                counted[0] += _torch_flops(m, i, o)

            handles = [m.register_forward_hook(count) for m in clone.modules()
                       if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd, nn.RNNBase))]
            try:
                with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                    out = clone(*args)
            finally:
                for h in handles:
                    h.remove()
            if batch == 1:
                flops = counted[0]
            outs = [o for o in (out if isinstance(out, (list, tuple)) else [out]) if isinstance(o, torch.Tensor)]
            in_ptr = [a.untyped_storage().data_ptr() for a in args]
            out_ptr = [o.untyped_storage().data_ptr() for o in outs]
            rest = sum(b for p, b in saved.items() if p not in in_ptr and p not in out_ptr)
            results.append(([p in saved for p in in_ptr], [p in saved for p in out_ptr], rest,
                            [in_ptr.index(p) if p in in_ptr else None for p in out_ptr]))
    except Exception as e:
        return _Spec(save_in=[True] * len(io.in_shapes), save_out=[True] * len(io.out_shapes),
                     note=f"not measured ({type(e).__name__}: {e}); assumed to keep inputs and outputs")
    (s_in, s_out, rest1, alias), (_, _, rest2, _) = results
    per_sample = max(0.0, float(rest2 - rest1))
    fixed = max(0.0, float(rest1) - per_sample)
    spec = _Spec(save_in=s_in, save_out=s_out[: len(io.out_shapes)], inter=[(per_sample, True)] if per_sample else [],
                 alias=alias[: len(io.out_shapes)] if len(alias) >= len(io.out_shapes) else None,
                 flops=flops, note="measured (no rule for this layer type)" + ("" if flops else "; FLOPs not counted"))
    spec.inter_fixed = fixed
    return spec


def _spec_for(io: _IO) -> _Spec:
    for cls in type(io.layer).__mro__:
        fn = _RULES.get(cls.__name__)
        if fn is not None:
            return fn(io)
    return _probe(io)


# ----------------------------------------------------------------------------- plan


@dataclass
class _Op:
    name: str
    type: str
    inputs: list  # storage ids
    outputs: list  # storage ids (new or aliased)
    new_outputs: list  # storage ids created by this op
    saved: list  # storage ids kept for backward (inputs/outputs)
    extra: float  # per-sample bytes of saved internal tensors
    extra_fixed: float
    temp: float  # per-sample transient bytes (training)
    temp_infer: float  # per-sample transient bytes (inference)
    bwd_temp: float
    grad_fixed: float  # bytes of the gradients of this op's trainable weights
    requires_grad: bool
    grad_inputs: list  # storage ids that receive a gradient
    flops: float
    params: int
    out_shape: tuple
    note: str = ""


@dataclass
class _Graph:
    ops: list
    storage_bytes: dict  # storage id -> bytes per sample
    inputs: list  # storage ids of the model inputs
    outputs: list  # storage ids of the model outputs
    last_use: dict  # storage id -> index of the last op reading it (forward)
    first_saver: dict  # storage id -> smallest op index that keeps it
    label_bytes: float


def _build_graph(model, specs, ctx: _Ctx) -> _Graph:
    from ..models.summary import layer_type_name

    trace = _trace(model, specs)
    tensors = trace.tensors
    storage_of: dict[int, int] = {}  # tensor key -> storage id
    storage_bytes: dict[int, float] = {}
    items: dict[int, int] = {}  # storage id -> bytes per element
    rg: dict[int, bool] = {}

    def new_storage(numel: int, item: int) -> int:
        sid = len(storage_bytes)
        storage_bytes[sid] = float(numel * item)
        items[sid] = item
        rg[sid] = False
        return sid

    for k in trace.inputs:
        t = tensors[k]
        storage_of[k] = new_storage(_numel(t.shape), t.dtype.itemsize)

    ops: list[_Op] = []
    for call in trace.calls:
        layer = call.module
        ins = []
        for k in call.inputs:
            if k not in storage_of:  # produced by code between layers (subclassed models)
                t = tensors[k]
                storage_of[k] = new_storage(_numel(t.shape), t.dtype.itemsize if not (ctx.mixed and t.dtype.is_floating_point) else ctx.cbytes)
            ins.append(k)
        params = list(layer.parameters())
        trainable = any(p.requires_grad for p in params)
        in_sids = [storage_of[k] for k in ins]
        io = _IO(
            layer=layer,
            in_shapes=[tensors[k].shape for k in ins],
            out_shapes=[tensors[k].shape for k in call.outputs],
            in_items=[items[s] for s in in_sids],
            in_rg=[rg[s] for s in in_sids],
            in_float=[tensors[k].dtype.is_floating_point for k in ins],
            trainable=trainable,
            kwargs=call.kwargs,
            ctx=ctx,
        )
        spec = _spec_for(io)
        requires_grad = trainable or any(io.in_rg)
        # dtype of float outputs
        float_in = [it for it, f in zip(io.in_items, io.in_float) if f]
        same = max(float_in) if float_in else 4
        if not ctx.mixed:
            out_item = None  # traced dtype
        elif spec.out_kind == "compute":
            out_item = ctx.cbytes
        elif spec.out_kind == "float32":
            out_item = 4
        else:
            out_item = same
        outs, new_outs, saved = [], [], []
        alias = spec.alias or [None] * len(call.outputs)
        for j, k in enumerate(call.outputs):
            t = tensors[k]
            a = alias[j] if j < len(alias) else None
            if a is not None and a < len(in_sids):  # a view of an input (or the input itself)
                sid = in_sids[a]
            elif a is not None and k in storage_of:
                sid = storage_of[k]
            else:  # a new tensor (even where the inference-mode trace returned its input unchanged)
                item = t.dtype.itemsize if (out_item is None or not t.dtype.is_floating_point) else out_item
                sid = new_storage(_numel(t.shape), item)
                new_outs.append(sid)
            storage_of[k] = sid
            rg[sid] = rg[sid] or (requires_grad and t.dtype.is_floating_point)
            outs.append(sid)
        if requires_grad and ctx.training:
            for flag, sid in zip(spec.save_in or [], in_sids):
                if flag:
                    saved.append(sid)
            for flag, sid in zip(spec.save_out or [], outs):
                if flag:
                    saved.append(sid)
        extra = sum(b for b, keep in spec.inter if keep) if (requires_grad and ctx.training) else 0.0
        temp = sum(b for b, keep in spec.inter if not keep) if (requires_grad and ctx.training) else sum(b for b, _ in spec.inter)
        grad_fixed = float(sum(p.numel() * p.element_size() for p in params if p.requires_grad))
        ops.append(_Op(
            name=getattr(layer, "name", type(layer).__name__), type=layer_type_name(layer) if hasattr(layer, "name") else type(layer).__name__,
            inputs=in_sids, outputs=outs, new_outputs=new_outs, saved=list(dict.fromkeys(saved)),
            extra=extra, extra_fixed=spec.inter_fixed if (requires_grad and ctx.training) else 0.0,
            temp=temp, temp_infer=sum(b for b, _ in spec.inter), bwd_temp=spec.bwd_temp,
            grad_fixed=grad_fixed, requires_grad=requires_grad,
            grad_inputs=[s for s, r in zip(in_sids, io.in_rg) if r], flops=float(spec.flops),
            params=sum(p.numel() for p in params) + sum(b.numel() for b in layer.buffers()),
            out_shape=tensors[call.outputs[0]].shape if call.outputs else (), note=spec.note,
        ))
    out_keys = [k for k in trace.outputs if k in storage_of]
    out_sids = [storage_of[k] for k in out_keys]
    # the loss: a float32 log-softmax / difference of the predictions is kept; labels are part of the batch
    label_bytes = 0.0
    for k in out_keys:
        shape = tensors[k].shape
        label_bytes += 8.0 if (len(shape) == 1 and shape[-1] > 1) else _numel(shape) * 4.0
    loss_keys = [k for k in out_keys if rg.get(storage_of[k])]
    loss_in = list(dict.fromkeys(storage_of[k] for k in loss_keys))
    pred_bytes = float(sum(_numel(tensors[k].shape) * 4 for k in loss_keys))
    ops.append(_Op(
        name="loss", type="loss", inputs=loss_in, outputs=[], new_outputs=[], saved=[],
        extra=pred_bytes if ctx.training else 0.0, extra_fixed=0.0, temp=pred_bytes, temp_infer=0.0,
        bwd_temp=pred_bytes, grad_fixed=0.0, requires_grad=bool(loss_in), grad_inputs=loss_in,
        flops=0.0, params=0, out_shape=(),
    ))
    last_use: dict[int, int] = {}
    first_saver: dict[int, int] = {}
    for i, op in enumerate(ops):
        for s in op.inputs + op.outputs:
            last_use[s] = i
        for s in op.saved:
            first_saver.setdefault(s, i)
    return _Graph(ops, storage_bytes, [storage_of[k] for k in trace.inputs], out_sids, last_use, first_saver,
                  label_bytes)


# ----------------------------------------------------------------------------- replay


@dataclass
class _Replay:
    peak: float  # dynamic peak (on top of weights and optimizer state)
    phase: str
    where: str
    activations: float  # saved at the end of the forward pass
    batch: float
    gradients: float
    timeline: list  # (phase, label, dynamic bytes)


def _replay(graph: _Graph, batch: int, training: bool, step_temp: float = 0.0) -> _Replay:
    """Replay one step at ``batch``: the dynamic memory (activations, batch, gradients,
    transients) after each event, and its maximum."""
    b = float(batch)
    size = {s: v * b for s, v in graph.storage_bytes.items()}
    pinned = set(graph.inputs) | set(graph.outputs)
    live: set = set(graph.inputs)
    batch_bytes = sum(size[s] for s in graph.inputs) + graph.label_bytes * b
    mem = batch_bytes
    peak, phase, where = mem, "forward", "input"
    timeline = []
    saved_all: set = set()
    extras: list[float] = []
    for i, op in enumerate(graph.ops):
        new = [s for s in op.new_outputs if s not in live]
        alloc = sum(size[s] for s in new)
        extra = (op.extra * b + op.extra_fixed) if training else 0.0
        temp = (op.temp if training else op.temp_infer) * b
        now = mem + alloc + extra + temp
        if now > peak:
            peak, phase, where = now, "forward", op.name
        live.update(new)
        mem += alloc + extra
        extras.append(extra)
        if training:
            saved_all.update(op.saved)
        for s in list(live):
            if s in pinned or graph.last_use.get(s, -1) > i:
                continue
            if training and s in saved_all:
                continue
            live.discard(s)
            mem -= size[s]
        timeline.append(("forward", op.name, now))
    activations = mem - batch_bytes
    if not training:
        return _Replay(peak, phase, where, 0.0, batch_bytes, 0.0, timeline)
    grads: set = set()
    grad_params = 0.0
    for i in range(len(graph.ops) - 1, -1, -1):
        op = graph.ops[i]
        if not op.requires_grad:
            continue
        alloc = 0.0
        for s in op.grad_inputs:
            if s not in grads:
                grads.add(s)
                alloc += size[s]
        now = mem + alloc + op.grad_fixed + op.bwd_temp * b
        if now > peak:
            peak, phase, where = now, "backward", op.name
        timeline.append(("backward", op.name, now))
        mem += alloc + op.grad_fixed
        grad_params += op.grad_fixed
        for s in op.new_outputs:  # gradients of this op's outputs are consumed
            if s in grads:
                grads.discard(s)
                mem -= size[s]
        mem -= extras[i]
        for s in op.saved:
            if graph.first_saver.get(s) == i and s not in pinned and s in live:
                live.discard(s)
                mem -= size[s]
    # anything still alive that is not pinned was an output with no consumer requiring grad
    now = mem + step_temp
    timeline.append(("step", "optimizer", now))
    if now > peak:
        peak, phase, where = now, "optimizer step", "optimizer"
    return _Replay(peak, phase, where, activations, batch_bytes, grad_params, timeline)


# ----------------------------------------------------------------------------- optimizer


@dataclass
class _OptInfo:
    name: str
    state_per_byte: float  # optimizer-state bytes per byte of trainable weights
    state_per_tensor: float  # fixed bytes per weight tensor (step counters...)
    step_temp_per_byte: float  # transient bytes per byte of trainable weights during step()
    slots: dict


def _resolve_optimizer(optimizer):
    from .. import optimizers

    try:
        if isinstance(optimizer, str):
            return optimizers.get({"class_name": optimizer, "config": {"name": "memory_probe"}})
        if isinstance(optimizer, optimizers.Optimizer):
            return optimizer
        return optimizers.get(optimizer)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"Received an invalid value for `optimizer`: {e} help: pass a name such as 'adam' or 'sgd', a "
            "deepnet optimizer, or None for gradients only."
        ) from e


def _known_slots(opt) -> tuple[list, list, bool] | None:
    """(per-weight slots, scalar slots, fused) of deepnet's built-in optimizers, from their settings;
    None for others (they are probed)."""
    name = type(opt).__name__
    if name == "SGD":
        return (["momentum_buffer"] if opt.momentum > 0 else []), [], True
    if name in ("Adam", "AdamW"):
        return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if opt.amsgrad else []), ["step"], True
    if name == "RMSprop":
        slots = ["square_avg"] + (["grad_avg"] if opt.centered else []) + (["momentum_buffer"] if opt.momentum > 0 else [])
        return slots, [], False
    if name == "Adagrad":
        return ["sum"], ["step"], True
    if name == "Adadelta":
        return ["square_avg", "acc_delta"], ["step"], False
    if name == "Adamax":
        return ["exp_avg", "exp_inf"], ["step"], False
    if name == "Nadam":
        return ["exp_avg", "exp_avg_sq"], ["step", "mu_product"], False
    if name == "Lion":
        return ["exp_avg"], [], False
    return None


def _probe_slots(opt) -> tuple[list, list, bool]:
    """Build a copy of ``opt`` on a probe tensor, take one step and list what it keeps."""
    probe = type(opt).from_config({**opt.get_config(), "name": "memory_probe"})
    n = 4096
    p = nn.Parameter(torch.zeros(n))
    probe.build([p])
    p.grad = torch.full_like(p, 1e-3)
    probe.step()
    per, scalars = [], []
    for key, value in probe.torch_optimizer.state.get(p, {}).items():
        if isinstance(value, torch.Tensor):
            (per if value.numel() == n else scalars).append(key)
    return per, scalars, getattr(probe, "implementation", None) == "fused"


def _optimizer_info(optimizer) -> _OptInfo:
    if optimizer is None or (isinstance(optimizer, str) and optimizer.lower() == "none"):
        return _OptInfo("none", 0.0, 0.0, 0.0, {})
    opt = _resolve_optimizer(optimizer)
    known = _known_slots(opt)
    per, scalars, fused = known if known is not None else _probe_slots(opt)
    slots = {k: "one per weight" for k in per}
    slots.update({k: "one value per weight tensor" for k in scalars})
    temp = 0.0 if fused else 1.0  # foreach kernels build one list of temporaries the size of the weights
    if opt.clipnorm or opt.global_clipnorm or opt.clipvalue:
        temp = max(temp, 1.0)
    return _OptInfo(type(opt).__name__, float(len(per)), 4.0 * len(scalars), temp, slots)


# ----------------------------------------------------------------------------- result


class MemoryPlan(DiagnosisResult):
    """Predicted memory of one training step (and of inference) at one batch size.

    Attributes (bytes): ``parameters``, ``gradients``, ``optimizer_state``, ``activations``,
    ``batch``, ``training_peak``, ``inference_peak``; ``flops_per_sample`` (forward),
    ``per_layer`` (list of dicts), ``growth`` (rows of the batch-size / input-size table),
    ``timeline`` (memory after each event of the step).
    """

    kind = "memory"
    title = "Memory plan"
    _text_hidden = ("per_layer", "growth")

    def __init__(self, verdict, summary, evidence, remedies, severity, notes, *, batch_size, precision,
                 optimizer, components, training_peak, inference_peak, peak_phase, peak_where,
                 flops_per_sample, per_layer, growth, timeline, budget):
        super().__init__(verdict, summary, evidence, remedies, severity, notes)
        self.batch_size = batch_size
        self.precision = precision
        self.optimizer = optimizer
        self.components = dict(components)
        self.parameters = components["parameters"]
        self.gradients = components["gradients"]
        self.optimizer_state = components["optimizer_state"]
        self.activations = components["activations"]
        self.batch = components["batch"]
        self.training_peak = training_peak
        self.inference_peak = inference_peak
        self.peak_phase = peak_phase
        self.peak_where = peak_where
        self.flops_per_sample = flops_per_sample
        self.per_layer = per_layer
        self.growth = growth
        self.timeline = timeline
        self.budget = budget

    def _extra_dict(self) -> dict:
        return {
            "batch_size": self.batch_size, "precision": self.precision, "optimizer": self.optimizer,
            "components": self.components, "training_peak": self.training_peak,
            "inference_peak": self.inference_peak, "peak_phase": self.peak_phase, "peak_where": self.peak_where,
            "flops_per_sample": self.flops_per_sample, "per_layer": self.per_layer, "growth": self.growth,
            "budget": self.budget,
        }

    def table(self) -> str:
        """The growth table as text: training/inference peak per batch size and input scale."""
        scales = sorted({r["input_scale"] for r in self.growth})
        head = f"{'batch':>7} | " + " | ".join(f"{'train x' + str(s):>13} {'infer x' + str(s):>13}" for s in scales)
        lines = [head, "-" * len(head)]
        for bs in sorted({r["batch_size"] for r in self.growth}):
            cells = []
            for s in scales:
                row = next((r for r in self.growth if r["batch_size"] == bs and r["input_scale"] == s), None)
                if row is None or row["training_peak"] is None:
                    cells.append(f"{'n/a':>13} {'n/a':>13}")
                else:
                    cells.append(f"{readable(row['training_peak']):>13} {readable(row['inference_peak']):>13}")
            lines.append(f"{bs:>7} | " + " | ".join(cells))
        return "\n".join(lines)

    def _detail_lines(self) -> list[str]:
        c = self.components
        lines = [f"Breakdown at batch size {self.batch_size} ({self.precision}, optimizer {self.optimizer}):"]
        for key in ("parameters", "gradients", "optimizer_state", "activations", "batch"):
            lines.append(f"  {key.replace('_', ' '):<18}{readable(c[key]):>12}")
        lines.append(f"  {'training peak':<18}{readable(self.training_peak):>12}   (during {self.peak_phase}: {self.peak_where})")
        lines.append(f"  {'inference peak':<18}{readable(self.inference_peak):>12}")
        lines.append(f"  {'forward FLOPs':<18}{readable_flops(self.flops_per_sample):>12} per sample "
                     f"(training step ~{readable_flops(3 * self.flops_per_sample)} per sample)")
        top = sorted(self.per_layer, key=lambda r: -r["activation_bytes_per_sample"])[:8]
        if top:
            lines.append("Largest activations (per sample, kept for backward):")
            for r in top:
                lines.append(f"  {r['name'][:28]:<28} {r['type'][:20]:<20} {readable(r['activation_bytes_per_sample']):>12}"
                             f" {readable_flops(r['flops_per_sample']):>14}")
        lines.append("Growth (training peak / inference peak):")
        lines.extend("  " + line for line in self.table().splitlines())
        return lines

    def _draw(self, ax):
        if ax is not None:
            self._draw_growth(ax)
            return ax.figure
        fig, axes = new_figure(ncols=3, width=5.2, height=4.0)
        self._draw_breakdown(axes[0])
        self._draw_growth(axes[1])
        self._draw_timeline(axes[2])
        fig.suptitle(f"Memory plan: {self.summary}", fontsize=9)
        return fig

    def _draw_breakdown(self, ax) -> None:
        c = self.components
        keys = ["parameters", "gradients", "optimizer_state", "activations", "batch"]
        colors = ["#4c72b0", "#55a868", "#c44e52", "#dd8452", "#8172b3"]
        bottom = 0.0
        scale, unit = _plot_unit(max(self.training_peak, sum(c[k] for k in keys)))
        for key, color in zip(keys, colors):
            ax.bar(["sum of parts"], [c[key] / scale], bottom=[bottom], color=color, label=key.replace("_", " "))
            bottom += c[key] / scale
        ax.bar(["training peak"], [self.training_peak / scale], color="#333333")
        ax.bar(["inference peak"], [self.inference_peak / scale], color="#999999")
        if self.budget and self.budget < 3 * self.training_peak:
            ax.axhline(self.budget / scale, color="black", ls=":", lw=1.2, label=f"budget {readable(self.budget)}")
        ax.set_ylabel(unit)
        ax.set_title(f"Parts and peaks at batch size {self.batch_size}", fontsize=9)
        ax.legend(fontsize=7)

    def _draw_growth(self, ax) -> None:
        from matplotlib.ticker import FixedLocator, NullLocator

        scales = sorted({r["input_scale"] for r in self.growth})
        scale, unit = _plot_unit(min((r["training_peak"] for r in self.growth if r["training_peak"]), default=1.0))
        colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
        sizes = sorted({r["batch_size"] for r in self.growth})
        for s, color in zip(scales, colors * 4):
            rows = [r for r in self.growth if r["input_scale"] == s and r["training_peak"] is not None]
            if not rows:
                continue
            xs = [r["batch_size"] for r in rows]
            ax.plot(xs, [r["training_peak"] / scale for r in rows], "o-", color=color, label=f"training, input x{s}")
            ax.plot(xs, [r["inference_peak"] / scale for r in rows], "s--", color=color, alpha=0.7,
                    label=f"inference, input x{s}")
        if self.budget:
            ax.axhline(self.budget / scale, color="black", ls=":", lw=1.2, label=f"budget {readable(self.budget)}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(v) for v in sizes])
        ax.set_xlabel("batch size")
        ax.set_ylabel(f"peak memory ({unit})")
        ax.set_title("Growth with batch and input size", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)

    def _draw_timeline(self, ax) -> None:
        base = self.parameters + self.optimizer_state
        scale, unit = _plot_unit(base + max((v for _, _, v in self.timeline), default=0.0))
        ys = [(base + v) / scale for _, _, v in self.timeline]
        xs = list(range(len(ys)))
        ax.plot(xs, ys, color="#4c72b0")
        phases = [p for p, _, _ in self.timeline]
        for name, color in (("forward", "#e8f0fa"), ("backward", "#fbeee6"), ("step", "#eaf6ec")):
            idx = [i for i, p in enumerate(phases) if p == name]
            if idx:
                ax.axvspan(min(idx) - 0.5, max(idx) + 0.5, color=color, zorder=0, label=name)
        ax.set_xlabel("event (layer forward, layer backward, optimizer step)")
        ax.set_ylabel(f"{unit} allocated")
        ax.set_title(f"One training step at batch size {self.batch_size}", fontsize=9)
        ax.legend(fontsize=7)


# ----------------------------------------------------------------------------- planning


def _scaled_specs(specs, scale: int, channels_first: bool):
    """Input specs with the spatial/time dimensions multiplied by ``scale`` (None if none)."""
    out, changed = [], False
    for shape, dtype in specs:
        if scale == 1:
            out.append((shape, dtype))
            continue
        if dtype.is_floating_point and len(shape) >= 2:
            dims = range(1, len(shape)) if channels_first else range(len(shape) - 1)
        elif not dtype.is_floating_point and len(shape) >= 1:
            dims = range(len(shape))  # token ids: the sequence length
        else:
            dims = ()
        new = tuple(d * scale if i in dims else d for i, d in enumerate(shape))
        changed = changed or new != shape
        out.append((new, dtype))
    return out if changed else None


def _static_bytes(model, opt: _OptInfo) -> tuple[float, float, float]:
    params = float(sum(p.numel() * p.element_size() for p in model.parameters())
                   + sum(b.numel() * b.element_size() for b in model.buffers()))
    trainable = [p for p in model.parameters() if p.requires_grad]
    tbytes = float(sum(p.numel() * p.element_size() for p in trainable))
    state = opt.state_per_byte * tbytes + opt.state_per_tensor * len(trainable)
    return params, tbytes, state


class _Planner:
    """Traces a model once per input scale and replays steps for any batch size."""

    def __init__(self, model, optimizer, precision, input_shape):
        from ..models.model import Model

        if not isinstance(model, nn.Module):
            raise TypeError(f"Expected a deepnet Model (or torch.nn.Module); received {type(model).__name__}.")
        if isinstance(model, Model) and not model.built:
            raise ValueError(
                f"Model {model.name!r} is not built, so its weights are unknown. help: start it with "
                "deepnet.Input(shape=...) or call model.build(input_shape) first."
            )
        self.model = model
        self.precision = _resolve_precision(precision)
        mixed = self.precision.startswith("mixed")
        cbytes = 2 if mixed else (8 if self.precision == "float64" else 4)
        device = next((p.device.type for p in model.parameters()), "cpu")
        self.ctx = _Ctx(self.precision, mixed, cbytes, device)
        self.opt = _optimizer_info(optimizer)
        self.specs = _model_input_specs(model, input_shape)
        self.channels_first = any(getattr(m, "data_format", None) == "channels_first" for m in model.modules())
        self.params, self.trainable_bytes, self.state = _static_bytes(model, self.opt)
        self._graphs: dict = {}

    def graphs(self, scale: int = 1):
        if scale not in self._graphs:
            specs = self.specs if scale == 1 else _scaled_specs(self.specs, scale, self.channels_first)
            if specs is None:
                self._graphs[scale] = None
            else:
                try:
                    train = _build_graph(self.model, specs, _Ctx(**{**self.ctx.__dict__, "training": True}))
                    infer = _build_graph(self.model, specs, _Ctx(**{**self.ctx.__dict__, "training": False}))
                    self._graphs[scale] = (train, infer)
                except Exception:
                    if scale == 1:
                        raise
                    self._graphs[scale] = None  # the model does not accept this input size
        return self._graphs[scale]

    def training_peak(self, batch: int, scale: int = 1) -> float | None:
        g = self.graphs(scale)
        if g is None:
            return None
        r = _replay(g[0], batch, True, self.opt.step_temp_per_byte * self.trainable_bytes)
        return self.params + self.state + r.peak

    def inference_peak(self, batch: int, scale: int = 1) -> float | None:
        g = self.graphs(scale)
        if g is None:
            return None
        return self.params + _replay(g[1], batch, False).peak


def _device_memory(model) -> float | None:
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    if device.type == "cuda":
        try:
            return float(torch.cuda.get_device_properties(device).total_memory)
        except Exception:  # pragma: no cover - no CUDA here
            return None
    return None


def memory(model, batch_size: int = 32, optimizer="adam", precision=None, input_shape=None,
           memory_budget=None, batch_sizes=GROWTH_BATCH_SIZES, input_scales=(1, 2)) -> MemoryPlan:
    """Predict the memory of one training step of ``model`` at ``batch_size``.

    Args:
        model: a built deepnet model (functional, Sequential or subclassed and built/called).
        batch_size: the batch size of the breakdown (the growth table covers ``batch_sizes``).
        optimizer: name (``"adam"``, ``"sgd"``...), a deepnet optimizer (its settings count:
            SGD with momentum keeps one slot per weight, without none), or ``None`` (gradients
            only, no optimizer state).
        precision: ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``; default: the
            global mixed-precision policy.
        input_shape: per-sample input shape (no batch axis), needed when the model's input has
            unknown dimensions (e.g. variable-length sequences) or is unknown (subclassed models).
        memory_budget: bytes or a string like ``"8GB"``/``"16GiB"``; the verdict says whether
            the step fits (default: the GPU's memory when the model is on a GPU, else no verdict).
        batch_sizes, input_scales: rows and columns of the growth table (input scale multiplies
            the spatial dimensions of image inputs and the length of sequence inputs).

    Returns:
        a :class:`MemoryPlan` (``print(plan)``, ``plan.to_dict()``, ``plan.plot("memory.png")``).
    """
    _check_batch(batch_size, "batch_size")
    planner = _Planner(model, optimizer, precision, input_shape)
    budget = parse_bytes(memory_budget) if memory_budget is not None else _device_memory(model)
    train_g, infer_g = planner.graphs(1)
    step_temp = planner.opt.step_temp_per_byte * planner.trainable_bytes
    rt = _replay(train_g, batch_size, True, step_temp)
    ri = _replay(infer_g, batch_size, False)
    training_peak = planner.params + planner.state + rt.peak
    inference_peak = planner.params + ri.peak
    components = {
        "parameters": planner.params, "gradients": planner.trainable_bytes, "optimizer_state": planner.state,
        "activations": rt.activations, "batch": rt.batch,
    }
    flops = sum(op.flops for op in train_g.ops)
    per_layer = []
    for op in train_g.ops:
        if op.type == "loss":
            continue
        # what this layer's outputs and internal tensors cost while kept for backward
        act = op.extra + sum(train_g.storage_bytes[s] for s in op.new_outputs if s in train_g.first_saver)
        per_layer.append({
            "name": op.name, "type": op.type, "output_shape": list(op.out_shape), "params": op.params,
            "activation_bytes_per_sample": act, "flops_per_sample": op.flops, "note": op.note,
        })
    growth = []
    for scale in input_scales:
        graphs = planner.graphs(scale)
        for bs in batch_sizes:
            row = {"batch_size": bs, "input_scale": scale, "training_peak": None, "inference_peak": None,
                   "activations": None, "flops_per_sample": None}
            if graphs is not None:
                r = _replay(graphs[0], bs, True, step_temp)
                row.update(training_peak=planner.params + planner.state + r.peak, activations=r.activations,
                           inference_peak=planner.inference_peak(bs, scale),
                           flops_per_sample=sum(op.flops for op in graphs[0].ops))
            growth.append(row)
    timeline = rt.timeline
    # ---- verdict
    parts = {k: v for k, v in components.items()}
    biggest = max(("parameters", "optimizer_state", "activations"), key=lambda k: parts[k])
    notes = []
    if any(r["note"] for r in per_layer):
        notes.extend(f"{r['name']}: {r['note']}" for r in per_layer if r["note"])
    if planner.ctx.device != "cuda":
        notes.append("Bytes are what PyTorch allocates; on a GPU the caching allocator reserves somewhat more "
                     "(rounding, fragmentation), on CPU untouched pages may not count in the resident size.")
    evidence = {
        "batch_size": batch_size, "precision": planner.precision, "optimizer": planner.opt.name,
        "training_peak": readable(training_peak), "inference_peak": readable(inference_peak),
        "peak_during": f"{rt.phase} ({rt.where})", "forward_flops_per_sample": readable_flops(flops),
        "largest_part": biggest.replace("_", " "),
    }
    if planner.opt.slots:
        evidence["optimizer_slots"] = planner.opt.slots
    remedies: list[str] = []
    if budget:
        evidence["budget"] = readable(budget)
        best = _max_batch(planner, budget, True)
        evidence["max_batch_size"] = best
        if training_peak > budget:
            verdict, severity = "exceeds_budget", "error"
            summary = (f"A training step at batch size {batch_size} needs ~{readable(training_peak)}, more than the "
                       f"budget of {readable(budget)}.")
        elif training_peak > 0.85 * budget:
            verdict, severity = "tight", "warning"
            summary = (f"A training step at batch size {batch_size} needs ~{readable(training_peak)}, "
                       f"{training_peak / budget:.0%} of the budget of {readable(budget)}: little headroom.")
        else:
            verdict, severity = "fits", "ok"
            summary = (f"A training step at batch size {batch_size} needs ~{readable(training_peak)} "
                       f"({training_peak / budget:.0%} of {readable(budget)}); inference ~{readable(inference_peak)}.")
        if severity != "ok":
            if best >= 1:
                remedies.append(f"Use batch_size={_pow2_floor(best)} (largest power of two that fits; exact limit {best}).")
            else:
                remedies.append("Even batch size 1 does not fit: the weights and optimizer state alone are too large.")
    else:
        verdict, severity = "estimated", "info"
        summary = (f"A training step at batch size {batch_size} needs ~{readable(training_peak)} "
                   f"(largest part: {biggest.replace('_', ' ')}); inference ~{readable(inference_peak)}; "
                   f"{readable_flops(flops)} forward per sample.")
    remedies.extend(_memory_remedies(planner, components, biggest, train_g, batch_size))
    return MemoryPlan(verdict, summary, evidence, remedies if severity != "info" else remedies[:3], severity, notes,
                      batch_size=batch_size, precision=planner.precision, optimizer=planner.opt.name,
                      components=components, training_peak=training_peak, inference_peak=inference_peak,
                      peak_phase=rt.phase, peak_where=rt.where, flops_per_sample=flops, per_layer=per_layer,
                      growth=growth, timeline=timeline, budget=budget)


def _memory_remedies(planner: _Planner, components: dict, biggest: str, graph: _Graph, batch_size: int) -> list[str]:
    out = []
    if biggest == "activations":
        out.append("Activations dominate: they grow linearly with the batch size (and with the input size); "
                   "halve the batch size or accumulate gradients over several smaller batches.")
        if not planner.ctx.mixed:
            out.append("precision='mixed_bfloat16' (deepnet.mixed_precision.set_global_policy) roughly halves the "
                       "activations of Dense/Conv/attention/RNN layers.")
        heavy = max((op for op in graph.ops if op.type != "loss"), key=lambda op: op.extra, default=None)
        if heavy is not None and heavy.extra > 0:
            out.append(f"The largest single activation cost is {heavy.name} ({heavy.type}); recomputing it in the backward "
                       "pass (torch.utils.checkpoint) trades compute for memory.")
    if components["optimizer_state"] > 0 and biggest in ("optimizer_state", "parameters"):
        out.append(f"The optimizer state takes {readable(components['optimizer_state'])}; SGD without momentum keeps "
                   "none, SGD with momentum one slot per weight (Adam keeps two).")
    if biggest == "parameters":
        out.append("The weights dominate: freeze layers you do not train (trainable=False removes their gradients and "
                   "optimizer state) or use a smaller model.")
    return out


def _check_batch(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) <= 0:
        raise ValueError(f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}")
    return int(value)


def _pow2_floor(n: int) -> int:
    return 1 << (int(n).bit_length() - 1) if n >= 1 else 0


def _max_batch(planner: _Planner, budget: float, training: bool, limit: int = 1 << 31) -> int:
    peak = planner.training_peak if training else planner.inference_peak
    if peak(1) > budget:
        return 0
    lo, hi = 1, 2
    while hi <= limit and peak(hi) <= budget:
        lo, hi = hi, hi * 2
    if hi > limit:
        return lo
    while hi - lo > 1:  # peak(lo) fits, peak(hi) does not
        mid = (lo + hi) // 2
        if peak(mid) <= budget:
            lo = mid
        else:
            hi = mid
    return lo


class MaxBatchSize(NamedTuple):
    """Result of :func:`max_batch_size`: ``exact`` (the largest batch size that fits, 0 if none)
    and ``power_of_two`` (the largest power of two that fits), with the predicted peaks."""

    exact: int
    power_of_two: int
    budget: int
    peak_at_exact: float | None
    peak_at_power_of_two: float | None

    def __int__(self) -> int:
        return self.exact

    def __str__(self) -> str:
        if self.exact == 0:
            return f"Nothing fits in {readable(self.budget)}: even batch size 1 exceeds it."
        return (f"Largest batch size within {readable(self.budget)}: {self.exact} (~{readable(self.peak_at_exact)}); "
                f"largest power of two: {self.power_of_two} (~{readable(self.peak_at_power_of_two)}).")


def max_batch_size(model, memory_budget, optimizer="adam", precision=None, input_shape=None,
                   training: bool = True) -> MaxBatchSize:
    """The largest batch size whose training step (``training=False``: inference) fits
    ``memory_budget`` (bytes or a string such as ``"4GB"``, ``"512MiB"``), by the same replay as
    :func:`memory`. Returns ``MaxBatchSize(exact, power_of_two, budget, peak_at_exact,
    peak_at_power_of_two)``; ``int(result)`` is the exact size (0 when even 1 does not fit)."""
    budget = parse_bytes(memory_budget)
    planner = _Planner(model, optimizer, precision, input_shape)
    best = _max_batch(planner, budget, bool(training))
    peak = planner.training_peak if training else planner.inference_peak
    p2 = _pow2_floor(best)
    return MaxBatchSize(best, p2, budget, peak(best) if best else None, peak(p2) if p2 else None)
