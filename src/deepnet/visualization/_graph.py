"""Graph extraction: a model's layers as boxes (title, text lines, size) and the edges between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import activations
from ..layers.base import dtype_name
from ..models.graph import layer_graph
from ..models.model import Model
from ..utils import format_shape, nest
from ._style import box_size


@dataclass
class Options:
    """What each box shows besides its title."""

    shapes: bool
    names: bool
    dtype: bool
    trainable: bool
    activations: bool
    params: bool


@dataclass
class Box:
    """One layer's box; ``x``/``y`` (top-left corner) are set by a layout."""

    id: str
    title: str
    lines: list[str]
    kind: str  # "input", "merge", "model" or "layer": picks the colour
    frames: tuple[str, ...]  # ids of the nested-model frames holding this box, outermost first
    w: float = 0.0
    h: float = 0.0
    x: float = 0.0
    y: float = 0.0


@dataclass
class Graph:
    """Boxes, edges ``(source id, target id)`` and nested-model frames ``id -> (label, parents)``."""

    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    frames: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass
class Layered:
    """The graph as ranked vertices: the boxes (``0 .. n_real - 1``), then the edges' waypoints."""

    n_real: int
    n_ranks: int
    rank: list[int]
    cross: list[float]  # extent across the ranks
    frames: list[tuple[str, ...]]
    is_dummy: list[bool]
    chains: list[tuple[int, list[int], bool]]  # (edge index, vertices from source to target, reversed)
    self_loops: list[tuple[int, int]]  # (edge index, box)
    up: list[list[int]]
    down: list[list[int]]


def collect(model, opts: Options, expand: bool) -> Graph:
    """The boxes and (deduplicated) edges of ``model``; nested models are expanded into frames
    when ``expand`` is true."""
    graph = Graph()
    _collect_into(graph, model, opts, expand, prefix="", frames=())
    graph.edges = list(dict.fromkeys(graph.edges))
    for box in graph.boxes:
        box.w, box.h = box_size(box.title, box.lines)
    return graph


def _layers_by_name(model) -> dict[str, Any]:
    out = {}
    first = getattr(model, "_input_layer", None)
    for layer in ([first] if first is not None else []) + list(model.layers):
        out.setdefault(layer.name, layer)
    return out


def _collect_into(graph: Graph, model, opts: Options, expand: bool, prefix: str,
                  frames: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Add ``model``'s boxes and edges; return the ids of its entry and exit boxes."""
    nodes = layer_graph(model)
    layers = _layers_by_name(model)
    ends: dict[str, tuple[list[str], list[str]]] = {}
    for n in nodes:
        layer = layers.get(n.id)
        title = f"{n.name} ({n.type})" if opts.names else n.type
        if expand and isinstance(layer, Model) and layer.built and layer.layers:
            frame = prefix + n.id
            graph.frames[frame] = (title, frames)
            ends[n.id] = _collect_into(graph, layer, opts, expand, frame + "/", frames + (frame,))
        else:
            kind = ("input" if n.type == "InputLayer" else "model" if isinstance(layer, Model)
                    else "merge" if len(set(n.inbound) - {n.id}) > 1 else "layer")
            graph.boxes.append(Box(prefix + n.id, title, box_lines(n, layer, opts), kind, frames))
            ends[n.id] = ([prefix + n.id], [prefix + n.id])
    for n in nodes:
        entries = ends[n.id][0]
        sources = [i for i in n.inbound if i in ends]
        paired = len(entries) > 1 and len(entries) == len(sources)
        for k, src in enumerate(sources):
            for out in ends[src][1]:
                for entry in ([entries[k]] if paired else entries):
                    graph.edges.append((out, entry))
    in_names, out_names = _model_ends(model, nodes)
    entries = [i for name in in_names if name in ends for i in ends[name][0]]
    exits = [i for name in out_names if name in ends for i in ends[name][1]]
    return entries, exits


def _model_ends(model, nodes) -> tuple[list[str], list[str]]:
    """Names of the layers where ``model`` is entered and left."""
    if getattr(model, "_functional", False) and hasattr(model, "_input_struct"):
        ins = (t.node.layer.name for t in nest.flatten(model._input_struct))
        outs = (t.node.layer.name for t in nest.flatten(model._output_struct))
        return list(dict.fromkeys(ins)), list(dict.fromkeys(outs))
    if not nodes:
        return [], []
    consumed = {i for n in nodes for i in n.inbound}
    ins = [n.id for n in nodes if not n.inbound][:1] or [nodes[0].id]
    outs = [n.id for n in nodes if n.id not in consumed][-1:] or [nodes[-1].id]
    return ins, outs


def common_prefix(a: tuple, b: tuple) -> tuple:
    """The frames two boxes share: the longest common prefix of their ``frames``."""
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return a[:k]


# ----------------------------------------------------------------------------- box text


def _format_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_format_shape(v)}" for k, v in shape.items()) + "}"
    return format_shape(shape)


def _is_plain_shape(shape) -> bool:
    return isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape)


def _shape_lines(label: str, shape, width: int) -> list[str]:
    text = _format_shape(shape)
    if isinstance(shape, (list, tuple)) and len(shape) >= 3 and not _is_plain_shape(shape):
        parts = {_format_shape(s) for s in shape}
        if len(parts) == 1:  # e.g. a Concatenate of many equal branches
            return [f"{label:<{width}} {len(shape)} × {parts.pop()}"]
    if len(text) <= 44 or not isinstance(shape, (list, tuple, dict)) or _is_plain_shape(shape):
        return [f"{label:<{width}} {text}"]
    items = shape.items() if isinstance(shape, dict) else enumerate(shape)
    out = [f"{label:<{width}}"]
    for key, s in items:
        prefix = f"{key}: " if isinstance(shape, dict) else ""
        out.append(f"  {prefix}{_format_shape(s)}")
    return out


def _activation_name(act) -> str:
    if isinstance(act, str):
        return act
    name = activations.serialize(act)
    if isinstance(name, dict):
        name = name.get("config", {}).get("name") or name.get("class_name")
    return str(name)


def _rows(n, layer, opts: Options) -> list[tuple[str, Any]]:
    """(label, value) rows of a box; shape values are tagged ``("shape", shape)``."""
    rows: list[tuple[str, Any]] = []
    if opts.shapes:
        if n.type != "InputLayer":
            rows.append(("Input shape:", ("shape", n.input_shape)))
        rows.append(("Output shape:", ("shape", n.output_shape)))
    if layer is not None:
        if opts.activations and getattr(layer, "activation", None) is not None:
            rows.append(("Activation:", _activation_name(layer.activation)))
        if opts.dtype:
            rows.append(("dtype:", dtype_name(layer.dtype)))
        if opts.trainable:
            rows.append(("Trainable:", "True" if layer.trainable else "False"))
    if opts.params:
        rows.append(("Params:", f"{n.params:,}"))
    return rows


def box_lines(n, layer, opts: Options) -> list[str]:
    """The body text of the box of diagram node ``n`` (``layer`` is None when unknown)."""
    rows = _rows(n, layer, opts)
    width = max((len(label) for label, _ in rows), default=0)
    lines: list[str] = []
    for label, value in rows:
        if isinstance(value, tuple) and value and value[0] == "shape":
            lines.extend(_shape_lines(label, value[1], width))
        else:
            lines.append(f"{label:<{width}} {value}")
    return lines
