"""Drawing primitives shared by both layouts: boxes, arrows and frames as renderer-neutral tuples.

A drawing is a list of primitives in painting order:

* ``("rect_bg", width, height)``: the background;
* ``("group", cls, id, title)`` ... ``("endgroup",)``: a named group (a layer box, a frame);
* ``("path", cmds, fill, stroke, linewidth, dash, cls, attrs)``: ``cmds`` are SVG-like commands
  ``("M", x, y)``, ``("L", x, y)``, ``("Q", x1, y1, x, y)``, ``("C", x1, y1, x2, y2, x, y)``, ``("Z",)``;
* ``("text", x, y, string, size, bold, colour, anchor, cls)``, anchored ``"start"`` or ``"middle"``.

Coordinates are in points with y pointing down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import _style as st
from ._graph import Box, Graph


@dataclass
class Drawing:
    """A laid-out diagram: its size in points and its primitives."""

    width: float
    height: float
    prims: list = field(default_factory=list)


def rounded_rect(x, y, w, h, r, top=True, bottom=True) -> list[tuple]:
    """Path commands of a rectangle with rounded corners (square ones where ``top``/``bottom`` is false)."""
    rt, rb = (r if top else 0.0), (r if bottom else 0.0)
    return [
        ("M", x + rt, y), ("L", x + w - rt, y), ("Q", x + w, y, x + w, y + rt),
        ("L", x + w, y + h - rb), ("Q", x + w, y + h, x + w - rb, y + h),
        ("L", x + rb, y + h), ("Q", x, y + h, x, y + h - rb),
        ("L", x, y + rt), ("Q", x, y, x + rt, y), ("Z",),
    ]


def box_prims(b: Box) -> list:
    """A layer box: coloured title band, body, border, title and body text."""
    prims: list = [("group", "node", b.id, b.title)]
    head_h = st.header_h()
    fill = st.COLORS[b.kind]
    outline = rounded_rect(b.x, b.y, b.w, b.h, st.RADIUS)
    if b.lines:
        prims.append(("path", outline, st.BACKGROUND, None, 0, None, "box", {}))
        prims.append(("path", rounded_rect(b.x, b.y, b.w, head_h, st.RADIUS, bottom=False), fill, None, 0,
                      None, "header", {}))
        prims.append(("path", [("M", b.x, b.y + head_h), ("L", b.x + b.w, b.y + head_h)], None, st.BORDER,
                      0.8, None, "rule", {}))
    else:
        prims.append(("path", outline, fill, None, 0, None, "box", {}))
    prims.append(("path", outline, None, st.BORDER, 1.1, None, "border", {}))
    baseline = b.y + st.PAD_Y + st.TITLE_SIZE * (st.LINE / 2 + 0.35)
    prims.append(("text", b.x + b.w / 2, baseline, b.title, st.TITLE_SIZE, True, st.TEXT, "middle", "title"))
    y = b.y + head_h + st.PAD_Y
    for line in b.lines:
        prims.append(("text", b.x + st.PAD_X, y + st.BODY_SIZE * (st.LINE / 2 + 0.35), line, st.BODY_SIZE,
                      False, st.MUTED, "start", "label"))
        y += st.BODY_SIZE * st.LINE
    prims.append(("endgroup",))
    return prims


def edge_prims(cmds: list[tuple], src: str, dst: str) -> list:
    """An edge ending at the last point of ``cmds``: its line (stopped at the arrow's base) and arrowhead."""
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
    base = (end[0] - ux * st.ARROW_L, end[1] - uy * st.ARROW_L)
    # stop the line at the arrow's base so it does not poke through the tip
    trimmed = list(cmds)
    trimmed[-1] = (*last[:5], *base) if last[0] == "C" else (last[0], *base)
    head = [("M", *end),
            ("L", base[0] - uy * st.ARROW_W, base[1] + ux * st.ARROW_W),
            ("L", base[0] + uy * st.ARROW_W, base[1] - ux * st.ARROW_W), ("Z",)]
    return [
        ("path", trimmed, None, st.EDGE, 1.3, None, "edge", {"data-source": src, "data-target": dst}),
        ("path", head, st.EDGE, st.EDGE, 0.8, None, "arrowhead", {}),
    ]


def reverse_path(cmds: list[tuple]) -> list[tuple]:
    """The same curve (``M``, ``L`` and ``C`` commands), walked from its end to its start."""
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
        out.append(("L", *ps[1]) if kind == "L" else ("C", *ps[1], *ps[2], *ps[3]))
    return out


def frame_prims(fid: str, label: str, bounds: tuple[float, float, float, float],
                label_at: tuple[float, float] | None = None) -> list:
    """The dashed frame of nested model ``fid`` around ``bounds`` (x0, y0, x1, y1); its label
    starts at ``label_at`` (x, baseline), by default at the top left."""
    x0, y0, x1, y1 = bounds
    lx, ly = label_at or (x0 + 8, y0 + 13)
    return [
        ("group", "cluster", fid, label),
        ("path", rounded_rect(x0, y0, x1 - x0, y1 - y0, st.RADIUS + 2), st.FRAME_FILL, st.FRAME, 1.0,
         (4, 3), "frame", {}),
        ("text", lx, ly, label, st.BODY_SIZE, True, st.FRAME, "start", "frame-label"),
        ("endgroup",),
    ]


def frames_around(graph: Graph, rects: list) -> list:
    """Frames of nested models, each around its members' rectangles ``(frames, x0, y0, x1, y1)``
    (boxes and edge waypoints) and its child frames; outer frames are painted first."""
    members: dict[str, list] = {}
    for frames, *rect in rects:
        for f in frames:
            members.setdefault(f, []).append(rect)
    bounds: dict[str, tuple[float, float, float, float]] = {}
    # deepest frames first, so a parent frame encloses its children's frames
    for fid in sorted(members, key=lambda f: -len(graph.frames[f][1])):
        rs = members[fid] + [bounds[c] for c, (_, parents) in graph.frames.items()
                             if parents and parents[-1] == fid and c in bounds]
        x0, y0 = min(r[0] for r in rs), min(r[1] for r in rs)
        x1, y1 = max(r[2] for r in rs), max(r[3] for r in rs)
        x0, y0, x1, y1 = x0 - st.FRAME_PAD, y0 - st.FRAME_PAD - st.FRAME_LABEL, x1 + st.FRAME_PAD, y1 + st.FRAME_PAD
        x1 = max(x1, x0 + st.text_width(graph.frames[fid][0], st.BODY_SIZE) + 16)
        bounds[fid] = (x0, y0, x1, y1)
    prims: list = []
    for fid in sorted(bounds, key=lambda f: len(graph.frames[f][1])):
        prims.extend(frame_prims(fid, graph.frames[fid][0], bounds[fid]))
    return prims


def normalise(prims: list, boxes: list[Box]) -> Drawing:
    """Move everything so the drawing starts at the margin; size the canvas to fit."""
    xs, ys = [], []
    for p in prims:
        if p[0] == "path":
            for c in p[1]:
                xs.extend(c[1::2])
                ys.extend(c[2::2])
    x0, y0 = min(xs), min(ys)
    dx, dy = st.MARGIN - x0, st.MARGIN - y0
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
    drawing = Drawing(max(xs) - x0 + 2 * st.MARGIN, max(ys) - y0 + 2 * st.MARGIN)
    drawing.prims = [("rect_bg", drawing.width, drawing.height), *moved]
    return drawing
