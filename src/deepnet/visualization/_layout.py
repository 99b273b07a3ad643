"""The built-in layout: a small layered ("Sugiyama") drawing computed in pure Python.

1. every box gets a rank, the longest path from the inputs (inputs that feed only deep layers
   are pulled down next to their first consumer);
2. edges spanning several ranks are split by invisible waypoints, one per rank crossed, so they
   run beside the boxes instead of through them;
3. a few barycentre sweeps order each rank to reduce edge crossings (the best ordering seen,
   counted exactly, is kept);
4. edges leave and enter boxes through separate ports, ordered like their far ends;
5. positions across the ranks minimise the weighted misalignment of the edges' two ends
   (:mod:`._position`);
6. edges are routed, orthogonal ones on their own tracks (:mod:`._route`).

Everything is linear or ``n log n`` per sweep, with a fixed number of sweeps.
"""

from __future__ import annotations

from . import _style as st
from ._graph import Graph, Layered, common_prefix
from ._position import Spacing, assign_cross, spread, straighten
from ._route import route_and_draw
from ._shapes import Drawing


def layout(graph: Graph, rankdir: str, splines: str) -> Drawing:
    """Lay out ``graph`` (boxes already sized) and draw it."""
    boxes = graph.boxes
    horizontal = rankdir in ("LR", "RL")
    main_ext = [b.w if horizontal else b.h for b in boxes]
    cross_ext = [b.h if horizontal else b.w for b in boxes]
    lay = _layered(graph, cross_ext)

    layers = _reduce_crossings(_initial_order(lay), lay.up, lay.down)
    out_off, in_off = _ports(lay, layers, cross_ext)
    up_d, down_d, base_w = _alignment_terms(lay, out_off, in_off)
    sep = Spacing(lay.cross, lay.is_dummy, lay.frames, horizontal)
    pos = assign_cross(layers, up_d, down_d, base_w, sep, sweeps=12 if len(lay.rank) <= 3000 else 6)
    straighten(lay.chains, layers, up_d, pos, sep, out_off, in_off)
    return route_and_draw(graph, lay, pos, main_ext, cross_ext, rankdir, splines, out_off, in_off)


def split_edges(graph: Graph) -> tuple[list[tuple[int, int, int, bool]], list[tuple[int, int]]]:
    """Edges as ``(edge index, upper box, lower box, reversed)`` and self-loops as ``(edge index, box)``.

    The box list is in dependency order, so an edge pointing backwards in it (only possible for
    shared layers) is laid out reversed."""
    index = {b.id: i for i, b in enumerate(graph.boxes)}
    edges, self_loops = [], []
    for k, (s, d) in enumerate(graph.edges):
        i, j = index[s], index[d]
        if i == j:
            self_loops.append((k, i))
        elif i < j:
            edges.append((k, i, j, False))
        else:
            edges.append((k, j, i, True))
    return edges, self_loops


def ranks(n: int, edges) -> list[int]:
    """Longest-path ranks of ``n`` boxes; pure sources move down next to their first consumer."""
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for _, u, v, _ in edges:
        succs[u].append(v)
        preds[v].append(u)
    rank = [0] * n
    for v in range(n):
        if preds[v]:
            rank[v] = max(rank[u] for u in preds[v]) + 1
    for v in range(n):
        if not preds[v] and succs[v]:
            rank[v] = max(rank[v], min(rank[w] for w in succs[v]) - 1)
    return rank


def _layered(graph: Graph, cross_ext: list[float]) -> Layered:
    """Ranks, and a waypoint ("dummy") in every rank crossed by an edge spanning several."""
    boxes = graph.boxes
    edges, self_loops = split_edges(graph)
    rank = ranks(len(boxes), edges)
    lay = Layered(len(boxes), max(rank) + 1, list(rank), list(cross_ext), [b.frames for b in boxes],
                  [False] * len(boxes), [], self_loops, [], [])
    for key, u, v, rev in edges:
        chain = [u]
        common = common_prefix(boxes[u].frames, boxes[v].frames)
        for r in range(rank[u] + 1, rank[v]):
            lay.is_dummy.append(True)
            lay.rank.append(r)
            lay.cross.append(st.DUMMY_W)
            lay.frames.append(common)
            chain.append(len(lay.rank) - 1)
        chain.append(v)
        lay.chains.append((key, chain, rev))
    lay.up = [[] for _ in lay.rank]
    lay.down = [[] for _ in lay.rank]
    for _, chain, _ in lay.chains:
        for a, b in zip(chain, chain[1:]):
            lay.down[a].append(b)
            lay.up[b].append(a)
    return lay


def _initial_order(lay: Layered) -> list[list[int]]:
    """Vertices per rank in depth-first order."""
    n_vert = len(lay.rank)
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
            stack.extend(w for w in reversed(lay.down[v]) if seq[w] < 0)
    layers: list[list[int]] = [[] for _ in range(lay.n_ranks)]
    for v in sorted(range(n_vert), key=seq.__getitem__):
        layers[lay.rank[v]].append(v)
    return layers


def _count_crossings(layers, down) -> int:
    where = {v: i for layer in layers for i, v in enumerate(layer)}
    total = 0
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
    """Barycentre sweeps, alternately downwards and upwards; the ordering with fewest crossings wins."""
    best = [list(layer) for layer in layers]
    best_count = _count_crossings(best, down)
    where = {v: i for layer in layers for i, v in enumerate(layer)}
    for sweep in range(sweeps):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        nbrs = up if downward else down
        for r in range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1):
            keys = {v: (sum(where[w] for w in nbrs[v]) / len(nbrs[v])) if nbrs[v] else float(where[v])
                    for v in layers[r]}
            layers[r].sort(key=lambda v: (keys[v], where[v]))  # noqa: B023 - used at once
            for i, v in enumerate(layers[r]):
                where[v] = i
        count = _count_crossings(layers, down)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    return best


def _ports(lay: Layered, layers, cross_ext) -> tuple[dict, dict]:
    """Offsets from a box's centre where each chain leaves (``out``) and enters (``in``) it,
    keyed ``(box, chain index)`` and ordered like the chains' far ends."""
    where = {v: i for layer in layers for i, v in enumerate(layer)}
    leaving: list[list[tuple[int, int]]] = [[] for _ in range(lay.n_real)]
    entering: list[list[tuple[int, int]]] = [[] for _ in range(lay.n_real)]
    for ci, (_, chain, _) in enumerate(lay.chains):
        leaving[chain[0]].append((where[chain[1]], ci))
        entering[chain[-1]].append((where[chain[-2]], ci))
    out_off: dict[tuple[int, int], float] = {}
    in_off: dict[tuple[int, int], float] = {}
    for v in range(lay.n_real):
        for side, store in ((leaving, out_off), (entering, in_off)):
            items = sorted(side[v])
            for (_, ci), off in zip(items, spread(0.0, cross_ext[v], len(items))):
                store[(v, ci)] = off
    return out_off, in_off


def _alignment_terms(lay: Layered, out_off, in_off):
    """Per vertex, the ``(neighbour, term, delta)`` wishes ``pos[v] == pos[neighbour] + delta``
    upwards and downwards, and each term's weight."""
    up_d: list[list[tuple[int, int, float]]] = [[] for _ in lay.rank]
    down_d: list[list[tuple[int, int, float]]] = [[] for _ in lay.rank]
    base_w: list[float] = []
    dummy = lay.is_dummy
    for ci, (_, chain, _) in enumerate(lay.chains):
        last = len(chain) - 2
        for k, (a, b) in enumerate(zip(chain, chain[1:])):
            # box-to-box edges pull hardest, a long edge's inner stretch stays straight, and its
            # ends hardly pull the boxes (the long edge moves aside, not the chain of boxes)
            base_w.append(8.0 if dummy[a] and dummy[b] else 0.1 if dummy[a] or dummy[b] else 3.0)
            oa = out_off[(a, ci)] if k == 0 else 0.0
            ob = in_off[(b, ci)] if k == last else 0.0
            down_d[a].append((b, len(base_w) - 1, ob - oa))
            up_d[b].append((a, len(base_w) - 1, oa - ob))
    return up_d, down_d, base_w
