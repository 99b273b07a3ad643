"""The Graphviz layout: boxes and edges placed by Graphviz's ``dot``, drawn by deepnet.

deepnet writes the graph as DOT text, with every box at its final size and no text of its own
(node ids are ``n0, n1, ...``; a frame's label is stood in for by as many ``X`` as it has
characters), runs the ``dot`` executable on it (``-Tjson0``: positions only, no rendering) and
draws the result with the same primitives as the built-in layout, so both layouts give the
same SVG structure, colours and text. No Python graphviz package is needed.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess

from . import _style as st
from ._graph import Graph
from ._layout import ranks, split_edges
from ._shapes import Drawing, box_prims, edge_prims, frame_prims, normalise

TIMEOUT_S = 60.0  # dot on a graph of a few thousand boxes takes seconds; orthogonal routing is the slowest
_LABEL_SIZE = 11.0  # font size of the stand-in frame labels
_SPLINES = {"ortho": "ortho", "curved": "spline", "spline": "spline", "line": "polyline", "polyline": "polyline"}


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` failed, timed out or printed something that is not a layout.

    ``plot_model(..., layout="graphviz")`` raises it; ``layout="auto"`` warns and falls back to
    the built-in layout instead.

    >>> from deepnet.visualization import GraphvizError
    >>> issubclass(GraphvizError, RuntimeError)
    True
    """


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` executable, or None when it is not on ``PATH``."""
    return shutil.which("dot")


def _inches(points: float) -> str:
    return f"{points / 72.0:.4f}"


def _cluster_lines(graph: Graph, fid: str | None, depth: int) -> list[str]:
    """The boxes directly in frame ``fid`` (None: the top level), then its child frames as clusters."""
    pad = "  " * depth
    lines = [f"{pad}n{i};" for i, b in enumerate(graph.boxes) if (b.frames[-1] if b.frames else None) == fid]
    for j, (child, (label, parents)) in enumerate(graph.frames.items()):
        if (parents[-1] if parents else None) == fid:
            # room for deepnet's label: Courier glyphs are 0.6 em wide
            stand_in = "X" * math.ceil((st.text_width(label, st.BODY_SIZE) + 16) / (0.6 * _LABEL_SIZE))
            lines.append(f'{pad}subgraph cluster_{j} {{ label="{stand_in}"; fontname=Courier; '
                         f"fontsize={_LABEL_SIZE:g}; labeljust=l; margin={st.FRAME_PAD:g};")
            lines += _cluster_lines(graph, child, depth + 1)
            lines.append(f"{pad}}}")
    return lines


def to_dot(graph: Graph, rankdir: str, splines: str) -> str:
    """The DOT text of ``graph`` (boxes already sized); it holds no text from the model.

    >>> from deepnet.visualization._graph import Box, Graph
    >>> g = Graph([Box("a", "a (Dense)", [], "layer", (), 110, 30), Box("b", "b (Dense)", [], "layer", (), 110, 30)],
    ...           [("a", "b")])
    >>> print(to_dot(g, "TB", "ortho"))
    digraph G {
    graph [rankdir=TB, splines=ortho, nodesep=0.4167, ranksep=0.5278, margin=0];
    node [shape=box, fixedsize=true, label=""];
    edge [arrowsize=0.8];
    n0 [width=1.5278, height=0.4167];
    n1 [width=1.5278, height=0.4167];
      n0;
      n1;
    n0 -> n1 [id="0"];
    }
    """
    edges, _ = split_edges(graph)
    rank = ranks(len(graph.boxes), edges)
    has_pred = {v for _, _, v, _ in edges}
    # inputs on the first rank, as in the built-in layout (dot would move an input down to its consumer)
    top = [f"n{i}" for i, b in enumerate(graph.boxes) if not b.frames and rank[i] == 0 and i not in has_pred]
    index = {b.id: i for i, b in enumerate(graph.boxes)}
    lines = [
        "digraph G {",
        f"graph [rankdir={rankdir}, splines={_SPLINES[splines]}, nodesep={_inches(st.NODE_GAP)}, "
        f"ranksep={_inches(st.RANK_GAP)}, margin=0];",
        'node [shape=box, fixedsize=true, label=""];',
        f"edge [arrowsize={st.ARROW_L / 10:g}];",
    ]
    lines += [f"n{i} [width={_inches(b.w)}, height={_inches(b.h)}];" for i, b in enumerate(graph.boxes)]
    if len(top) > 1:
        lines.append("{rank=min; " + " ".join(top) + ";}")
    lines += _cluster_lines(graph, None, 1)
    lines += [f'n{index[s]} -> n{index[d]} [id="{k}"];' for k, (s, d) in enumerate(graph.edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(dot: str, text: str, timeout: float | None = None) -> dict:
    """Run ``dot -Tjson0`` on ``text`` and return the parsed layout (``timeout`` defaults to ``TIMEOUT_S``)."""
    timeout = TIMEOUT_S if timeout is None else timeout
    try:
        done = subprocess.run([dot, "-Tjson0"], input=text.encode("ascii"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise GraphvizError(f"Graphviz's dot ({dot}) took longer than {timeout:g} s.") from e
    except OSError as e:
        raise GraphvizError(f"Graphviz's dot ({dot}) could not be run: {e}") from e
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip() or "no message"
        raise GraphvizError(f"Graphviz's dot ({dot}) exited with status {done.returncode}: {err}")
    try:
        return json.loads(done.stdout)
    except ValueError as e:
        raise GraphvizError(f"Graphviz's dot ({dot}) printed something that is not a JSON layout: {e}") from e


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", text)]


def _edge_cmds(pos: str, flip, straight: bool) -> list[tuple]:
    """Path commands of a dot edge ``pos`` (``e,x,y`` arrow tip, then B-spline control points)."""
    tip = None
    points = []
    for item in pos.replace("\\\n", "").split():
        if item.startswith("e,"):
            tip = flip(*_numbers(item[2:]))
        elif not item.startswith("s,"):
            points.append(flip(*_numbers(item)))
    if straight:
        vertices = [*points[::3], *([tip] if tip else [])]
        return [("M", *vertices[0])] + [("L", *p) for p in _corners(vertices)[1:]]
    cmds: list[tuple] = [("M", *points[0])]
    cmds += [("C", *points[i], *points[i + 1], *points[i + 2]) for i in range(1, len(points) - 2, 3)]
    if tip:
        cmds.append(("L", *tip))
    return cmds


def _corners(points: list) -> list:
    """``points`` without repeated points and without points on a straight run."""
    out = [points[0]]
    for p, q in zip(points[1:-1], points[2:]):
        a = out[-1]
        u, v = (p[0] - a[0], p[1] - a[1]), (q[0] - p[0], q[1] - p[1])
        turn = abs(u[0] * v[1] - u[1] * v[0]) > 1e-3 * math.hypot(*u) * math.hypot(*v)
        if math.hypot(*u) > 1e-6 and (turn or u[0] * v[0] + u[1] * v[1] < 0):
            out.append(p)
    out.append(points[-1])
    return out


def layout(graph: Graph, rankdir: str, splines: str, dot: str) -> Drawing:
    """Lay out ``graph`` with Graphviz's ``dot`` executable and draw it."""
    result = run_dot(dot, to_dot(graph, rankdir, splines))
    top = _numbers(result["bb"])[3]

    def flip(x: float, y: float) -> tuple[float, float]:
        return x, top - y

    objects = result.get("objects", [])
    boxes = graph.boxes
    for o in objects:
        if re.fullmatch(r"n\d+", o.get("name", "")) and "pos" in o:
            b = boxes[int(o["name"][1:])]
            cx, cy = flip(*_numbers(o["pos"]))
            b.x, b.y = cx - b.w / 2, cy - b.h / 2
    prims: list = []
    frame_ids = list(graph.frames)
    for o in objects:  # clusters, outer ones first
        if re.fullmatch(r"cluster_\d+", o.get("name", "")) and "bb" in o:
            fid = frame_ids[int(o["name"][8:])]
            llx, lly, urx, ury = _numbers(o["bb"])
            x0, y0, x1, y1 = llx, top - ury, urx, top - lly
            label = graph.frames[fid][0]
            width = st.text_width(label, st.BODY_SIZE)
            x1 = max(x1, x0 + width + 16)
            # where dot reserved room for the label (its centre): the top or, ranks running
            # bottom to top, the bottom of the frame
            lx, ly = flip(*_numbers(o["lp"])) if "lp" in o else (x0 + 8 + width / 2, y0 + 9.5)
            prims += frame_prims(fid, label, (x0, y0, x1, y1), (max(x0 + 8, lx - width / 2), ly + 3.5))
    straight = splines in ("ortho", "line", "polyline")
    for e in sorted(result.get("edges", []), key=lambda e: int(e["id"])):
        if "pos" not in e:
            raise GraphvizError(f"Graphviz's dot ({dot}) did not route the edge {graph.edges[int(e['id'])]}.")
        prims += edge_prims(_edge_cmds(e["pos"], flip, straight), *graph.edges[int(e["id"])])
    for b in boxes:
        prims += box_prims(b)
    return normalise(prims, boxes)
