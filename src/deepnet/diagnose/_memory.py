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

import math
import re
from numbers import Integral

import numpy as np
import torch
from torch import nn

from .. import mixed_precision
from ..models import Model
from ..utils.validation import Interval, check
from ._memory_graph import Graph, build_graph, replay
from ._memory_optim import OptInfo, optimizer_info
from ._memory_result import MaxBatchSize, MemoryPlan, readable, readable_flops
from ._memory_rules import Ctx
from ._memory_trace import model_input_specs

__all__ = ["MaxBatchSize", "MemoryPlan", "forward_flops", "max_batch_size", "memory", "parse_bytes"]

#: batch sizes of the growth table
GROWTH_BATCH_SIZES = (1, 8, 32, 128, 512)
_PRECISIONS = ("float32", "float64", "mixed_bfloat16", "mixed_float16")
_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
_POSITIVE = Interval(Integral, 1, None)


def parse_bytes(value, argument: str = "memory_budget") -> int:
    """Bytes from an int/float or a string such as ``"4GB"``, ``"4 GiB"``, ``"512MiB"``, ``"1.5e9"``.

    Decimal units are powers of 1000 (``GB`` = 10**9) and binary units powers of 1024
    (``GiB`` = 2**30); ``K``/``M``/``G`` alone mean the decimal units.

    >>> dn.diagnose.parse_bytes("4GB"), dn.diagnose.parse_bytes("512 MiB")
    (4000000000, 536870912)
    """
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


def _resolve_precision(precision) -> str:
    if precision is None:
        return mixed_precision.global_policy().name
    name = getattr(precision, "name", precision)
    if name not in _PRECISIONS:
        raise ValueError(
            f"Received an invalid value for `precision`, expected one of {', '.join(map(repr, _PRECISIONS))}. "
            f"Received: precision={precision!r}"
        )
    return name


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


def _static_bytes(model, opt: OptInfo) -> tuple[float, float, float]:
    params = float(sum(p.numel() * p.element_size() for p in model.parameters())
                   + sum(b.numel() * b.element_size() for b in model.buffers()))
    trainable = [p for p in model.parameters() if p.requires_grad]
    tbytes = float(sum(p.numel() * p.element_size() for p in trainable))
    state = opt.state_per_byte * tbytes + opt.state_per_tensor * len(trainable)
    return params, tbytes, state


class _Planner:
    """Traces a model once per input scale and replays steps for any batch size."""

    def __init__(self, model, optimizer, precision, input_shape):
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
        self.ctx = Ctx(self.precision, mixed, cbytes, device)
        self.opt = optimizer_info(optimizer)
        self.specs = model_input_specs(model, input_shape)
        self.channels_first = any(getattr(m, "data_format", None) == "channels_first" for m in model.modules())
        self.params, self.trainable_bytes, self.state = _static_bytes(model, self.opt)
        self.step_temp = self.opt.step_temp_per_byte * self.trainable_bytes
        self._graphs: dict = {}

    def graphs(self, scale: int = 1):
        if scale not in self._graphs:
            specs = self.specs if scale == 1 else _scaled_specs(self.specs, scale, self.channels_first)
            if specs is None:
                self._graphs[scale] = None
            else:
                try:
                    train = build_graph(self.model, specs, Ctx(**{**self.ctx.__dict__, "training": True}))
                    infer = build_graph(self.model, specs, Ctx(**{**self.ctx.__dict__, "training": False}))
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
        r = replay(g[0], batch, True, self.step_temp)
        return self.params + self.state + r.peak

    def inference_peak(self, batch: int, scale: int = 1) -> float | None:
        g = self.graphs(scale)
        if g is None:
            return None
        return self.params + replay(g[1], batch, False).peak


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

    >>> model = dn.Sequential([dn.Input(shape=(32,)), dn.layers.Dense(64, activation="relu"),
    ...                        dn.layers.Dense(10)])
    >>> plan = dn.diagnose.memory(model, batch_size=8, batch_sizes=(1, 8), input_scales=(1,))
    >>> plan.verdict, plan.flops_per_sample == 2 * (32 * 64 + 64 * 10) + 64 + 10 + 4 * 64
    ('estimated', True)
    """
    batch_size = check("memory()", "batch_size", batch_size, _POSITIVE)
    planner = _Planner(model, optimizer, precision, input_shape)
    budget = parse_bytes(memory_budget) if memory_budget is not None else _device_memory(model)
    train_g, infer_g = planner.graphs(1)
    step_temp = planner.step_temp
    rt = replay(train_g, batch_size, True, step_temp)
    ri = replay(infer_g, batch_size, False)
    training_peak = planner.params + planner.state + rt.peak
    inference_peak = planner.params + ri.peak
    components = {
        "parameters": planner.params, "gradients": planner.trainable_bytes, "optimizer_state": planner.state,
        "activations": rt.activations, "batch": rt.batch,
    }
    flops = train_g.flops
    per_layer = _per_layer(train_g)
    biggest = max(("parameters", "optimizer_state", "activations"), key=lambda k: components[k])
    notes = [f"{r['name']}: {r['note']}" for r in per_layer if r["note"]]
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
    verdict, severity, summary, remedies = _verdict(planner, budget, batch_size, training_peak, inference_peak,
                                                    biggest, flops, evidence)
    remedies.extend(_memory_remedies(planner, components, biggest, train_g, batch_size))
    return MemoryPlan(verdict, summary, evidence, remedies if severity != "info" else remedies[:3], severity, notes,
                      batch_size=batch_size, precision=planner.precision, optimizer=planner.opt.name,
                      components=components, training_peak=training_peak, inference_peak=inference_peak,
                      peak_phase=rt.phase, peak_where=rt.where, flops_per_sample=flops, per_layer=per_layer,
                      growth=_growth(planner, batch_sizes, input_scales), timeline=rt.timeline, budget=budget)


def _per_layer(graph: Graph) -> list[dict]:
    rows = []
    for op in graph.ops:
        if op.type == "loss":
            continue
        # what this layer's outputs and internal tensors cost while kept for backward
        act = op.extra + sum(graph.storage_bytes[s] for s in op.new_outputs if s in graph.first_saver)
        rows.append({
            "name": op.name, "type": op.type, "output_shape": list(op.out_shape), "params": op.params,
            "activation_bytes_per_sample": act, "flops_per_sample": op.flops, "note": op.note,
        })
    return rows


def _growth(planner: _Planner, batch_sizes, input_scales) -> list[dict]:
    growth = []
    for scale in input_scales:
        graphs = planner.graphs(scale)
        for bs in batch_sizes:
            row = {"batch_size": bs, "input_scale": scale, "training_peak": None, "inference_peak": None,
                   "activations": None, "flops_per_sample": None}
            if graphs is not None:
                r = replay(graphs[0], bs, True, planner.step_temp)
                row.update(training_peak=planner.params + planner.state + r.peak, activations=r.activations,
                           inference_peak=planner.inference_peak(bs, scale), flops_per_sample=graphs[0].flops)
            growth.append(row)
    return growth


def _verdict(planner: _Planner, budget, batch_size: int, training_peak: float, inference_peak: float, biggest: str,
             flops: float, evidence: dict) -> tuple[str, str, str, list[str]]:
    step = f"A training step at batch size {batch_size} needs ~{readable(training_peak)}"
    if not budget:
        summary = (f"{step} (largest part: {biggest.replace('_', ' ')}); inference ~{readable(inference_peak)}; "
                   f"{readable_flops(flops)} forward per sample.")
        return "estimated", "info", summary, []
    evidence["budget"] = readable(budget)
    best = _max_batch(planner, budget, True)
    evidence["max_batch_size"] = best
    if training_peak > budget:
        verdict, severity = "exceeds_budget", "error"
        summary = f"{step}, more than the budget of {readable(budget)}."
    elif training_peak > 0.85 * budget:
        verdict, severity = "tight", "warning"
        summary = f"{step}, {training_peak / budget:.0%} of the budget of {readable(budget)}: little headroom."
    else:
        verdict, severity = "fits", "ok"
        summary = f"{step} ({training_peak / budget:.0%} of {readable(budget)}); inference ~{readable(inference_peak)}."
    remedies = []
    if severity != "ok":
        if best >= 1:
            remedies.append(f"Use batch_size={_pow2_floor(best)} (largest power of two that fits; exact limit {best}).")
        else:
            remedies.append("Even batch size 1 does not fit: the weights and optimizer state alone are too large.")
    return verdict, severity, summary, remedies


def forward_flops(model, input_shape=None) -> float:
    """Forward FLOPs per sample of ``model`` (the memory planner's count, in inference mode)."""
    specs = model_input_specs(model, input_shape)
    return build_graph(model, specs, Ctx("float32", False, 4, "cpu", training=False)).flops


def _memory_remedies(planner: _Planner, components: dict, biggest: str, graph: Graph, batch_size: int) -> list[str]:
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


def max_batch_size(model, memory_budget, optimizer="adam", precision=None, input_shape=None,
                   training: bool = True) -> MaxBatchSize:
    """The largest batch size whose training step (``training=False``: inference) fits
    ``memory_budget`` (bytes or a string such as ``"4GB"``, ``"512MiB"``), by the same replay as
    :func:`memory`. Returns ``MaxBatchSize(exact, power_of_two, budget, peak_at_exact,
    peak_at_power_of_two)``; ``int(result)`` is the exact size (0 when even 1 does not fit).

    >>> model = dn.Sequential([dn.Input(shape=(16,)), dn.layers.Dense(8)])
    >>> r = dn.diagnose.max_batch_size(model, "1MB", optimizer="sgd")
    >>> r.exact > r.power_of_two >= 1024
    True
    """
    budget = parse_bytes(memory_budget)
    planner = _Planner(model, optimizer, precision, input_shape)
    best = _max_batch(planner, budget, bool(training))
    peak = planner.training_peak if training else planner.inference_peak
    p2 = _pow2_floor(best)
    return MaxBatchSize(best, p2, budget, peak(best) if best else None, peak(p2) if p2 else None)
