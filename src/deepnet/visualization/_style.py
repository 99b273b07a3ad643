"""Sizes, colours and text metrics shared by the layouts and the renderers (all in points)."""

from __future__ import annotations

import math
import unicodedata

FONT_SVG = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace"
FONT_MPL = "DejaVu Sans Mono"
CHAR_W = 0.602  # advance width of one DejaVu Sans Mono glyph, in em (bold has the same)
TITLE_SIZE = 11.5
BODY_SIZE = 10.0
LINE = 1.45  # line height, in em
PAD_X = 10.0
PAD_Y = 5.0
MIN_W = 110.0
RADIUS = 5.0
NODE_GAP = 30.0  # between two boxes of one rank
DUMMY_W = 6.0  # width taken by an edge passing through a rank
DUMMY_GAP = 14.0  # between an edge waypoint and its neighbour
RANK_GAP = 38.0  # between ranks
TRACK_SEP = 7.0  # between parallel horizontal edge tracks (orthogonal routing)
PORT_SEP = 12.0  # between edge ports on one side of a box
ARROW_L = 8.0
ARROW_W = 3.6
MARGIN = 16.0
FRAME_PAD = 10.0
FRAME_LABEL = 18.0

COLORS = {
    "layer": "#dbe8f7",
    "input": "#d5f0df",
    "merge": "#fbe3c2",
    "model": "#e7e0f7",
}
BORDER = "#4a5568"
TEXT = "#1a202c"
MUTED = "#2d3748"
EDGE = "#4a5568"
FRAME = "#718096"
FRAME_FILL = "#f7f7fb"
BACKGROUND = "#ffffff"


def char_cells(ch: str) -> int:
    """Monospace cells taken by ``ch``: 2 for wide (East Asian) characters, else 1."""
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def text_width(text: str, size: float) -> float:
    """Width in points of ``text`` set in the monospaced font at ``size`` points."""
    return sum(char_cells(ch) for ch in text) * CHAR_W * size


def header_h() -> float:
    """Height of a box's title band."""
    return TITLE_SIZE * LINE + 2 * PAD_Y


def box_size(title: str, lines: list[str]) -> tuple[float, float]:
    """(width, height) of a box holding ``title`` and the body ``lines``."""
    title_w = text_width(title, TITLE_SIZE)
    body_w = max((text_width(s, BODY_SIZE) for s in lines), default=0.0)
    w = math.ceil(max(MIN_W, title_w + 2 * PAD_X, body_w + 2 * PAD_X))
    h = math.ceil(header_h() + (len(lines) * BODY_SIZE * LINE + 2 * PAD_Y if lines else 0))
    return w, h
