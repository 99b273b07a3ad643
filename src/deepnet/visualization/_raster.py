"""The PNG and PDF renderers: a drawing painted on matplotlib's Agg or PDF canvas (no GUI
backend, no pyplot state); PNG images are encoded by Pillow.

matplotlib and Pillow are imported when a ``.png``/``.pdf`` file is written, not before.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..utils.io import atomic_write
from . import _style as st
from ._shapes import Drawing

# pixel limits of a raster image (Agg refuses sides of 2**16 px or more)
MAX_SIDE_PX = 60000
MAX_PIXELS = 150_000_000


def render_matplotlib(drawing: Drawing, path: str, fmt: str, dpi: float) -> None:
    """Paint ``drawing`` and write it to ``path`` as ``fmt`` (``"png"`` or ``"pdf"``), atomically."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - matplotlib is a dependency of deepnet
        raise ImportError(
            f"plot_model needs matplotlib to write .{fmt} files ({e}). Install it with "
            "`pip install matplotlib`, or write an .svg file, which needs nothing extra."
        ) from e

    if fmt == "png":
        dpi = _raster_dpi(drawing, dpi)
    fig = Figure(figsize=(drawing.width / 72.0, drawing.height / 72.0), dpi=dpi, facecolor=st.BACKGROUND)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, drawing.width)
    ax.set_ylim(drawing.height, 0)
    ax.set_axis_off()
    texts = [p for p in drawing.prims if p[0] == "text"]
    z = _add_paths(ax, drawing.prims)
    # text as DejaVu Sans Mono glyph outlines, cached per character (far faster than one text
    # artist per line): for PNG one compound path per colour and weight; for PDF each glyph
    # becomes a marker, which the PDF backend stores once and places by reference
    if fmt == "png":
        _add_glyph_patches(ax, texts, z)
        fig.canvas.draw()
        _write_png(path, np.asarray(fig.canvas.buffer_rgba()), dpi)
    else:
        _add_glyph_markers(ax, texts, z)
        with atomic_write(path) as f:
            fig.savefig(f, format=fmt, dpi=dpi, facecolor=st.BACKGROUND)


def _raster_dpi(drawing: Drawing, dpi: float) -> float:
    """``dpi``, lowered (with a warning) so that the image stays within the raster size limits."""
    w_in, h_in = drawing.width / 72.0, drawing.height / 72.0
    side = max(w_in, h_in) * dpi
    pixels = w_in * h_in * dpi * dpi
    limit = min(MAX_SIDE_PX / side, math.sqrt(MAX_PIXELS / pixels), 1.0)
    if limit >= 1.0:
        return dpi
    new_dpi = max(int(dpi * limit), 1)
    warnings.warn(
        f"plot_model: the diagram is {drawing.width:.0f}x{drawing.height:.0f} pt; at dpi={dpi:g} the PNG "
        f"would exceed the raster size limits, so it is drawn at dpi={new_dpi}. Write an .svg or .pdf "
        "file for a full-resolution vector drawing.",
        stacklevel=5,  # the caller of plot_model (through its argument-checking wrapper)
    )
    return new_dpi


def _write_png(path: str, rgba, dpi: float) -> None:
    """An 8-bit RGB PNG of an (h, w, 4) uint8 array (alpha dropped: the background is opaque)."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    with atomic_write(path) as f:
        image.save(f, format="PNG", dpi=(dpi, dpi), compress_level=3)


_CODES = {"M": (1, 1), "L": (2, 1), "Q": (3, 2), "C": (4, 3)}  # matplotlib Path codes, points per command


def _to_path(cmds):
    from matplotlib.path import Path

    verts, codes = [], []
    for c in cmds:
        if c[0] == "Z":
            verts.append(verts[-1] if verts else (0.0, 0.0))
            codes.append(Path.CLOSEPOLY)
            continue
        code, npts = _CODES[c[0]]
        for i in range(npts):
            verts.append((c[1 + 2 * i], c[2 + 2 * i]))
            codes.append(code)
    return Path(verts, codes)


def _add_paths(ax, prims) -> int:
    """Add the drawing's paths, one collection per kind of shape in painting order (much faster
    than one artist per shape; boxes never overlap, so order inside a kind is free). Returns
    the next free z-order."""
    from matplotlib.collections import PathCollection

    groups: dict[tuple, list] = {}
    for p in prims:
        if p[0] == "path":
            _, cmds, fill, stroke, lw, dash, cls, _attrs = p
            key = (cls, lw if stroke else 0, tuple(dash) if dash else None)
            groups.setdefault(key, []).append((_to_path(cmds), fill or "none", stroke or "none"))
    for z, ((_cls, lw, dash), items) in enumerate(groups.items()):
        coll = PathCollection([it[0] for it in items], facecolors=[it[1] for it in items],
                              edgecolors=[it[2] for it in items], linewidths=lw, zorder=z,
                              joinstyle="round", capstyle="round")
        if dash:
            coll.set_linestyle((0, dash))
        ax.add_collection(coll, autolim=False)
    return len(groups) + 1


_GLYPHS: dict[tuple[str, bool], Any] = {}


def _glyph(ch: str, bold: bool):
    """The outline of one character, ``(vertices in em, codes)`` with y up, or None for blanks."""
    key = (ch, bold)
    if key not in _GLYPHS:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import text_to_path

        prop = FontProperties(family=st.FONT_MPL, weight="bold" if bold else "normal")
        verts, codes = ([], []) if ch.isspace() else text_to_path.get_text_path(prop, ch)
        _GLYPHS[key] = ((np.asarray(verts, dtype=float) / text_to_path.FONT_SCALE,
                         np.asarray(codes, dtype=np.uint8)) if len(verts) else None)
    return _GLYPHS[key]


def _placed_chars(texts):
    """Every visible character of the text items: ``(char, bold, colour, size, x, baseline)``."""
    for _, x, y, s, size, bold, color, anchor, _cls in texts:
        cx = x - st.text_width(s, size) / 2 if anchor == "middle" else x
        for ch in s:
            if _glyph(ch, bold) is not None:
                yield ch, bold, color, size, cx, y
            cx += st.CHAR_W * size * st.char_cells(ch)


def _add_glyph_patches(ax, texts, zorder: int) -> None:
    """Text as filled outlines, one compound path per colour and weight (y down)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    parts: dict[tuple[str, bool], tuple[list, list]] = {}
    for ch, bold, color, size, x, y in _placed_chars(texts):
        verts, codes = _glyph(ch, bold)
        v = verts * size
        v[:, 1] *= -1
        v += (x, y)
        vs, cs = parts.setdefault((color, bold), ([], []))
        vs.append(v)
        cs.append(codes)
    for (color, _bold), (vs, cs) in parts.items():
        outline = Path(np.concatenate(vs), np.concatenate(cs))
        ax.add_artist(PathPatch(outline, facecolor=color, edgecolor="none", linewidth=0, zorder=zorder))


def _add_glyph_markers(ax, texts, zorder: int) -> None:
    """Text as markers, one line of markers per (character, weight, colour, size)."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import MarkerStyle
    from matplotlib.path import Path

    places: dict[tuple[str, bool, str, float], tuple[list, list]] = {}
    for ch, bold, color, size, x, y in _placed_chars(texts):
        xs, ys = places.setdefault((ch, bold, color, size), ([], []))
        xs.append(x)
        ys.append(y)
    for (ch, bold, color, size), (xs, ys) in places.items():
        verts, codes = _glyph(ch, bold)
        # a custom marker is scaled so that its largest |coordinate| is half the marker size;
        # undo that so the glyph keeps its em size and its baseline origin
        extent = float(abs(verts).max())
        ax.add_line(Line2D(xs, ys, linestyle="none", marker=MarkerStyle(Path(verts, codes)),
                           markersize=2 * extent * size, markerfacecolor=color, markeredgecolor="none",
                           markeredgewidth=0, zorder=zorder, clip_on=False))
