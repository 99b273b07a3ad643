"""Edge routing and final placement for the built-in layout.

Each edge becomes a route through its waypoints; with ``splines="ortho"`` the horizontal runs
in each gap between ranks get their own tracks where they would otherwise overlap. The ranks
are then placed along the main axis (with room for the tracks and for the frames of nested
models), and everything is turned into drawing primitives.
"""

from __future__ import annotations

from . import _style as st
from ._graph import Layered
from ._shapes import Drawing, box_prims, edge_prims, frames_around, normalise, reverse_path


class _Axis:
    """Where the ranks lie along the main axis, and the map from (main, cross) to (x, y)."""

    def __init__(self, lay: Layered, main_ext, n_tracks: list[int], rankdir: str, ortho: bool):
        self.v_rank, self.main_ext, self.n_tracks, self.rankdir = lay.rank, main_ext, n_tracks, rankdir
        n_ranks = lay.n_ranks
        self.row_ext = [0.0] * n_ranks
        for v in range(lay.n_real):
            self.row_ext[lay.rank[v]] = max(self.row_ext[lay.rank[v]], main_ext[v])
        opens = _frame_room(lay, rankdir)
        self.row_start = [0.0] * n_ranks
        m = opens[0]
        for r in range(n_ranks):
            self.row_start[r] = m
            m += self.row_ext[r]
            if r < n_ranks - 1:
                gap = st.RANK_GAP
                if ortho:
                    gap = max(st.RANK_GAP, 12 + st.ARROW_L + 10 + (n_tracks[r] - 1) * st.TRACK_SEP)
                m += gap + opens[r + 1]
        self.total = m + opens[n_ranks]

    def main_of(self, sym) -> float:
        """The main coordinate of a symbolic point: a rank's start/end or a box's start/end."""
        kind, x = sym
        if kind == "row_start":
            return self.row_start[x]
        if kind == "row_end":
            return self.row_start[x] + self.row_ext[x]
        r = self.v_rank[x]
        start = self.row_start[r] + (self.row_ext[r] - self.main_ext[x]) / 2
        return start if kind == "box_start" else start + self.main_ext[x]

    def track_main(self, gap: int, t: int) -> float:
        """The main coordinate of track ``t`` in the gap below rank ``gap``."""
        lo = self.row_start[gap] + self.row_ext[gap] + 12
        hi = self.row_start[gap + 1] - st.ARROW_L - 10
        n = self.n_tracks[gap]
        return (lo + hi) / 2 if n == 1 else lo + (hi - lo) * t / (n - 1)

    def xy(self, mm: float, cc: float) -> tuple[float, float]:
        """Drawing coordinates of the point ``mm`` along the ranks and ``cc`` across them."""
        if self.rankdir == "TB":
            return cc, mm
        if self.rankdir == "BT":
            return cc, self.total - mm
        if self.rankdir == "LR":
            return mm, cc
        return self.total - mm, cc


def _frame_room(lay: Layered, rankdir: str) -> list[float]:
    """Extra room before each rank where frames of nested models open or close (and for the
    frame's label, on the side it sits: the top of the figure)."""
    span: dict[str, list[int]] = {}
    for v, fr in enumerate(lay.frames):
        for f in fr:
            s = span.setdefault(f, [lay.rank[v], lay.rank[v]])
            s[0], s[1] = min(s[0], lay.rank[v]), max(s[1], lay.rank[v])
    opens = [0.0] * (lay.n_ranks + 1)
    for lo_r, hi_r in span.values():
        opens[lo_r] += st.FRAME_PAD + 4 + (st.FRAME_LABEL if rankdir == "TB" else 0)
        opens[hi_r + 1] += st.FRAME_PAD + 4 + (st.FRAME_LABEL if rankdir == "BT" else 0)
    return opens


def _routes(lay: Layered, pos, out_off, in_off) -> list[list[tuple]]:
    """Per chain, its points as (symbolic main coordinate, cross coordinate)."""
    routes = []
    for ci, (_key, chain, _rev) in enumerate(lay.chains):
        pts = [(("box_end", chain[0]), pos[chain[0]] + out_off[(chain[0], ci)])]
        for d in chain[1:-1]:
            pts.append((("row_start", lay.rank[d]), pos[d]))
            pts.append((("row_end", lay.rank[d]), pos[d]))
        pts.append((("box_start", chain[-1]), pos[chain[-1]] + in_off[(chain[-1], ci)]))
        routes.append(pts)
    return routes


def _gap_of(sym, v_rank) -> int:
    kind, x = sym
    return v_rank[x] if kind == "box_end" else x


def _tracks(routes, v_rank, n_ranks) -> tuple[dict, list[int]]:
    """Orthogonal tracks: ``(route, segment) -> track``, and the number of tracks per gap."""
    per_gap: list[list[tuple]] = [[] for _ in range(max(n_ranks - 1, 1))]
    for ri, pts in enumerate(routes):
        for si in range(0, len(pts) - 1, 2):  # even segments cross a gap
            (ma, ca), (_, cb) = pts[si], pts[si + 1]
            if abs(ca - cb) > 0.5:
                per_gap[_gap_of(ma, v_rank)].append((min(ca, cb), max(ca, cb), ca > cb, ri, si))
    tracks: dict[tuple[int, int], int] = {}
    return tracks, [max(_assign_tracks(runs, tracks), 1) for runs in per_gap]


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
                     if all(hi + st.TRACK_SEP < a or b + st.TRACK_SEP < lo for a, b in spans)), len(placed))
        if free == len(placed):
            placed.append([])
        placed[free].append((lo, hi))
        tracks[(ri, si)] = free
    return len(placed)


def _edge_cmds(axis: _Axis, pts, splines: str, track_of) -> list[tuple]:
    """Path commands along a route; ``track_of(si)`` is the track of its gap-crossing segment ``si``."""
    mc = [(axis.main_of(sym), c) for sym, c in pts]
    cmds: list[tuple] = [("M", *axis.xy(*mc[0]))]
    for si in range(len(mc) - 1):
        a, b = mc[si], mc[si + 1]
        if si % 2 == 1 or abs(a[1] - b[1]) <= 0.5 or splines in ("line", "polyline"):
            cmds.append(("L", *axis.xy(*b)))  # odd segments run inside a rank, along a waypoint
        elif splines == "ortho":
            tm = axis.track_main(_gap_of(pts[si][0], axis.v_rank), track_of(si))
            cmds += [("L", *axis.xy(tm, a[1])), ("L", *axis.xy(tm, b[1])), ("L", *axis.xy(*b))]
        else:
            d = (b[0] - a[0]) / 2
            cmds.append(("C", *axis.xy(a[0] + d, a[1]), *axis.xy(b[0] - d, b[1]), *axis.xy(*b)))
    return cmds


def self_loop_cmds(x: float, y: float) -> list[tuple]:
    """A loop on the right side of a box, ending at (``x``, ``y`` + 8)."""
    return [("M", x, y - 8), ("C", x + 30, y - 22, x + 30, y + 22, x, y + 8)]


def _frame_prims(graph, lay: Layered, axis: _Axis, pos) -> list:
    """Frames around nested models' boxes and the waypoints of their inner edges."""
    rects = [(b.frames, b.x, b.y, b.x + b.w, b.y + b.h) for b in graph.boxes]
    for v in range(lay.n_real, len(pos)):
        r = lay.rank[v]
        x0, y0 = axis.xy(axis.row_start[r], pos[v] - st.DUMMY_W / 2)
        x1, y1 = axis.xy(axis.row_start[r] + axis.row_ext[r], pos[v] + st.DUMMY_W / 2)
        rects.append((lay.frames[v], min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return frames_around(graph, rects)


def route_and_draw(graph, lay: Layered, pos, main_ext, cross_ext, rankdir: str, splines: str,
                   out_off, in_off) -> Drawing:
    """Route the edges, place ranks and boxes, and return the drawing."""
    routes = _routes(lay, pos, out_off, in_off)
    ortho = splines == "ortho"
    tracks, n_tracks = _tracks(routes, lay.rank, lay.n_ranks) if ortho else ({}, [1] * max(lay.n_ranks - 1, 1))
    axis = _Axis(lay, main_ext, n_tracks, rankdir, ortho)

    boxes = graph.boxes
    for v, b in enumerate(boxes):
        m0 = axis.main_of(("box_start", v))
        x0, y0 = axis.xy(m0, pos[v] - cross_ext[v] / 2)
        x1, y1 = axis.xy(m0 + main_ext[v], pos[v] + cross_ext[v] / 2)
        b.x, b.y = min(x0, x1), min(y0, y1)

    prims: list = _frame_prims(graph, lay, axis, pos) if graph.frames else []
    for ri, (key, _chain, rev) in enumerate(lay.chains):
        cmds = _edge_cmds(axis, routes[ri], splines, lambda si, ri=ri: tracks[(ri, si)])
        prims.extend(edge_prims(reverse_path(cmds) if rev else cmds, *graph.edges[key]))
    for key, v in lay.self_loops:
        b = boxes[v]
        prims.extend(edge_prims(self_loop_cmds(b.x + b.w, b.y + b.h / 2), *graph.edges[key]))
    for b in boxes:
        prims.extend(box_prims(b))
    return normalise(prims, boxes)
