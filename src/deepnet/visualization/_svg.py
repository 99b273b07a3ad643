"""The SVG renderer: a drawing written as SVG text (no matplotlib involved)."""

from __future__ import annotations

from html import escape

from . import _style as st
from ._shapes import Drawing


def _fmt(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _svg_d(cmds: list[tuple]) -> str:
    return " ".join(c[0] + (" " + " ".join(_fmt(v) for v in c[1:]) if len(c) > 1 else "") for c in cmds)


def _path(p) -> str:
    _, cmds, fill, stroke, lw, dash, cls, attrs = p
    extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items())
    style = f'fill="{fill or "none"}"'
    if stroke:
        style += f' stroke="{stroke}" stroke-width="{_fmt(lw)}" stroke-linejoin="round" stroke-linecap="round"'
    if dash:
        style += f' stroke-dasharray="{" ".join(_fmt(d) for d in dash)}"'
    return f'<path class="{cls}" d="{_svg_d(cmds)}" {style}{extra}/>'


def _text(p) -> str:
    _, x, y, s, size, bold, color, anchor, cls = p
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text class="{cls}" x="{_fmt(x)}" y="{_fmt(y)}" font-size="{_fmt(size)}"{weight} '
            f'fill="{color}" text-anchor="{anchor}" xml:space="preserve" style="white-space:pre">'
            f"{escape(s)}</text>")


def render_svg(drawing: Drawing, title: str) -> str:
    """The SVG document of ``drawing``: layer boxes are ``<g class="node">``, edges
    ``<path class="edge" data-source=... data-target=...>``, text stays selectable."""
    w, h = _fmt(drawing.width), _fmt(drawing.height)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" '
        f'font-family="{escape(st.FONT_SVG)}">',
        f"<title>{escape(str(title))}</title>",
    ]
    for p in drawing.prims:
        kind = p[0]
        if kind == "rect_bg":
            out.append(f'<rect class="background" x="0" y="0" width="{w}" height="{h}" fill="{st.BACKGROUND}"/>')
        elif kind == "group":
            out.append(f'<g class="{p[1]}" id="{escape(p[1] + "-" + p[2])}"><title>{escape(p[3])}</title>')
        elif kind == "endgroup":
            out.append("</g>")
        elif kind == "path":
            out.append(_path(p))
        elif kind == "text":
            out.append(_text(p))
    out.append("</svg>")
    return "\n".join(out) + "\n"
