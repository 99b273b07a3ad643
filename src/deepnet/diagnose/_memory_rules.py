"""Per-layer rules of the memory planner: what autograd keeps for each layer class.

A rule maps one traced layer call (:class:`IO`) to a :class:`Spec`: which inputs/outputs the
backward pass keeps, the internal tensors it saves, transients, and the element-wise FLOPs that
the FLOP counter does not see. Rules are keyed by class (deepnet layers, and torch modules held
directly by a model) and found along the MRO; a layer without a rule is measured by running a
copy of it under ``torch.autograd.graph.saved_tensors_hooks``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import activations
from .. import layers as L

__all__ = ["Ctx", "IO", "Spec", "numel", "spec_for"]


def numel(shape) -> int:
    """Number of elements of a shape (1 for ``()``)."""
    return math.prod(int(d) for d in shape)


@dataclass
class Ctx:
    """The setting of a plan: precision, compute bytes per float, device type, training or not."""

    precision: str
    mixed: bool
    cbytes: int  # bytes of a floating activation in the compute dtype
    device: str  # "cpu" or "cuda"/other
    training: bool = True


@dataclass
class IO:
    """One layer call as the rules see it (per-sample shapes, bytes per element, flags)."""

    layer: nn.Module
    in_shapes: list
    out_shapes: list
    in_items: list  # bytes per element of each input (after mixed-precision propagation)
    in_rg: list  # whether each input requires grad
    in_float: list
    trainable: bool  # has weights that receive gradients
    kwargs: dict
    ctx: Ctx
    flops: float = 0.0  # FLOPs FlopCounterMode counted in this call (batch 1)

    @property
    def in_numel(self) -> list:
        return [numel(s) for s in self.in_shapes]

    @property
    def out_numel(self) -> list:
        return [numel(s) for s in self.out_shapes]


@dataclass
class Spec:
    """What one layer call allocates and keeps (bytes per sample unless said otherwise)."""

    save_in: list | None = None  # per input: kept for backward
    save_out: list | None = None  # per output: kept for backward
    inter: list = field(default_factory=list)  # [(bytes per sample, saved in training)]
    inter_fixed: float = 0.0  # batch-independent saved bytes (e.g. half-precision weight copies)
    alias: list | None = None  # per output: index of the input it is a view of, or None
    out_kind: str = "same"  # "same", "compute", "float32" (dtype of float outputs under mixed precision)
    flops: float = 0.0  # forward FLOPs per sample the counter cannot see (element-wise work)
    matmul_flops: float | None = None  # replaces the counted FLOPs (fused kernels the counter cannot see)
    bwd_temp: float = 0.0  # transient bytes per sample during the backward of this layer
    note: str = ""


_RULES: dict[type, Callable[[IO], Spec]] = {}


def _rule(*classes: type):
    """Register a rule for layer classes (subclasses inherit it through the MRO)."""
    def deco(fn):
        for cls in classes:
            _RULES[cls] = fn
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
    try:
        name = activations.serialize(fn)
    except Exception:  # an arbitrary callable
        name = getattr(fn, "__name__", "")
    return _ACT_SAVES.get(name, "in")


def _with_activation(spec: Spec, io: IO, fn, pre_bytes: float) -> Spec:
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


def _activation_bwd_temp(spec: Spec, io: IO) -> None:
    """Backward of ``act(x @ W)``: first grad_out and the pre-activation gradient are alive, then
    the pre-activation gradient and grad_in (the replay already counts grad_out + grad_in)."""
    if spec.inter:  # a fused activation
        z = io.out_numel[0] * io.ctx.cbytes
        spec.bwd_temp = max(0.0, z - io.in_numel[0] * io.in_items[0])


def _matmul_input(io: IO, spec: Spec, index: int = 0) -> None:
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


def _weight_copies(io: IO, spec: Spec) -> None:
    """Autocast keeps a half-precision copy of each weight a matmul uses (until backward)."""
    if io.ctx.mixed:
        n = sum(p.numel() for p in io.layer.parameters() if p.is_floating_point())
        spec.inter_fixed += n * io.ctx.cbytes


@_rule(L.Dense)
def _dense(io: IO) -> Spec:
    layer = io.layer
    out = io.out_numel[0]
    spec = Spec(out_kind="compute")  # the product and the bias: counted
    _matmul_input(io, spec)
    _weight_copies(io, spec)
    _with_activation(spec, io, getattr(layer, "_act", None), out * io.ctx.cbytes)
    _activation_bwd_temp(spec, io)
    return spec


def _conv_geometry(layer, io: IO):
    channels_last = getattr(layer, "data_format", "channels_last") != "channels_first"
    ins, outs = io.in_shapes[0], io.out_shapes[0]
    cin = ins[-1] if channels_last else ins[0]
    cout = outs[-1] if channels_last else outs[0]
    in_sp = ins[:-1] if channels_last else ins[1:]
    out_sp = outs[:-1] if channels_last else outs[1:]
    return cin, cout, numel(in_sp), numel(out_sp)


@_rule(L.Conv1D, L.Conv2D, L.Conv1DTranspose, L.Conv2DTranspose, L.DepthwiseConv1D, L.DepthwiseConv2D,
       L.SeparableConv1D, L.SeparableConv2D)
def _conv(io: IO) -> Spec:
    layer = io.layer
    spec = Spec(out_kind="compute")  # the convolutions and the bias: counted
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        cin, _, _, out_sp = _conv_geometry(layer, io)
        mid = cin * getattr(layer, "depth_multiplier", 1)
        # the depthwise result is the pointwise product's input: kept for its weight gradient
        spec.inter.append((mid * out_sp * io.ctx.cbytes, io.trainable))
    _matmul_input(io, spec)
    _weight_copies(io, spec)
    _with_activation(spec, io, getattr(layer, "_act", getattr(layer, "activation", None)),
                     io.out_numel[0] * io.ctx.cbytes)
    _activation_bwd_temp(spec, io)
    return spec


@_rule(L.Activation)
def _activation(io: IO) -> Spec:
    kind = _act_kind(io.layer.activation)
    if kind == "none":
        return Spec(alias=[0])
    spec = Spec(flops=4.0 * io.in_numel[0], out_kind="float32" if _act_name(io.layer.activation) in ("softmax", "log_softmax") else "same")
    if kind == "out":
        spec.save_out = [True]
    else:
        spec.save_in = [True]
    return spec


def _act_name(fn) -> str:
    try:
        return activations.serialize(fn)
    except Exception:
        return getattr(fn, "__name__", "")


@_rule(nn.ReLU, nn.Softmax, nn.ELU, nn.LeakyReLU, nn.PReLU)
def _torch_activation(io: IO) -> Spec:
    """torch activation modules held by a model: ReLU, Softmax and ELU keep their output,
    LeakyReLU and PReLU their input."""
    layer = io.layer
    spec = Spec(flops=4.0 * io.in_numel[0], out_kind="float32" if isinstance(layer, nn.Softmax) else "same")
    if isinstance(layer, (nn.ReLU, nn.Softmax, nn.ELU)):
        spec.save_out = [True]
    else:
        spec.save_in = [True]
    return spec


@_rule(L.Dropout, L.SpatialDropout1D, L.SpatialDropout2D, L.GaussianDropout)
def _dropout(io: IO) -> Spec:
    layer = io.layer
    rate = float(getattr(layer, "rate", 0.0) or 0.0)
    if not io.ctx.training or rate == 0.0:
        return Spec(alias=[0])
    n = io.in_numel[0]
    if isinstance(layer, (L.SpatialDropout1D, L.SpatialDropout2D)):
        shape = io.in_shapes[0]
        mask = shape[-1] if getattr(layer, "data_format", "channels_last") != "channels_first" else shape[0]
        mask_bytes = mask * io.in_items[0]
    elif isinstance(layer, L.GaussianDropout) or getattr(layer, "noise_shape", None) is not None or getattr(layer, "seed", None) is not None:
        mask_bytes = n * io.in_items[0]  # a float mask / noise tensor multiplies the input
    else:
        # F.dropout: a float mask on CPU, a bool mask on CUDA
        mask_bytes = n * (io.in_items[0] if io.ctx.device == "cpu" else 1)
    return Spec(inter=[(mask_bytes, io.in_rg[0])], flops=2.0 * n)


@_rule(L.GaussianNoise)
def _noise(io: IO) -> Spec:
    if not io.ctx.training or not getattr(io.layer, "stddev", 0.0):
        return Spec(alias=[0])
    return Spec(inter=[(io.in_numel[0] * io.in_items[0], False)], flops=2.0 * io.in_numel[0])


@_rule(L.Flatten, L.Reshape, L.Permute, L.Cropping1D, L.Cropping2D, L.InputLayer, L.RepeatVector, nn.Identity,
       nn.Flatten)
def _view(io: IO) -> Spec:
    return Spec(alias=[0] * len(io.out_shapes))


@_rule(L.ZeroPadding1D, L.ZeroPadding2D, L.UpSampling1D, L.UpSampling2D, L.Rescaling, L.Normalization, L.Resizing,
       L.CenterCrop, L.RandomFlip, L.RandomRotation, L.RandomZoom, L.RandomTranslation, L.RandomCrop,
       L.RandomContrast, L.RandomBrightness)
def _copying(io: IO) -> Spec:
    # a new output, nothing kept (these layers sit on the inputs, where nothing needs a gradient,
    # and their backward needs only shapes when something does)
    return Spec(flops=float(io.out_numel[0]))


@_rule(L.BatchNormalization)
def _batchnorm(io: IO) -> Spec:
    layer = io.layer
    shape = io.in_shapes[0]
    axis = getattr(layer, "axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) else axis
    channels = shape[axis - 1] if axis > 0 else shape[axis]
    spec = Spec(flops=5.0 * io.in_numel[0], out_kind="same")
    if io.trainable or any(io.in_rg):
        spec.save_in = [True]
    spec.inter_fixed += 2 * channels * 4  # batch mean and inverse std
    return spec


def _rows(io: IO, layer) -> int:
    shape = io.in_shapes[0]
    axes = getattr(layer, "_axes", None) or getattr(layer, "axis", -1)
    axes = [axes] if isinstance(axes, int) else list(axes)
    size = 1
    for a in axes:
        a = a - 1 if a > 0 else a  # layer axes count the batch axis
        size *= shape[a]
    return max(1, io.in_numel[0] // max(1, size))


@_rule(L.LayerNormalization, L.RMSNormalization)
def _layernorm(io: IO) -> Spec:
    layer = io.layer
    rows = _rows(io, layer)
    rms = isinstance(layer, L.RMSNormalization)
    spec = Spec(save_in=[True], flops=6.0 * io.in_numel[0], out_kind="float32")
    spec.inter.append(((1 if rms else 2) * rows * 4, True))
    if rms or getattr(layer, "_fused", True) is False:  # composite ops keep a normalised copy too
        spec.inter.append((io.in_numel[0] * 4, True))
    return spec


@_rule(L.GroupNormalization)
def _groupnorm(io: IO) -> Spec:
    groups = int(getattr(io.layer, "groups", 1) or 1)
    spec = Spec(save_in=[True], flops=6.0 * io.in_numel[0], out_kind="float32")
    spec.inter.append((2 * groups * 4, True))
    return spec


@_rule(L.UnitNormalization)
def _unitnorm(io: IO) -> Spec:
    rows = _rows(io, io.layer)
    return Spec(save_in=[True], inter=[(rows * 4, True)], flops=4.0 * io.in_numel[0], out_kind="float32")


@_rule(L.MaxPooling1D, L.MaxPooling2D)
def _maxpool(io: IO) -> Spec:
    # max_pool keeps its input and the int64 argmax indices
    k = numel(getattr(io.layer, "pool_size", (1,)))
    return Spec(save_in=[True], inter=[(io.out_numel[0] * 8, True)], flops=float(k * io.out_numel[0]))


@_rule(L.AveragePooling1D, L.AveragePooling2D)
def _avgpool(io: IO) -> Spec:
    k = numel(getattr(io.layer, "pool_size", (1,)))
    return Spec(save_in=[True], flops=float(k * io.out_numel[0]))


@_rule(L.GlobalAveragePooling1D, L.GlobalAveragePooling2D)
def _gap(io: IO) -> Spec:
    return Spec(flops=float(io.in_numel[0]))


@_rule(L.GlobalMaxPooling1D, L.GlobalMaxPooling2D)
def _gmp(io: IO) -> Spec:
    return Spec(save_in=[True], save_out=[True], flops=float(io.in_numel[0]))


@_rule(L.Embedding)
def _embedding(io: IO) -> Spec:
    n = io.in_numel[0]
    spec = Spec(out_kind="float32")
    if io.trainable:
        if io.in_items[0] == 8 and not io.in_float[0]:
            spec.save_in = [True]
        else:
            spec.inter.append((n * 8, True))  # the int64 copy of the indices
    return spec


@_rule(L.Add, L.Subtract, L.Average, L.Concatenate)
def _merge_free(io: IO) -> Spec:
    return Spec(flops=float(sum(io.in_numel)))


@_rule(L.Multiply, L.Maximum, L.Minimum, L.Dot)
def _merge_saving(io: IO) -> Spec:
    # Dot's product is counted; the element-wise merges cost one FLOP per input element
    flops = 0.0 if isinstance(io.layer, L.Dot) else float(sum(io.in_numel))
    return Spec(save_in=[True] * len(io.in_shapes), flops=flops)


def _explicit_attention(io: IO, dropout: float) -> bool:
    if io.kwargs.get("return_attention_scores"):
        return True
    if not (io.ctx.training and dropout > 0):
        return False
    # the fused CPU kernel has no dropout (PyTorch falls back to the math path); seeded dropout is explicit
    return io.ctx.device == "cpu" or getattr(io.layer, "seed", None) is not None


@_rule(L.MultiHeadAttention)
def _mha(io: IO) -> Spec:
    layer = io.layer
    c = io.ctx.cbytes
    heads = int(getattr(layer, "num_heads", 1))
    kd = int(getattr(layer, "key_dim", 1))
    vd = int(getattr(layer, "value_dim", None) or kd)
    q_shape = io.in_shapes[0]
    v_shape = io.in_shapes[1] if len(io.in_shapes) > 1 else q_shape
    dq, dv = q_shape[-1], v_shape[-1]
    t = max(1, numel(q_shape) // dq)
    s = max(1, numel(v_shape) // dv)
    q, k, v, merged = t * heads * kd * c, s * heads * kd * c, s * heads * vd * c, t * heads * vd * c
    dropout = float(getattr(layer, "dropout", 0.0) or 0.0)
    spec = Spec(out_kind="compute")  # projections and attention products: counted
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


@_rule(L.Attention, L.AdditiveAttention)
def _attention(io: IO) -> Spec:
    layer = io.layer
    c = io.ctx.cbytes
    q_shape = io.in_shapes[0]
    v_shape = io.in_shapes[1] if len(io.in_shapes) > 1 else q_shape
    d = q_shape[-1]
    t = max(1, numel(q_shape) // d)
    s = max(1, numel(v_shape) // v_shape[-1])
    dropout = float(getattr(layer, "dropout", 0.0) or 0.0)
    need = any(io.in_rg)
    spec = Spec(save_in=[need] * len(io.in_shapes), out_kind="compute")  # matrix products: counted
    n_scores = 3 if (io.ctx.training and dropout > 0) else 1  # probabilities, dropout mask, dropped
    if isinstance(layer, L.AdditiveAttention) or getattr(layer, "score_mode", "dot") == "concat":
        # tanh(q + k) over (T, S, dim) is materialised and kept; it and its reduction are element-wise
        spec.inter += [(t * s * d * c, need), (t * s * d * c, False)]
        spec.flops += 5.0 * t * s * d
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
    if isinstance(layer, L.LSTM):
        if getattr(layer, "_vf", True) is None:  # step loop: gates, cell states and activations per step
            return c * t * (12 * u + i)
        width = max(i, u)
        ws = 8 * t * u + 7 * (t + 1) * width + 3 * u
        return 4 * ws + c * (t * i + t * u + 3 * u)
    if isinstance(layer, L.GRU):
        per_step = 7 * u if getattr(layer, "reset_after", True) else 6 * u
        return c * (t * per_step + t * i)
    return c * (t * u + t * i + u)


def _gates(layer) -> int:
    return 4 if isinstance(layer, L.LSTM) else 3 if isinstance(layer, L.GRU) else 1


@_rule(L.SimpleRNN, L.LSTM, L.GRU)
def _rnn(io: IO) -> Spec:
    layer = io.layer
    shape = io.in_shapes[0]
    t, i = (shape[0], shape[-1]) if len(shape) >= 2 else (1, shape[-1])
    u = int(layer.units)
    gates = _gates(layer)
    c = io.ctx.cbytes
    need = io.trainable or any(io.in_rg)
    # fused kernels (oneDNN, cuDNN) are invisible to the FLOP counter: the products by formula
    spec = Spec(out_kind="compute", matmul_flops=2.0 * gates * t * (i * u + u * u))
    spec.inter.append((_rnn_saved(layer, t, i, u, c, io.ctx.device), need))
    spec.inter.append((gates * u * c * 2, False))  # one step's gates
    _weight_copies(io, spec)
    spec.bwd_temp = c * t * (gates * u + i)
    return spec


@_rule(L.Bidirectional)
def _bidirectional(io: IO) -> Spec:
    layer = io.layer
    fwd = getattr(layer, "forward_layer", None)
    bwd = getattr(layer, "backward_layer", fwd)
    shape = io.in_shapes[0]
    t, i = (shape[0], shape[-1]) if len(shape) >= 2 else (1, shape[-1])
    c = io.ctx.cbytes
    need = io.trainable or any(io.in_rg)
    spec = Spec(out_kind="compute", matmul_flops=0.0)  # fused kernels: the products by formula
    for sub in (fwd, bwd):
        if sub is None:
            continue
        u = int(sub.units)
        gates = _gates(sub)
        spec.matmul_flops += 2.0 * gates * t * (i * u + u * u)
        spec.inter.append((_rnn_saved(sub, t, i, u, c, io.ctx.device), need))
        spec.inter.append((t * u * c, False))  # each direction's output before merging
        spec.bwd_temp += c * t * (gates * u + i)
    _weight_copies(io, spec)
    return spec


def _probe(io: IO) -> Spec:
    """Measure what a layer without a rule keeps, on a copy of it (training mode, batch 1 and 2)."""
    layer = io.layer
    try:
        clone = copy.deepcopy(layer)
    except Exception as e:  # un-copyable modules: assume inputs and outputs are kept
        return Spec(save_in=[True] * len(io.in_shapes), save_out=[True] * len(io.out_shapes),
                     note=f"not measured ({type(e).__name__}); assumed to keep inputs and outputs")
    clone.train(io.ctx.training)
    weights = {t.untyped_storage().data_ptr() for t in list(clone.parameters()) + list(clone.buffers())}
    device = next((p.device for p in clone.parameters()), torch.device("cpu"))
    results = []
    try:
        for batch in (1, 2):
            args = []
            for shape, rg, is_float in zip(io.in_shapes, io.in_rg, io.in_float):
                if is_float:
                    args.append(torch.randn((batch, *shape), device=device).requires_grad_(rg))
                else:
                    args.append(torch.ones((batch, *shape), dtype=torch.long, device=device))
            saved: dict[int, int] = {}

            def pack(t, saved=saved):
                ptr = t.untyped_storage().data_ptr()
                if ptr not in weights:
                    saved[ptr] = t.untyped_storage().nbytes()
                return t

            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                out = clone(*args)
            outs = [o for o in (out if isinstance(out, (list, tuple)) else [out]) if isinstance(o, torch.Tensor)]
            in_ptr = [a.untyped_storage().data_ptr() for a in args]
            out_ptr = [o.untyped_storage().data_ptr() for o in outs]
            rest = sum(b for p, b in saved.items() if p not in in_ptr and p not in out_ptr)
            results.append(([p in saved for p in in_ptr], [p in saved for p in out_ptr], rest,
                            [in_ptr.index(p) if p in in_ptr else None for p in out_ptr]))
    except Exception as e:
        return Spec(save_in=[True] * len(io.in_shapes), save_out=[True] * len(io.out_shapes),
                     note=f"not measured ({type(e).__name__}: {e}); assumed to keep inputs and outputs")
    (s_in, s_out, rest1, alias), (_, _, rest2, _) = results
    per_sample = max(0.0, float(rest2 - rest1))
    fixed = max(0.0, float(rest1) - per_sample)
    spec = Spec(save_in=s_in, save_out=s_out[: len(io.out_shapes)], inter=[(per_sample, True)] if per_sample else [],
                 alias=alias[: len(io.out_shapes)] if len(alias) >= len(io.out_shapes) else None,
                 note="measured (no rule for this layer type)" + ("" if io.flops else "; FLOPs not counted"))
    spec.inter_fixed = fixed
    return spec


def spec_for(io: IO) -> Spec:
    """What the layer of ``io`` keeps and computes: its class's rule, else measured by a probe."""
    for cls in type(io.layer).__mro__:
        fn = _RULES.get(cls)
        if fn is not None:
            return fn(io)
    return _probe(io)
