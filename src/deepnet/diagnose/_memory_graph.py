"""The memory planner's step model: the traced layer calls become ops over tensor storages
(:func:`build_graph`), and :func:`replay` walks one training step (forward, loss, backward in
reverse order, optimizer step) or one inference pass at any batch size, tracking the live bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models.summary import layer_type_name
from ._memory_rules import IO, Ctx, Spec, numel, spec_for
from ._memory_trace import Trace, trace

__all__ = ["Graph", "Op", "Replay", "build_graph", "replay"]


@dataclass
class Op:
    """One layer call (or the loss) of the step, in bytes per sample unless said otherwise."""

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
class Graph:
    """The ops of one step and the storages they read and write."""

    ops: list
    storage_bytes: dict  # storage id -> bytes per sample
    inputs: list  # storage ids of the model inputs
    outputs: list  # storage ids of the model outputs
    last_use: dict  # storage id -> index of the last op reading it (forward)
    first_saver: dict  # storage id -> smallest op index that keeps it
    label_bytes: float

    @property
    def flops(self) -> float:
        """Forward FLOPs per sample of the whole model."""
        return float(sum(op.flops for op in self.ops))


@dataclass
class _Storages:
    """Tensor storages met while building the graph: bytes per sample, bytes per element,
    whether a gradient flows into them, and which traced tensor lives in which storage."""

    ctx: Ctx
    of: dict = field(default_factory=dict)  # tensor key -> storage id
    size: dict = field(default_factory=dict)  # storage id -> bytes per sample
    items: dict = field(default_factory=dict)  # storage id -> bytes per element
    rg: dict = field(default_factory=dict)  # storage id -> requires grad

    def new(self, numel_: int, item: int) -> int:
        sid = len(self.size)
        self.size[sid] = float(numel_ * item)
        self.items[sid] = item
        self.rg[sid] = False
        return sid

    def input_of(self, key: int, t) -> int:
        """The storage of an op input (new when code between layers produced it)."""
        if key not in self.of:
            mixed_float = self.ctx.mixed and t.dtype.is_floating_point
            self.of[key] = self.new(numel(t.shape), self.ctx.cbytes if mixed_float else t.dtype.itemsize)
        return self.of[key]


def _out_item(spec: Spec, io: IO, ctx: Ctx) -> int | None:
    """Bytes per element of the float outputs (None: the traced dtype)."""
    if not ctx.mixed:
        return None
    if spec.out_kind == "compute":
        return ctx.cbytes
    if spec.out_kind == "float32":
        return 4
    float_in = [it for it, f in zip(io.in_items, io.in_float) if f]
    return max(float_in) if float_in else 4


def _outputs(call, tensors, spec: Spec, io: IO, st: _Storages, in_sids: list, requires_grad: bool):
    """(storage ids of the outputs, those created by the call)."""
    out_item = _out_item(spec, io, st.ctx)
    outs, new_outs = [], []
    alias = spec.alias or [None] * len(call.outputs)
    for j, k in enumerate(call.outputs):
        t = tensors[k]
        a = alias[j] if j < len(alias) else None
        if a is not None and a < len(in_sids):  # a view of an input (or the input itself)
            sid = in_sids[a]
        elif a is not None and k in st.of:
            sid = st.of[k]
        else:  # a new tensor (even where the inference-mode trace returned its input unchanged)
            item = t.dtype.itemsize if (out_item is None or not t.dtype.is_floating_point) else out_item
            sid = st.new(numel(t.shape), item)
            new_outs.append(sid)
        st.of[k] = sid
        st.rg[sid] = st.rg[sid] or (requires_grad and t.dtype.is_floating_point)
        outs.append(sid)
    return outs, new_outs


def _saved(spec: Spec, in_sids: list, outs: list) -> list:
    saved = [sid for flag, sid in zip(spec.save_in or [], in_sids) if flag]
    saved += [sid for flag, sid in zip(spec.save_out or [], outs) if flag]
    return list(dict.fromkeys(saved))


def _op(call, tr: Trace, st: _Storages) -> Op:
    layer, tensors, ctx = call.module, tr.tensors, st.ctx
    in_sids = [st.input_of(k, tensors[k]) for k in call.inputs]
    params = list(layer.parameters())
    trainable = any(p.requires_grad for p in params)
    io = IO(layer=layer, in_shapes=[tensors[k].shape for k in call.inputs],
            out_shapes=[tensors[k].shape for k in call.outputs], in_items=[st.items[s] for s in in_sids],
            in_rg=[st.rg[s] for s in in_sids], in_float=[tensors[k].dtype.is_floating_point for k in call.inputs],
            trainable=trainable, kwargs=call.kwargs, ctx=ctx, flops=call.flops)
    spec = spec_for(io)
    requires_grad = trainable or any(io.in_rg)
    outs, new_outs = _outputs(call, tensors, spec, io, st, in_sids, requires_grad)
    keeps = requires_grad and ctx.training
    inter_all = sum(b for b, _ in spec.inter)
    counted = call.flops if spec.matmul_flops is None else spec.matmul_flops
    return Op(
        name=getattr(layer, "name", type(layer).__name__),
        type=layer_type_name(layer) if hasattr(layer, "name") else type(layer).__name__,
        inputs=in_sids, outputs=outs, new_outputs=new_outs, saved=_saved(spec, in_sids, outs) if keeps else [],
        extra=sum(b for b, keep in spec.inter if keep) if keeps else 0.0,
        extra_fixed=spec.inter_fixed if keeps else 0.0,
        temp=sum(b for b, keep in spec.inter if not keep) if keeps else inter_all,
        temp_infer=inter_all, bwd_temp=spec.bwd_temp,
        grad_fixed=float(sum(p.numel() * p.element_size() for p in params if p.requires_grad)),
        requires_grad=requires_grad, grad_inputs=[s for s, r in zip(in_sids, io.in_rg) if r],
        flops=float(counted + spec.flops),
        params=sum(p.numel() for p in params) + sum(b.numel() for b in layer.buffers()),
        out_shape=tensors[call.outputs[0]].shape if call.outputs else (), note=spec.note,
    )


def _loss_op(tr: Trace, st: _Storages, out_keys: list) -> tuple[Op, float]:
    """The loss (a float32 log-softmax / difference of the predictions is kept) and the bytes per
    sample of the labels (part of the batch)."""
    tensors = tr.tensors
    label_bytes = 0.0
    for k in out_keys:
        shape = tensors[k].shape
        label_bytes += 8.0 if (len(shape) == 1 and shape[-1] > 1) else numel(shape) * 4.0
    loss_keys = [k for k in out_keys if st.rg.get(st.of[k])]
    loss_in = list(dict.fromkeys(st.of[k] for k in loss_keys))
    pred_bytes = float(sum(numel(tensors[k].shape) * 4 for k in loss_keys))
    op = Op(name="loss", type="loss", inputs=loss_in, outputs=[], new_outputs=[], saved=[],
            extra=pred_bytes if st.ctx.training else 0.0, extra_fixed=0.0, temp=pred_bytes, temp_infer=0.0,
            bwd_temp=pred_bytes, grad_fixed=0.0, requires_grad=bool(loss_in), grad_inputs=loss_in,
            flops=0.0, params=0, out_shape=())
    return op, label_bytes


def build_graph(model, specs, ctx: Ctx) -> Graph:
    """Trace ``model`` at batch size 1 and turn every layer call into an :class:`Op`."""
    tr = trace(model, specs)
    st = _Storages(ctx)
    for k in tr.inputs:
        t = tr.tensors[k]
        st.of[k] = st.new(numel(t.shape), t.dtype.itemsize)
    ops = [_op(call, tr, st) for call in tr.calls]
    out_keys = [k for k in tr.outputs if k in st.of]
    loss, label_bytes = _loss_op(tr, st, out_keys)
    ops.append(loss)
    last_use: dict[int, int] = {}
    first_saver: dict[int, int] = {}
    for i, op in enumerate(ops):
        for s in op.inputs + op.outputs:
            last_use[s] = i
        for s in op.saved:
            first_saver.setdefault(s, i)
    return Graph(ops, st.size, [st.of[k] for k in tr.inputs], [st.of[k] for k in out_keys], last_use,
                 first_saver, label_bytes)


# ----------------------------------------------------------------------------- replay


@dataclass
class Replay:
    """The result of :func:`replay`: the dynamic peak and where it happens, the parts, the timeline."""

    peak: float  # dynamic peak (on top of weights and optimizer state)
    phase: str
    where: str
    activations: float  # saved at the end of the forward pass
    batch: float
    gradients: float
    timeline: list  # (phase, label, dynamic bytes)


@dataclass
class _State:
    """The live bytes during a replay."""

    graph: Graph
    size: dict
    training: bool
    mem: float
    peak: float
    phase: str = "forward"
    where: str = "input"
    live: set = field(default_factory=set)
    timeline: list = field(default_factory=list)
    extras: list = field(default_factory=list)

    def event(self, phase: str, label: str, now: float, peak_phase: str | None = None) -> None:
        if now > self.peak:
            self.peak, self.phase, self.where = now, peak_phase or phase, label
        self.timeline.append((phase, label, now))


def _forward(s: _State, b: float) -> None:
    g, size, training = s.graph, s.size, s.training
    pinned = set(g.inputs) | set(g.outputs)
    saved_all: set = set()
    for i, op in enumerate(g.ops):
        new = [sid for sid in op.new_outputs if sid not in s.live]
        alloc = sum(size[sid] for sid in new)
        extra = (op.extra * b + op.extra_fixed) if training else 0.0
        temp = (op.temp if training else op.temp_infer) * b
        now = s.mem + alloc + extra + temp
        if now > s.peak:
            s.peak, s.phase, s.where = now, "forward", op.name
        s.live.update(new)
        s.mem += alloc + extra
        s.extras.append(extra)
        if training:
            saved_all.update(op.saved)
        for sid in list(s.live):  # release what no later op reads and backward does not need
            if sid in pinned or g.last_use.get(sid, -1) > i or (training and sid in saved_all):
                continue
            s.live.discard(sid)
            s.mem -= size[sid]
        s.timeline.append(("forward", op.name, now))


def _backward(s: _State, b: float) -> float:
    """Gradients appear as activations are released, in reverse layer order; returns the bytes of
    the weight gradients."""
    g, size = s.graph, s.size
    pinned = set(g.inputs) | set(g.outputs)
    grads: set = set()
    grad_params = 0.0
    for i in range(len(g.ops) - 1, -1, -1):
        op = g.ops[i]
        if not op.requires_grad:
            continue
        new = [sid for sid in dict.fromkeys(op.grad_inputs) if sid not in grads]
        grads.update(new)
        alloc = sum(size[sid] for sid in new)
        s.event("backward", op.name, s.mem + alloc + op.grad_fixed + op.bwd_temp * b)
        s.mem += alloc + op.grad_fixed
        grad_params += op.grad_fixed
        for sid in op.new_outputs:  # gradients of this op's outputs are consumed
            if sid in grads:
                grads.discard(sid)
                s.mem -= size[sid]
        s.mem -= s.extras[i]
        for sid in op.saved:
            if g.first_saver.get(sid) == i and sid not in pinned and sid in s.live:
                s.live.discard(sid)
                s.mem -= size[sid]
    return grad_params


def replay(graph: Graph, batch: int, training: bool, step_temp: float = 0.0) -> Replay:
    """Replay one step at ``batch``: the dynamic memory (activations, batch, gradients,
    transients) after each event, and its maximum."""
    b = float(batch)
    size = {sid: v * b for sid, v in graph.storage_bytes.items()}
    batch_bytes = sum(size[sid] for sid in graph.inputs) + graph.label_bytes * b
    s = _State(graph, size, training, batch_bytes, batch_bytes, live=set(graph.inputs))
    _forward(s, b)
    activations = s.mem - batch_bytes
    if not training:
        return Replay(s.peak, s.phase, s.where, 0.0, batch_bytes, 0.0, s.timeline)
    grad_params = _backward(s, b)
    # anything still alive that is not pinned was an output with no consumer requiring grad
    s.event("step", "optimizer", s.mem + step_temp, peak_phase="optimizer step")
    return Replay(s.peak, s.phase, s.where, activations, batch_bytes, grad_params, s.timeline)
