"""Model diagrams without graphviz: ``plot_model`` lays out a model's layer graph itself.

The layout is a small layered ("Sugiyama") drawing:

1. every box gets a rank, the longest path from the inputs (inputs that feed only deep layers
   are pulled down next to their first consumer);
2. edges spanning several ranks are split by invisible waypoints, one per rank crossed, so they
   run beside the boxes instead of through them;
3. a few barycentre sweeps order each rank to reduce edge crossings (the best ordering seen,
   counted exactly, is kept);
4. edges leave and enter boxes through separate ports, ordered like their far ends;
5. positions across the ranks minimise the weighted misalignment of the edges' two ends under
   the ordering and spacing constraints, one rank at a time (pool-adjacent-violators), with
   iterative reweighting so that most edges come out perfectly straight; long edges are then
   straightened where there is room;
6. orthogonal edges get their own horizontal track in a gap where they would otherwise overlap.

Everything is linear or ``n log n`` per sweep, with a fixed number of sweeps. Text is set in a monospaced font (DejaVu Sans
Mono, which matplotlib ships), so box sizes can be computed exactly without measuring text;
the figure grows with the model instead of shrinking the text.

``.svg`` output is written as text by this module (no matplotlib involved); ``.png`` and
``.pdf`` are drawn with matplotlib's Agg/PDF canvases, imported only when needed.
"""

from __future__ import annotations

import math
import os
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["plot_model"]

SUPPORTED_EXTENSIONS = (".png", ".svg", ".pdf")
RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "curved", "spline", "line", "polyline")

# ----------------------------------------------------------------------------- style (points)
_FONT_SVG = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace"
_FONT_MPL = "DejaVu Sans Mono"
_CHAR_W = 0.602  # advance width of one DejaVu Sans Mono glyph, in em (bold has the same)
_TITLE_SIZE = 11.5
_BODY_SIZE = 10.0
_LINE = 1.45  # line height, in em
_PAD_X = 10.0
_PAD_Y = 5.0
_MIN_W = 110.0
_RADIUS = 5.0
_NODE_GAP = 30.0  # between two boxes of one rank
_DUMMY_W = 6.0  # width taken by an edge passing through a rank
_DUMMY_GAP = 14.0  # between an edge waypoint and its neighbour
_RANK_GAP = 38.0  # between ranks
_TRACK_SEP = 7.0  # between parallel horizontal edge tracks (orthogonal routing)
_PORT_SEP = 12.0  # between edge ports on one side of a box
_ARROW_L = 8.0
_ARROW_W = 3.6
_MARGIN = 16.0
_FRAME_PAD = 10.0
_FRAME_LABEL = 18.0

_COLORS = {
    "layer": "#dbe8f7",
    "input": "#d5f0df",
    "merge": "#fbe3c2",
    "model": "#e7e0f7",
}
_BORDER = "#4a5568"
_TEXT = "#1a202c"
_MUTED = "#2d3748"
_EDGE = "#4a5568"
_FRAME = "#718096"
_BACKGROUND = "#ffffff"

# pixel limits of a raster image (Agg refuses sides of 2**16 px or more)
_MAX_SIDE_PX = 60000
_MAX_PIXELS = 150_000_000


# ----------------------------------------------------------------------------- public API


def plot_model(model, to_file="model.png", show_shapes: bool = True, show_layer_names: bool = True,
               show_dtype: bool = False, show_trainable: bool = False, rankdir: str = "TB", dpi=96,
               expand_nested: bool = False, show_layer_activations: bool = False,
               show_params: bool = False, splines: str = "ortho") -> str:
    """Draw ``model``'s layer graph to ``to_file`` and return the path written.

    Args:
        model: a built deepnet model (Sequential, functional or subclassed-and-called).
        to_file: destination; the extension picks the format: ``.png``, ``.svg`` or ``.pdf``.
        show_shapes: print each layer's input and output shapes.
        show_layer_names: title boxes ``name (Type)`` instead of just ``Type``.
        show_dtype: print each layer's dtype.
        show_trainable: print whether each layer is trainable.
        rankdir: ``"TB"`` (top to bottom), ``"LR"`` (left to right), ``"BT"`` or ``"RL"``.
        dpi: resolution of ``.png`` output (``.svg``/``.pdf`` are vector formats).
        expand_nested: draw the layers of nested models inside a dashed frame.
        show_layer_activations: print the ``activation`` of layers that have one.
        show_params: print each layer's parameter count.
        splines: edge style: ``"ortho"`` (orthogonal, the default), ``"curved"`` or ``"line"``.

    The file is written atomically (a temporary file in the same folder, then renamed).
    """
    path = _check_path(to_file)
    ext = os.path.splitext(path)[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        got = f"extension {ext!r}" if ext else "no extension"
        raise ValueError(
            f"plot_model cannot write {path!r}: {got}. Supported extensions: "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (the extension picks the format)."
        )
    if not isinstance(rankdir, str) or rankdir.upper() not in RANKDIRS:
        raise ValueError(
            f"Received an invalid value for `rankdir` of plot_model, expected one of "
            f"{', '.join(map(repr, RANKDIRS))}. Received: rankdir={rankdir!r}"
        )
    if not isinstance(splines, str) or splines.lower() not in SPLINES:
        raise ValueError(
            f"Received an invalid value for `splines` of plot_model, expected one of "
            f"{', '.join(map(repr, SPLINES))}. Received: splines={splines!r}"
        )
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not math.isfinite(dpi) or dpi <= 0:
        raise ValueError(
            f"Received an invalid value for `dpi` of plot_model, expected a positive number. Received: dpi={dpi!r}"
        )
    _check_model(model)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"plot_model cannot write {path!r}: the folder {folder!r} does not exist.")

    opts = _Options(bool(show_shapes), bool(show_layer_names), bool(show_dtype), bool(show_trainable),
                    bool(show_layer_activations), bool(show_params))
    graph = _collect(model, opts, bool(expand_nested))
    if not graph.boxes:
        raise ValueError(f"plot_model: model {model.name!r} has no layers to draw.")
    drawing = _layout(graph, rankdir.upper(), splines.lower())

    if ext == ".svg":
        data = _render_svg(drawing, getattr(model, "name", "model")).encode("utf-8")
        _atomic_write(path, lambda f: f.write(data))
    else:
        _render_matplotlib(drawing, path, ext[1:], float(dpi))
    return path


# ----------------------------------------------------------------------------- validation


def _check_path(to_file) -> str:
    if isinstance(to_file, (str, os.PathLike)):
        path = os.fspath(to_file)
        if isinstance(path, str) and path:
            return path
    raise TypeError(
        f"plot_model expects `to_file` to be a non-empty path (str or os.PathLike) ending in "
        f"{', '.join(SUPPORTED_EXTENSIONS)}; received {to_file!r}."
    )


def _check_model(model) -> None:
    from ..models.model import Model

    if not isinstance(model, Model):
        raise TypeError(
            f"plot_model expects a deepnet Model (Sequential, functional or subclassed); received "
            f"{type(model).__name__}: {model!r}."
        )
    if not model.built:
        raise ValueError(
            f"plot_model needs a built model: add an Input or call model.build(...). "
            f"Model {model.name!r} is not built yet."
        )


# ----------------------------------------------------------------------------- graph collection


@dataclass
class _Options:
    shapes: bool
    names: bool
    dtype: bool
    trainable: bool
    activations: bool
    params: bool


@dataclass
class _Box:
    id: str
    title: str
    lines: list[str]
    kind: str
    frames: tuple[str, ...]  # ids of the nested-model frames holding this box, outermost first
    w: float = 0.0
    h: float = 0.0
    x: float = 0.0  # top-left corner, after layout
    y: float = 0.0


@dataclass
class _Graph:
    boxes: list[_Box] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    frames: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # id -> (label, parents)


def _layers_by_name(model) -> dict[str, Any]:
    out = {}
    first = getattr(model, "_input_layer", None)
    for layer in ([first] if first is not None else []) + list(model.layers):
        out.setdefault(layer.name, layer)
    return out


def _collect(model, opts: _Options, expand: bool) -> _Graph:
    graph = _Graph()
    _collect_into(graph, model, opts, expand, prefix="", frames=())
    seen, edges = set(), []
    for e in graph.edges:
        if e not in seen:
            seen.add(e)
            edges.append(e)
    graph.edges = edges
    return graph


def _collect_into(graph: _Graph, model, opts: _Options, expand: bool, prefix: str,
                  frames: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Add ``model``'s boxes and edges; return the ids of its entry and exit boxes."""
    from ..models.graph import layer_graph
    from ..models.model import Model
    from ..utils import nest

    nodes = layer_graph(model)
    layers = _layers_by_name(model)
    ends: dict[str, tuple[list[str], list[str]]] = {}
    for n in nodes:
        layer = layers.get(n.id)
        if expand and isinstance(layer, Model) and layer.built and layer.layers:
            frame = prefix + n.id
            graph.frames[frame] = (f"{n.name} ({n.type})" if opts.names else n.type, frames)
            ends[n.id] = _collect_into(graph, layer, opts, expand, frame + "/", frames + (frame,))
        else:
            kind = ("input" if n.type == "InputLayer" else "model" if isinstance(layer, Model)
                    else "merge" if len(set(n.inbound) - {n.id}) > 1 else "layer")
            title = f"{n.name} ({n.type})" if opts.names else n.type
            graph.boxes.append(_Box(prefix + n.id, title, _box_lines(n, layer, opts), kind, frames))
            ends[n.id] = ([prefix + n.id], [prefix + n.id])
    for n in nodes:
        entries = ends[n.id][0]
        sources = [i for i in n.inbound if i in ends]
        paired = len(entries) > 1 and len(entries) == len(sources)
        for k, src in enumerate(sources):
            for out in ends[src][1]:
                for entry in ([entries[k]] if paired else entries):
                    graph.edges.append((out, entry))

    consumed = {i for n in nodes for i in n.inbound}
    if getattr(model, "_functional", False) and hasattr(model, "_input_struct"):
        in_names = _unique(t.node.layer.name for t in nest.flatten(model._input_struct))
        out_names = _unique(t.node.layer.name for t in nest.flatten(model._output_struct))
    else:
        in_names = ([n.id for n in nodes if not n.inbound][:1] or [nodes[0].id]) if nodes else []
        out_names = ([n.id for n in nodes if n.id not in consumed][-1:] or [nodes[-1].id]) if nodes else []
    entries = [i for name in in_names if name in ends for i in ends[name][0]]
    exits = [i for name in out_names if name in ends for i in ends[name][1]]
    return entries, exits


def _unique(items) -> list:
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _format_shape(shape) -> str:
    from ..layers.base import format_shape

    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_format_shape(v)}" for k, v in shape.items()) + "}"
    return format_shape(shape)


def _shape_lines(label: str, shape, width: int) -> list[str]:
    text = _format_shape(shape)
    if isinstance(shape, (list, tuple)) and len(shape) >= 3 and not _is_plain_shape(shape):
        parts = {_format_shape(s) for s in shape}
        if len(parts) == 1:  # e.g. a Concatenate of many equal branches
            text = f"{len(shape)} × {parts.pop()}"
            return [f"{label:<{width}} {text}"]
    if len(text) <= 44 or not isinstance(shape, (list, tuple, dict)) or _is_plain_shape(shape):
        return [f"{label:<{width}} {text}"]
    items = shape.items() if isinstance(shape, dict) else enumerate(shape)
    out = [f"{label:<{width}}"]
    for key, s in items:
        prefix = f"{key}: " if isinstance(shape, dict) else ""
        out.append(f"  {prefix}{_format_shape(s)}")
    return out


def _is_plain_shape(shape) -> bool:
    return isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape)


def _box_lines(n, layer, opts: _Options) -> list[str]:
    rows: list[tuple[str, Any]] = []
    if opts.shapes:
        if n.type != "InputLayer":
            rows.append(("Input shape:", ("shape", n.input_shape)))
        rows.append(("Output shape:", ("shape", n.output_shape)))
    if opts.activations and layer is not None and getattr(layer, "activation", None) is not None:
        rows.append(("Activation:", _activation_name(layer.activation)))
    if opts.dtype and layer is not None:
        from ..layers.base import dtype_name

        rows.append(("dtype:", dtype_name(layer.dtype)))
    if opts.trainable and layer is not None:
        rows.append(("Trainable:", "True" if layer.trainable else "False"))
    if opts.params:
        rows.append(("Params:", f"{n.params:,}"))
    width = max((len(label) for label, _ in rows), default=0)
    lines: list[str] = []
    for label, value in rows:
        if isinstance(value, tuple) and value and value[0] == "shape":
            lines.extend(_shape_lines(label, value[1], width))
        else:
            lines.append(f"{label:<{width}} {value}")
    return lines


def _activation_name(act) -> str:
    from .. import activations

    if isinstance(act, str):
        return act
    name = activations.serialize(act)
    if isinstance(name, dict):
        name = name.get("config", {}).get("name") or name.get("class_name")
    return str(name)


# ----------------------------------------------------------------------------- text metrics


def _text_width(text: str, size: float) -> float:
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return cells * _CHAR_W * size


def _size_box(box: _Box) -> None:
    title_w = _text_width(box.title, _TITLE_SIZE)
    body_w = max((_text_width(s, _BODY_SIZE) for s in box.lines), default=0.0)
    box.w = math.ceil(max(_MIN_W, title_w + 2 * _PAD_X, body_w + 2 * _PAD_X))
    box.h = math.ceil(_header_h() + (len(box.lines) * _BODY_SIZE * _LINE + 2 * _PAD_Y if box.lines else 0))


def _header_h() -> float:
    return _TITLE_SIZE * _LINE + 2 * _PAD_Y


# ----------------------------------------------------------------------------- layout


@dataclass
class _Drawing:
    width: float
    height: float
    prims: list = field(default_factory=list)


def _layout(graph: _Graph, rankdir: str, splines: str) -> _Drawing:
    boxes = graph.boxes
    for b in boxes:
        _size_box(b)
    index = {b.id: i for i, b in enumerate(boxes)}
    n_real = len(boxes)
    horizontal = rankdir in ("LR", "RL")
    main_ext = [b.w if horizontal else b.h for b in boxes]
    cross_ext = [b.h if horizontal else b.w for b in boxes]

    # --- edges: the list order is a dependency order, so an edge pointing backwards in it
    #     (only possible for shared layers) is laid out reversed; self-loops are drawn apart.
    edges, self_loops = [], []
    for k, (s, d) in enumerate(graph.edges):
        i, j = index[s], index[d]
        if i == j:
            self_loops.append((k, i))
        elif i < j:
            edges.append((k, i, j, False))
        else:
            edges.append((k, j, i, True))

    # --- 1. ranks: longest path; pure sources move down next to their first consumer
    preds: list[list[int]] = [[] for _ in range(n_real)]
    succs: list[list[int]] = [[] for _ in range(n_real)]
    for _, u, v, _ in edges:
        succs[u].append(v)
        preds[v].append(u)
    rank = [0] * n_real
    for v in range(n_real):
        if preds[v]:
            rank[v] = max(rank[u] for u in preds[v]) + 1
    for v in range(n_real):
        if not preds[v] and succs[v]:
            rank[v] = max(rank[v], min(rank[w] for w in succs[v]) - 1)
    n_ranks = max(rank) + 1

    # --- 2. waypoints ("dummies") for edges spanning several ranks
    is_dummy = [False] * n_real
    v_rank = list(rank)
    v_cross = list(cross_ext)
    v_frames = [b.frames for b in boxes]
    chains = []  # (edge key, [vertices], reversed)
    for key, u, v, rev in edges:
        chain = [u]
        common = _common_prefix(boxes[u].frames, boxes[v].frames)
        for r in range(rank[u] + 1, rank[v]):
            is_dummy.append(True)
            v_rank.append(r)
            v_cross.append(_DUMMY_W)
            v_frames.append(common)
            chain.append(len(v_rank) - 1)
        chain.append(v)
        chains.append((key, chain, rev))
    n_vert = len(v_rank)
    up: list[list[int]] = [[] for _ in range(n_vert)]
    down: list[list[int]] = [[] for _ in range(n_vert)]
    for _, chain, _ in chains:
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)

    # --- 3. ordering within ranks: DFS order, then barycentre sweeps keeping the best
    layers = _initial_order(n_vert, v_rank, n_ranks, down)
    layers = _reduce_crossings(layers, up, down)

    # --- 4. ports (edges leave/enter a box at separate points, ordered like their far ends),
    #        positions across ranks, then long edges made straight where there is room
    where = {v: i for layer in layers for i, v in enumerate(layer)}
    out_off: dict[tuple[int, int], float] = {}
    in_off: dict[tuple[int, int], float] = {}
    leaving: list[list[tuple[int, int]]] = [[] for _ in range(n_real)]
    entering: list[list[tuple[int, int]]] = [[] for _ in range(n_real)]
    for ci, (_, chain, _) in enumerate(chains):
        leaving[chain[0]].append((where[chain[1]], ci))
        entering[chain[-1]].append((where[chain[-2]], ci))
    for v in range(n_real):
        for side, store in ((leaving, out_off), (entering, in_off)):
            items = sorted(side[v])
            for (_, ci), off in zip(items, _spread(0.0, cross_ext[v], len(items))):
                store[(v, ci)] = off
    up_d: list[list[tuple[int, int, float]]] = [[] for _ in range(n_vert)]
    down_d: list[list[tuple[int, int, float]]] = [[] for _ in range(n_vert)]
    base_w: list[float] = []
    for ci, (_, chain, _) in enumerate(chains):
        last = len(chain) - 2
        for k, (a, b) in enumerate(zip(chain, chain[1:])):
            # box-to-box edges pull hardest, a long edge's inner stretch stays straight, and its
            # ends hardly pull the boxes (the long edge moves aside, not the chain of boxes)
            base_w.append(8.0 if is_dummy[a] and is_dummy[b] else 0.1 if is_dummy[a] or is_dummy[b] else 3.0)
            oa = out_off[(a, ci)] if k == 0 else 0.0
            ob = in_off[(b, ci)] if k == last else 0.0
            down_d[a].append((b, len(base_w) - 1, ob - oa))
            up_d[b].append((a, len(base_w) - 1, oa - ob))
    sep = _Spacing(v_cross, is_dummy, v_frames, horizontal)
    pos = _assign_cross(layers, up_d, down_d, base_w, sep, sweeps=12 if n_vert <= 3000 else 6)
    _straighten(chains, layers, up_d, pos, sep, out_off, in_off)

    # --- 5. routing, main-axis positions, drawing
    return _route_and_draw(graph, boxes, layers, pos, chains, self_loops, v_rank, n_ranks, is_dummy,
                           v_frames, main_ext, cross_ext, rankdir, splines, out_off, in_off)


def _initial_order(n_vert, v_rank, n_ranks, down) -> list[list[int]]:
    seq = [-1] * n_vert
    counter = 0
    for start in range(n_vert):
        if seq[start] >= 0:
            continue
        stack = [start]
        while stack:
            v = stack.pop()
            if seq[v] >= 0:
                continue
            seq[v] = counter
            counter += 1
            stack.extend(w for w in reversed(down[v]) if seq[w] < 0)
    layers: list[list[int]] = [[] for _ in range(n_ranks)]
    for v in sorted(range(n_vert), key=seq.__getitem__):
        layers[v_rank[v]].append(v)
    return layers


def _count_crossings(layers, down) -> int:
    total = 0
    where = {}
    for layer in layers:
        for i, v in enumerate(layer):
            where[v] = i
    for r in range(len(layers) - 1):
        pairs = sorted((where[a], where[b]) for a in layers[r] for b in down[a])
        total += _inversions([b for _, b in pairs], len(layers[r + 1]))
    return total


def _inversions(seq: list[int], size: int) -> int:
    """Pairs i < j with seq[i] > seq[j] (Fenwick tree, n log n)."""
    tree = [0] * (size + 1)
    count = 0
    for seen, value in enumerate(seq):
        i = value + 1
        le = 0
        while i > 0:
            le += tree[i]
            i -= i & -i
        count += seen - le
        i = value + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _reduce_crossings(layers, up, down, sweeps: int = 8) -> list[list[int]]:
    best = [list(layer) for layer in layers]
    best_count = _count_crossings(best, down)
    where = {v: i for layer in layers for i, v in enumerate(layer)}
    for sweep in range(sweeps):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        order = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for r in order:
            nbrs = up if downward else down
            keys = {}
            for v in layers[r]:
                ns = nbrs[v]
                keys[v] = (sum(where[w] for w in ns) / len(ns)) if ns else float(where[v])
            layers[r].sort(key=lambda v: (keys[v], where[v]))
            for i, v in enumerate(layers[r]):
                where[v] = i
        count = _count_crossings(layers, down)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    return best


def _common_prefix(a: tuple, b: tuple) -> tuple:
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return a[:k]


class _Spacing:
    """Least distance between the centres of two neighbours in a rank (room for the frames of
    nested models that separate them, and for a frame's label when ranks run left-right)."""

    def __init__(self, v_cross, is_dummy, v_frames, horizontal: bool):
        self.v_cross, self.is_dummy, self.v_frames, self.horizontal = v_cross, is_dummy, v_frames, horizontal

    def __call__(self, a: int, b: int) -> float:
        gap = _DUMMY_GAP if self.is_dummy[a] or self.is_dummy[b] else _NODE_GAP
        fa, fb = self.v_frames[a], self.v_frames[b]
        if fa != fb:
            k = len(_common_prefix(fa, fb))
            gap += (len(fa) - k + len(fb) - k) * (_FRAME_PAD + 4)
            if self.horizontal:
                gap += (len(fb) - k) * _FRAME_LABEL
        return (self.v_cross[a] + self.v_cross[b]) / 2 + gap


def _assign_cross(layers, up, down, base_w, sep: _Spacing, sweeps: int = 12, rounds: int = 4) -> list[float]:
    """Positions across the ranks: ``up[v]``/``down[v]`` list ``(neighbour, edge, delta)`` where
    edge ``e`` wants ``pos[v] == pos[neighbour] + delta`` with weight ``base_w[e]``.

    Block coordinate descent (each rank solved exactly under its spacing constraints) on the
    weighted squared misalignments; the weights are then re-scaled by 1/|misalignment| a few
    times (iteratively reweighted least squares), which approximates the absolute-value
    objective: jogs gather on few edges and most edges come out perfectly straight."""
    import numpy as np

    n = len(sep.v_cross)
    pos = np.zeros(n)
    seps = []
    for layer in layers:
        s = [sep(a, b) for a, b in zip(layer, layer[1:])]
        seps.append(s)
        x = -sum(s) / 2
        for i, v in enumerate(layer):
            pos[v] = x
            if i < len(s):
                x += s[i]
    # per rank, the incident edge ends as flat arrays: (index in rank, neighbour, edge, delta)
    tables = []
    for layer in layers:
        both, parents = [], []
        for i, v in enumerate(layer):
            for u, e, delta in up[v]:
                both.append((i, u, e, delta))
                parents.append((i, u, e, delta))
            for u, e, delta in down[v]:
                both.append((i, u, e, delta))
        tables.append(tuple(_edge_table(t) for t in (parents, both)))
    layer_idx = [np.asarray(layer, dtype=np.int64) for layer in layers]
    offsets = [np.concatenate([[0.0], np.cumsum(sp)]) for sp in seps]
    base = np.asarray(base_w, dtype=float)
    weight = base.copy()
    first = True
    for rnd in range(rounds):
        for it in range(sweeps):
            ranks = range(len(layers)) if it % 2 == 0 else range(len(layers) - 1, -1, -1)
            moved = 0.0
            for r in ranks:
                idx = layer_idx[r]
                loc, nbr, edge, delta = tables[r][0 if first else 1]  # the first sweep follows parents only
                w = weight[edge]
                den = np.bincount(loc, w, minlength=len(idx))
                num = np.bincount(loc, w * (pos[nbr] + delta), minlength=len(idx))
                has = den > 0
                targets = np.where(has, num / np.where(has, den, 1.0), pos[idx])
                y = targets - offsets[r]
                if len(y) < 2 or bool((y[1:] >= y[:-1]).all()):
                    new = targets  # already far enough apart: nothing to pool
                else:
                    new = np.asarray(_pav(targets.tolist(), np.where(has, den, 1e-3).tolist(), seps[r]))
                moved = max(moved, float(np.abs(new - pos[idx]).max(initial=0.0)))
                pos[idx] = new
            first = False
            if moved < 0.05:
                break
        if rnd < rounds - 1:
            for v in range(n):
                for u, e, delta in up[v]:
                    weight[e] = base[e] / max(abs(pos[v] - pos[u] - delta), 1.0)
    return pos.tolist()


def _edge_table(rows):
    import numpy as np

    if not rows:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    loc, nbr, edge, delta = zip(*rows)
    return (np.asarray(loc, np.int64), np.asarray(nbr, np.int64), np.asarray(edge, np.int64),
            np.asarray(delta, float))


def _pav(targets, weights, seps) -> list[float]:
    """Minimise sum w_i (x_i - t_i)^2 subject to x_{i+1} - x_i >= seps[i] (pool adjacent violators)."""
    vals: list[float] = []
    wts: list[float] = []
    cnts: list[int] = []
    offsets = [0.0]
    c = 0.0
    for s in seps:
        c += s
        offsets.append(c)
    for t, w, c in zip(targets, weights, offsets):
        v = t - c
        n = 1
        while vals and vals[-1] > v:
            pw = wts.pop()
            v = (vals.pop() * pw + v * w) / (pw + w)
            w += pw
            n += cnts.pop()
        vals.append(v)
        wts.append(w)
        cnts.append(n)
    out: list[float] = []
    for v, n in zip(vals, cnts):
        out.extend([v] * n)
    return [y + c for y, c in zip(out, offsets)]


def _straighten(chains, layers, up, pos, sep: _Spacing, out_off, in_off) -> None:
    """Put the waypoints of each long edge on one line when their neighbours leave room."""
    where = {v: (r, i) for r, layer in enumerate(layers) for i, v in enumerate(layer)}

    def fits(d: int, c: float) -> bool:
        r, i = where[d]
        layer = layers[r]
        if i > 0 and pos[layer[i - 1]] + sep(layer[i - 1], d) > c + 1e-6:
            return False
        if i + 1 < len(layer) and c + sep(d, layer[i + 1]) > pos[layer[i + 1]] + 1e-6:
            return False
        return True

    # tiny misalignments (left over by the numeric solution) become exact where there is room
    for layer in layers:
        for v in layer:
            for u, _, delta in up[v]:
                c = pos[u] + delta
                if 0 < abs(pos[v] - c) < 2.0 and fits(v, c):
                    pos[v] = c
                    break

    for ci, (_, chain, _) in enumerate(chains):
        dummies = chain[1:-1]
        if not dummies:
            continue
        values = sorted(pos[d] for d in dummies)
        candidates = [pos[chain[0]] + out_off[(chain[0], ci)], pos[chain[-1]] + in_off[(chain[-1], ci)],
                      values[len(values) // 2], pos[dummies[0]], pos[dummies[-1]]]
        for c in candidates:
            if all(fits(d, c) for d in dummies):
                for d in dummies:
                    pos[d] = c
                break


def _spread(center: float, extent: float, k: int) -> list[float]:
    if k <= 1:
        return [center] * k
    step = min(_PORT_SEP, max(extent - 2 * _RADIUS - 4, 0) / (k - 1))
    return [center + (i - (k - 1) / 2) * step for i in range(k)]


def _route_and_draw(graph, boxes, layers, pos, chains, self_loops, v_rank, n_ranks, is_dummy,
                    v_frames, main_ext, cross_ext, rankdir, splines, out_off, in_off) -> _Drawing:
    n_real = len(boxes)
    out_port = {key: pos[key[0]] + off for key, off in out_off.items()}
    in_port = {key: pos[key[0]] + off for key, off in in_off.items()}

    # per-chain points in (main, cross) with the main coordinate still symbolic: ("start"/"end", rank)
    routes = []
    for ci, (_key, chain, _rev) in enumerate(chains):
        pts = [(("box_end", chain[0]), out_port[(chain[0], ci)])]
        for d in chain[1:-1]:
            pts.append((("row_start", v_rank[d]), pos[d]))
            pts.append((("row_end", v_rank[d]), pos[d]))
        pts.append((("box_start", chain[-1]), in_port[(chain[-1], ci)]))
        routes.append(pts)

    # orthogonal tracks: one per overlapping horizontal run in each gap
    ortho = splines == "ortho"
    tracks: dict[tuple[int, int], int] = {}  # (route, segment index) -> track
    n_tracks = [1] * max(n_ranks - 1, 1)
    if ortho:
        per_gap: list[list[tuple[float, float, int, int]]] = [[] for _ in range(max(n_ranks - 1, 1))]
        for ri, pts in enumerate(routes):
            for si in range(0, len(pts) - 1, 2):  # even segments cross a gap
                (ma, ca), (_, cb) = pts[si], pts[si + 1]
                if abs(ca - cb) > 0.5:
                    per_gap[_gap_of(ma, v_rank)].append((min(ca, cb), max(ca, cb), ca > cb, ri, si))
        for g, runs in enumerate(per_gap):
            n_tracks[g] = max(_assign_tracks(runs, tracks), 1)

    # main-axis coordinates of ranks; gaps where frames of nested models open or close get room
    # for the frame padding (and its label, on the side the label sits: the top of the figure)
    row_ext = [0.0] * n_ranks
    for v in range(n_real):
        row_ext[v_rank[v]] = max(row_ext[v_rank[v]], main_ext[v])
    frame_span: dict[str, list[int]] = {}
    for v, fr in enumerate(v_frames):
        for f in fr:
            span = frame_span.setdefault(f, [v_rank[v], v_rank[v]])
            span[0], span[1] = min(span[0], v_rank[v]), max(span[1], v_rank[v])
    opens = [0.0] * (n_ranks + 1)  # extra room before rank r
    for lo_r, hi_r in frame_span.values():
        opens[lo_r] += _FRAME_PAD + 4 + (_FRAME_LABEL if rankdir == "TB" else 0)
        opens[hi_r + 1] += _FRAME_PAD + 4 + (_FRAME_LABEL if rankdir == "BT" else 0)
    row_start = [0.0] * n_ranks
    m = opens[0]
    for r in range(n_ranks):
        row_start[r] = m
        m += row_ext[r]
        if r < n_ranks - 1:
            g = max(_RANK_GAP, 12 + _ARROW_L + 10 + (n_tracks[r] - 1) * _TRACK_SEP) if ortho else _RANK_GAP
            m += g + opens[r + 1]
    main_total = m + opens[n_ranks]

    def main_of(sym) -> float:
        kind, x = sym
        if kind == "row_start":
            return row_start[x]
        if kind == "row_end":
            return row_start[x] + row_ext[x]
        r = v_rank[x]
        start = row_start[r] + (row_ext[r] - main_ext[x]) / 2
        return start if kind == "box_start" else start + main_ext[x]

    def track_main(gap: int, t: int) -> float:
        lo = row_start[gap] + row_ext[gap] + 12
        hi = row_start[gap + 1] - _ARROW_L - 10
        n = n_tracks[gap]
        return (lo + hi) / 2 if n == 1 else lo + (hi - lo) * t / (n - 1)

    def xy(mm: float, cc: float) -> tuple[float, float]:
        if rankdir == "TB":
            return cc, mm
        if rankdir == "BT":
            return cc, main_total - mm
        if rankdir == "LR":
            return mm, cc
        return main_total - mm, cc

    for v, b in enumerate(boxes):
        m0 = main_of(("box_start", v))
        x0, y0 = xy(m0, pos[v] - cross_ext[v] / 2)
        x1, y1 = xy(m0 + main_ext[v], pos[v] + cross_ext[v] / 2)
        b.x, b.y = min(x0, x1), min(y0, y1)

    prims: list = []
    if graph.frames:
        rects = [(b.frames, b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes]
        for v in range(n_real, len(pos)):
            r = v_rank[v]
            x0, y0 = xy(row_start[r], pos[v] - _DUMMY_W / 2)
            x1, y1 = xy(row_start[r] + row_ext[r], pos[v] + _DUMMY_W / 2)
            rects.append((v_frames[v], min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        _draw_frames(prims, graph, rects)

    # edges
    for ri, (key, _chain, rev) in enumerate(chains):
        pts = routes[ri]
        cmds: list[tuple] = []
        mc = [(main_of(sym), c) for sym, c in pts]
        cur = mc[0]
        cmds.append(("M", *xy(*cur)))
        for si in range(len(mc) - 1):
            a, b = mc[si], mc[si + 1]
            if si % 2 == 1:  # inside a row, along a waypoint
                cmds.append(("L", *xy(*b)))
                continue
            if abs(a[1] - b[1]) <= 0.5 or splines in ("line", "polyline"):
                cmds.append(("L", *xy(*b)))
            elif ortho:
                tm = track_main(_gap_of(pts[si][0], v_rank), tracks[(ri, si)])
                cmds.append(("L", *xy(tm, a[1])))
                cmds.append(("L", *xy(tm, b[1])))
                cmds.append(("L", *xy(*b)))
            else:
                d = (b[0] - a[0]) / 2
                cmds.append(("C", *xy(a[0] + d, a[1]), *xy(b[0] - d, b[1]), *xy(*b)))
        if rev:
            cmds = _reverse_path(cmds)
        src, dst = graph.edges[key]
        prims.extend(_edge_prims(cmds, src, dst))
    for key, v in self_loops:
        b = boxes[v]
        x, y = b.x + b.w, b.y + b.h / 2
        cmds = [("M", x, y - 8), ("C", x + 30, y - 22, x + 30, y + 22, x, y + 8)]
        src, dst = graph.edges[key]
        prims.extend(_edge_prims(cmds, src, dst))

    for b in boxes:
        prims.extend(_box_prims(b))
    return _normalise(prims, boxes)


def _normalise(prims: list, boxes: list[_Box]) -> _Drawing:
    """Move everything so the drawing starts at the margin; size the canvas to fit."""
    xs, ys = [], []
    for p in prims:
        if p[0] == "path":
            for c in p[1]:
                xs.extend(c[1::2])
                ys.extend(c[2::2])
    x0, y0 = min(xs), min(ys)
    dx, dy = _MARGIN - x0, _MARGIN - y0
    moved = []
    for p in prims:
        if p[0] == "path":
            cmds = [(c[0], *[v + (dx if i % 2 == 0 else dy) for i, v in enumerate(c[1:])]) for c in p[1]]
            moved.append((p[0], cmds, *p[2:]))
        elif p[0] == "text":
            moved.append((p[0], p[1] + dx, p[2] + dy, *p[3:]))
        else:
            moved.append(p)
    for b in boxes:
        b.x += dx
        b.y += dy
    drawing = _Drawing(max(xs) - x0 + 2 * _MARGIN, max(ys) - y0 + 2 * _MARGIN)
    drawing.prims = [("rect_bg", drawing.width, drawing.height), *moved]
    return drawing


def _assign_tracks(runs, tracks: dict) -> int:
    """First-fit tracks (0 = nearest the upper rank) for the horizontal runs of one gap.

    Runs heading towards smaller cross coordinates are stacked with the leftmost on top and
    runs heading the other way with the rightmost on top: nested fans (one box to many, or
    many to one) then cross nothing."""
    placed: list[list[tuple[float, float]]] = []
    backward = sorted((r for r in runs if r[2]), key=lambda r: (r[0], r[1]))
    forward = sorted((r for r in runs if not r[2]), key=lambda r: (-r[1], -r[0]))
    for lo, hi, _, ri, si in backward + forward:
        free = next((k for k, spans in enumerate(placed)
                     if all(hi + _TRACK_SEP < a or b + _TRACK_SEP < lo for a, b in spans)), len(placed))
        if free == len(placed):
            placed.append([])
        placed[free].append((lo, hi))
        tracks[(ri, si)] = free
    return len(placed)


def _gap_of(sym, v_rank) -> int:
    kind, x = sym
    return v_rank[x] if kind == "box_end" else x


def _reverse_path(cmds: list[tuple]) -> list[tuple]:
    """The same curve, walked from its end to its start."""
    cur = cmds[0][1:3]
    segs = []
    for c in cmds[1:]:
        if c[0] == "L":
            segs.append(("L", [cur, c[1:3]]))
            cur = c[1:3]
        elif c[0] == "C":
            segs.append(("C", [cur, c[1:3], c[3:5], c[5:7]]))
            cur = c[5:7]
    out = [("M", *cur)]
    for kind, ps in reversed(segs):
        ps = ps[::-1]
        if kind == "L":
            out.append(("L", *ps[1]))
        else:
            out.append(("C", *ps[1], *ps[2], *ps[3]))
    return out


def _edge_prims(cmds: list[tuple], src: str, dst: str) -> list:
    last = cmds[-1]
    end = last[-2:]
    if last[0] == "C":
        prev = last[3:5]
        if math.dist(prev, end) < 1e-6:
            prev = last[1:3]
    else:
        prev = cmds[-2][-2:]
    dx, dy = end[0] - prev[0], end[1] - prev[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    base = (end[0] - ux * _ARROW_L, end[1] - uy * _ARROW_L)
    # stop the line at the arrow's base so it does not poke through the tip
    trimmed = list(cmds)
    if last[0] == "C":
        trimmed[-1] = (*last[:5], *base)
    else:
        trimmed[-1] = (last[0], *base)
    head = [("M", *end),
            ("L", base[0] - uy * _ARROW_W, base[1] + ux * _ARROW_W),
            ("L", base[0] + uy * _ARROW_W, base[1] - ux * _ARROW_W), ("Z",)]
    return [
        ("path", trimmed, None, _EDGE, 1.3, None, "edge", {"data-source": src, "data-target": dst}),
        ("path", head, _EDGE, _EDGE, 0.8, None, "arrowhead", {}),
    ]


def _rounded_rect(x, y, w, h, r, top=True, bottom=True) -> list[tuple]:
    rt, rb = (r if top else 0.0), (r if bottom else 0.0)
    return [
        ("M", x + rt, y), ("L", x + w - rt, y), ("Q", x + w, y, x + w, y + rt),
        ("L", x + w, y + h - rb), ("Q", x + w, y + h, x + w - rb, y + h),
        ("L", x + rb, y + h), ("Q", x, y + h, x, y + h - rb),
        ("L", x, y + rt), ("Q", x, y, x + rt, y), ("Z",),
    ]


def _box_prims(b: _Box) -> list:
    prims: list = [("group", "node", b.id, b.title)]
    head_h = _header_h()
    fill = _COLORS[b.kind]
    if b.lines:
        prims.append(("path", _rounded_rect(b.x, b.y, b.w, b.h, _RADIUS), _BACKGROUND, None, 0, None, "box", {}))
        prims.append(("path", _rounded_rect(b.x, b.y, b.w, head_h, _RADIUS, bottom=False), fill, None, 0, None,
                      "header", {}))
        prims.append(("path", [("M", b.x, b.y + head_h), ("L", b.x + b.w, b.y + head_h)], None, _BORDER, 0.8,
                      None, "rule", {}))
    else:
        prims.append(("path", _rounded_rect(b.x, b.y, b.w, b.h, _RADIUS), fill, None, 0, None, "box", {}))
    prims.append(("path", _rounded_rect(b.x, b.y, b.w, b.h, _RADIUS), None, _BORDER, 1.1, None, "border", {}))
    baseline = b.y + _PAD_Y + _TITLE_SIZE * (_LINE / 2 + 0.35)
    prims.append(("text", b.x + b.w / 2, baseline, b.title, _TITLE_SIZE, True, _TEXT, "middle", "title"))
    y = b.y + head_h + _PAD_Y
    for line in b.lines:
        prims.append(("text", b.x + _PAD_X, y + _BODY_SIZE * (_LINE / 2 + 0.35), line, _BODY_SIZE, False, _MUTED,
                      "start", "label"))
        y += _BODY_SIZE * _LINE
    prims.append(("endgroup",))
    return prims


def _draw_frames(prims: list, graph: _Graph, rects: list) -> None:
    """Dashed frames around the members (boxes and edge waypoints) of each nested model."""
    members: dict[str, list] = {}
    for frames, *rect in rects:
        for f in frames:
            members.setdefault(f, []).append(rect)
    bounds: dict[str, list[float]] = {}
    # deepest frames first, so a parent frame encloses its children's frames
    for fid in sorted(members, key=lambda f: -len(graph.frames[f][1])):
        rs = members[fid]
        x0, y0 = min(r[0] for r in rs), min(r[1] for r in rs)
        x1, y1 = max(r[2] for r in rs), max(r[3] for r in rs)
        for child, (_, parents) in graph.frames.items():
            if parents and parents[-1] == fid and child in bounds:
                cx0, cy0, cx1, cy1 = bounds[child]
                x0, y0, x1, y1 = min(x0, cx0), min(y0, cy0), max(x1, cx1), max(y1, cy1)
        x0, y0, x1, y1 = x0 - _FRAME_PAD, y0 - _FRAME_PAD - _FRAME_LABEL, x1 + _FRAME_PAD, y1 + _FRAME_PAD
        x1 = max(x1, x0 + _text_width(graph.frames[fid][0], _BODY_SIZE) + 16)
        bounds[fid] = [x0, y0, x1, y1]
    for fid in sorted(bounds, key=lambda f: len(graph.frames[f][1])):
        x0, y0, x1, y1 = bounds[fid]
        label = graph.frames[fid][0]
        prims.append(("group", "cluster", fid, label))
        prims.append(("path", _rounded_rect(x0, y0, x1 - x0, y1 - y0, _RADIUS + 2), "#f7f7fb", _FRAME, 1.0,
                      (4, 3), "frame", {}))
        prims.append(("text", x0 + 8, y0 + 13, label, _BODY_SIZE, True, _FRAME, "start", "frame-label"))
        prims.append(("endgroup",))


# ----------------------------------------------------------------------------- renderers


def _fmt(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _svg_d(cmds: list[tuple]) -> str:
    parts = []
    for c in cmds:
        parts.append(c[0] + (" " + " ".join(_fmt(v) for v in c[1:]) if len(c) > 1 else ""))
    return " ".join(parts)


def _render_svg(drawing: _Drawing, title: str) -> str:
    w, h = _fmt(drawing.width), _fmt(drawing.height)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" '
        f'font-family="{escape(_FONT_SVG)}">',
        f"<title>{escape(str(title))}</title>",
    ]
    for p in drawing.prims:
        kind = p[0]
        if kind == "rect_bg":
            out.append(f'<rect class="background" x="0" y="0" width="{w}" height="{h}" fill="{_BACKGROUND}"/>')
        elif kind == "group":
            out.append(f'<g class="{p[1]}" id="{escape(p[1] + "-" + p[2])}"><title>{escape(p[3])}</title>')
        elif kind == "endgroup":
            out.append("</g>")
        elif kind == "path":
            _, cmds, fill, stroke, lw, dash, cls, attrs = p
            extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items())
            style = f'fill="{fill or "none"}"'
            if stroke:
                style += f' stroke="{stroke}" stroke-width="{_fmt(lw)}" stroke-linejoin="round" stroke-linecap="round"'
            if dash:
                style += f' stroke-dasharray="{" ".join(_fmt(d) for d in dash)}"'
            out.append(f'<path class="{cls}" d="{_svg_d(cmds)}" {style}{extra}/>')
        elif kind == "text":
            _, x, y, s, size, bold, color, anchor, cls = p
            weight = ' font-weight="bold"' if bold else ""
            out.append(
                f'<text class="{cls}" x="{_fmt(x)}" y="{_fmt(y)}" font-size="{_fmt(size)}"{weight} '
                f'fill="{color}" text-anchor="{anchor}" xml:space="preserve" style="white-space:pre">'
                f"{escape(s)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _render_matplotlib(drawing: _Drawing, path: str, fmt: str, dpi: float) -> None:
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PathCollection
        from matplotlib.figure import Figure
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path
    except ImportError as e:  # pragma: no cover - matplotlib is a dependency of deepnet
        raise ImportError(
            f"plot_model needs matplotlib to write .{fmt} files ({e}). Install it with "
            "`pip install matplotlib`, or write an .svg file, which needs nothing extra."
        ) from e

    w_in, h_in = drawing.width / 72.0, drawing.height / 72.0
    if fmt == "png":
        side = max(w_in, h_in) * dpi
        pixels = w_in * h_in * dpi * dpi
        limit = min(_MAX_SIDE_PX / side, math.sqrt(_MAX_PIXELS / pixels), 1.0)
        if limit < 1.0:
            new_dpi = max(int(dpi * limit), 1)
            warnings.warn(
                f"plot_model: the diagram is {drawing.width:.0f}x{drawing.height:.0f} pt; at dpi={dpi:g} the PNG "
                f"would exceed the raster size limits, so it is drawn at dpi={new_dpi}. Write an .svg or .pdf "
                "file for a full-resolution vector drawing.",
                stacklevel=3,
            )
            dpi = new_dpi

    fig = Figure(figsize=(w_in, h_in), dpi=dpi, facecolor=_BACKGROUND)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, drawing.width)
    ax.set_ylim(drawing.height, 0)
    ax.set_axis_off()
    codes_of = {"M": (Path.MOVETO, 1), "L": (Path.LINETO, 1), "Q": (Path.CURVE3, 2), "C": (Path.CURVE4, 3)}

    def to_path(cmds) -> Path:
        verts, codes = [], []
        for c in cmds:
            if c[0] == "Z":
                verts.append(verts[-1] if verts else (0.0, 0.0))
                codes.append(Path.CLOSEPOLY)
                continue
            code, npts = codes_of[c[0]]
            for i in range(npts):
                verts.append((c[1 + 2 * i], c[2 + 2 * i]))
                codes.append(code)
        return Path(verts, codes)

    # one collection per kind of shape (drawn in order: frames, edges, boxes, text), which is
    # much faster than one artist per shape; boxes never overlap, so order inside a kind is free
    groups: dict[tuple, list] = {}
    order: list[tuple] = []
    texts = []
    for p in drawing.prims:
        if p[0] == "path":
            _, cmds, fill, stroke, lw, dash, cls, _attrs = p
            key = (cls, lw if stroke else 0, tuple(dash) if dash else None)
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append((to_path(cmds), fill or "none", stroke or "none"))
        elif p[0] == "text":
            texts.append(p)
    for z, key in enumerate(order):
        _cls, lw, dash = key
        items = groups[key]
        coll = PathCollection([it[0] for it in items], facecolors=[it[1] for it in items],
                              edgecolors=[it[2] for it in items], linewidths=lw, zorder=z,
                              joinstyle="round", capstyle="round")
        if dash:
            coll.set_linestyle((0, dash))
        ax.add_collection(coll, autolim=False)
    # text as DejaVu Sans Mono glyph outlines, cached per character (far faster than one text
    # artist per line): for PNG one compound path per colour and weight; for PDF each glyph
    # becomes a marker, which the PDF backend stores once and places by reference
    if fmt == "png":
        for (color, _bold), outline in _glyph_paths(texts, Path).items():
            ax.add_artist(PathPatch(outline, facecolor=color, edgecolor="none", linewidth=0, zorder=len(order) + 1))
    else:
        _glyph_markers(ax, texts, Path, zorder=len(order) + 1)

    if fmt == "png":
        # Agg renders; the PNG is encoded here (Up filter + zlib), several times faster than
        # the default encoder on the tall images that deep models give
        canvas = fig.canvas
        canvas.draw()
        data = _encode_png(np.asarray(canvas.buffer_rgba()), dpi)
        _atomic_write(path, lambda f: f.write(data))
    else:
        _atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=dpi, facecolor=_BACKGROUND))


def _encode_png(rgba, dpi: float) -> bytes:
    """An 8-bit RGB PNG of an (h, w, 4) uint8 array (alpha dropped: the background is opaque)."""
    import struct
    import zlib

    import numpy as np

    h, w = rgba.shape[:2]
    rows = np.ascontiguousarray(rgba[..., :3]).reshape(h, w * 3)
    filtered = np.empty((h, w * 3 + 1), dtype=np.uint8)
    filtered[:, 0] = 2  # "Up" filter: each row minus the row above
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ppm = int(round(dpi / 0.0254))
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)),
        chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        chunk(b"IDAT", zlib.compress(filtered.tobytes(), 3)),
        chunk(b"IEND", b""),
    ])


_GLYPHS: dict[tuple[str, bool], Any] = {}


def _glyph(ch: str, bold: bool):
    key = (ch, bold)
    if key not in _GLYPHS:
        import numpy as np
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import text_to_path

        prop = FontProperties(family=_FONT_MPL, weight="bold" if bold else "normal")
        verts, codes = ([], []) if ch.isspace() else text_to_path.get_text_path(prop, ch)
        _GLYPHS[key] = ((np.asarray(verts, dtype=float) / text_to_path.FONT_SCALE,
                         np.asarray(codes, dtype=np.uint8)) if len(verts) else None)
    return _GLYPHS[key]


def _glyph_paths(texts, Path) -> dict:
    """Text items as filled outlines: {(colour, bold): Path} in drawing coordinates (y down)."""
    import numpy as np

    parts: dict[tuple[str, bool], tuple[list, list]] = {}
    for _, x, y, s, size, bold, color, anchor, _cls in texts:
        advance = _CHAR_W * size
        cx = x - _text_width(s, size) / 2 if anchor == "middle" else x
        verts, codes = parts.setdefault((color, bold), ([], []))
        for ch in s:
            g = _glyph(ch, bold)
            if g is not None:
                v = g[0] * size
                v[:, 1] *= -1
                v += (cx, y)
                verts.append(v)
                codes.append(g[1])
            cx += advance * (2 if unicodedata.east_asian_width(ch) in "WF" else 1)
    return {key: Path(np.concatenate(v), np.concatenate(c)) for key, (v, c) in parts.items() if v}


def _glyph_markers(ax, texts, Path, zorder: int) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.markers import MarkerStyle

    places: dict[tuple[str, bool, str, float], tuple[list, list]] = {}
    for _, x, y, s, size, bold, color, anchor, _cls in texts:
        cx = x - _text_width(s, size) / 2 if anchor == "middle" else x
        for ch in s:
            if _glyph(ch, bold) is not None:
                xs, ys = places.setdefault((ch, bold, color, size), ([], []))
                xs.append(cx)
                ys.append(y)
            cx += _CHAR_W * size * (2 if unicodedata.east_asian_width(ch) in "WF" else 1)
    for (ch, bold, color, size), (xs, ys) in places.items():
        verts, codes = _glyph(ch, bold)
        # a custom marker is scaled so that its largest |coordinate| is half the marker size;
        # undo that so the glyph keeps its em size and its baseline origin
        extent = float(abs(verts).max())
        ax.add_line(Line2D(xs, ys, linestyle="none", marker=MarkerStyle(Path(verts, codes)),
                           markersize=2 * extent * size, markerfacecolor=color, markeredgecolor="none",
                           markeredgewidth=0, zorder=zorder, clip_on=False))


# ----------------------------------------------------------------------------- files


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(path: str, write) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
