"""Positions across the ranks for the built-in layout.

Positions minimise the weighted misalignment of the edges' two ends under the ordering and
spacing constraints, one rank at a time (pool-adjacent-violators), with iterative reweighting
so that most edges come out perfectly straight; long edges are then straightened where there
is room.
"""

from __future__ import annotations

import numpy as np

from . import _style as st
from ._graph import common_prefix


class Spacing:
    """Least distance between the centres of two neighbours in a rank (room for the frames of
    nested models that separate them, and for a frame's label when ranks run left-right)."""

    def __init__(self, v_cross, is_dummy, v_frames, horizontal: bool):
        self.v_cross, self.is_dummy, self.v_frames, self.horizontal = v_cross, is_dummy, v_frames, horizontal

    def __call__(self, a: int, b: int) -> float:
        gap = st.DUMMY_GAP if self.is_dummy[a] or self.is_dummy[b] else st.NODE_GAP
        fa, fb = self.v_frames[a], self.v_frames[b]
        if fa != fb:
            k = len(common_prefix(fa, fb))
            gap += (len(fa) - k + len(fb) - k) * (st.FRAME_PAD + 4)
            if self.horizontal:
                gap += (len(fb) - k) * st.FRAME_LABEL
        return (self.v_cross[a] + self.v_cross[b]) / 2 + gap


def spread(center: float, extent: float, k: int) -> list[float]:
    """``k`` port positions around ``center`` on a box side of length ``extent``."""
    if k <= 1:
        return [center] * k
    step = min(st.PORT_SEP, max(extent - 2 * st.RADIUS - 4, 0) / (k - 1))
    return [center + (i - (k - 1) / 2) * step for i in range(k)]


class _Ranks:
    """Per rank: its vertices, the least gaps between neighbours, and the incident edge ends."""

    def __init__(self, layers, up, down, sep: Spacing):
        self.idx = [np.asarray(layer, dtype=np.int64) for layer in layers]
        self.seps = [[sep(a, b) for a, b in zip(layer, layer[1:])] for layer in layers]
        self.offsets = [np.concatenate([[0.0], np.cumsum(s)]) for s in self.seps]
        # the incident edge ends as flat arrays (index in rank, neighbour, edge, delta): parents only, and all
        self.tables = []
        for layer in layers:
            parents = [(i, u, e, d) for i, v in enumerate(layer) for u, e, d in up[v]]
            both = [(i, u, e, d) for i, v in enumerate(layer) for nb in (up[v], down[v]) for u, e, d in nb]
            self.tables.append((_edge_table(parents), _edge_table(both)))

    def packed(self, n: int) -> np.ndarray:
        """Every rank centred on 0 with its neighbours as close as allowed."""
        pos = np.zeros(n)
        for idx, sp in zip(self.idx, self.seps):
            x = -sum(sp) / 2
            for i, v in enumerate(idx):
                pos[v] = x
                if i < len(sp):
                    x += sp[i]
        return pos

    def solve(self, r: int, pos: np.ndarray, weight: np.ndarray, parents_only: bool) -> float:
        """Move rank ``r`` to its weighted targets under the spacing constraints; return the largest move."""
        idx = self.idx[r]
        loc, nbr, edge, delta = self.tables[r][0 if parents_only else 1]
        w = weight[edge]
        den = np.bincount(loc, w, minlength=len(idx))
        num = np.bincount(loc, w * (pos[nbr] + delta), minlength=len(idx))
        has = den > 0
        targets = np.where(has, num / np.where(has, den, 1.0), pos[idx])
        y = targets - self.offsets[r]
        if len(y) < 2 or bool((y[1:] >= y[:-1]).all()):
            new = targets  # already far enough apart: nothing to pool
        else:
            new = np.asarray(_pav(targets.tolist(), np.where(has, den, 1e-3).tolist(), self.seps[r]))
        moved = float(np.abs(new - pos[idx]).max(initial=0.0))
        pos[idx] = new
        return moved


def assign_cross(layers, up, down, base_w, sep: Spacing, sweeps: int = 12, rounds: int = 4) -> list[float]:
    """Positions across the ranks: ``up[v]``/``down[v]`` list ``(neighbour, edge, delta)`` where
    edge ``e`` wants ``pos[v] == pos[neighbour] + delta`` with weight ``base_w[e]``.

    Block coordinate descent (each rank solved exactly under its spacing constraints) on the
    weighted squared misalignments; the weights are then re-scaled by 1/|misalignment| a few
    times (iteratively reweighted least squares), which approximates the absolute-value
    objective: jogs gather on few edges and most edges come out perfectly straight."""
    ranks = _Ranks(layers, up, down, sep)
    pos = ranks.packed(len(sep.v_cross))
    base = np.asarray(base_w, dtype=float)
    weight = base.copy()
    first = True
    for rnd in range(rounds):
        for it in range(sweeps):
            order = range(len(layers)) if it % 2 == 0 else range(len(layers) - 1, -1, -1)
            moved = max((ranks.solve(r, pos, weight, first) for r in order), default=0.0)
            first = False  # the first sweep follows parents only
            if moved < 0.05:
                break
        if rnd < rounds - 1:
            for v, ends in enumerate(up):
                for u, e, delta in ends:
                    weight[e] = base[e] / max(abs(pos[v] - pos[u] - delta), 1.0)
    return pos.tolist()


def _edge_table(rows):
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


def straighten(chains, layers, up, pos, sep: Spacing, out_off, in_off) -> None:
    """Put the waypoints of each long edge on one line when their neighbours leave room."""
    where = {v: (r, i) for r, layer in enumerate(layers) for i, v in enumerate(layer)}

    def fits(d: int, c: float) -> bool:
        r, i = where[d]
        layer = layers[r]
        if i > 0 and pos[layer[i - 1]] + sep(layer[i - 1], d) > c + 1e-6:
            return False
        return not (i + 1 < len(layer) and c + sep(d, layer[i + 1]) > pos[layer[i + 1]] + 1e-6)

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
        c = next((c for c in candidates if all(fits(d, c) for d in dummies)), None)
        if c is not None:
            for d in dummies:
                pos[d] = c
