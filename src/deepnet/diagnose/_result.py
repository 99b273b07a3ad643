"""The result object every diagnosis returns, and the helpers they share.

Every diagnosis in :mod:`deepnet.diagnose` returns a :class:`DiagnosisResult` (or a subclass)
with the same small interface, so that printing, serialising, plotting and the HTML report
treat them alike:

* ``verdict``  - short machine-readable string (``"overfitting"``, ``"vanishing_gradients"``...);
* ``summary``  - one line for humans;
* ``evidence`` - a dict of the numbers and epochs the verdict rests on;
* ``remedies`` - concrete suggestions, most useful first;
* ``severity`` - ``"ok"``, ``"info"``, ``"warning"`` or ``"error"``;
* ``notes``    - caveats (e.g. "no validation data: overfitting cannot be diagnosed").

``str(result)`` / ``result.print()`` give plain text, ``to_dict()`` / ``to_json()`` a
JSON-serialisable form (non-finite floats become the strings ``"nan"``, ``"inf"``,
``"-inf"``), ``to_html()`` an HTML fragment and ``plot(path=None, ax=None)`` a matplotlib
``Figure`` (written atomically when ``path`` is given). matplotlib is imported only by the
plotting functions, with the Agg canvas: nothing here touches a GUI backend or pyplot's global
figure list.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
import sys
from typing import Any

import numpy as np

from ..utils.io import atomic_write_bytes

__all__ = ["DiagnosisResult", "SEVERITIES", "jsonable", "new_figure", "save_figure"]

SEVERITIES = ("ok", "info", "warning", "error")
_IMAGE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg"}


# ----------------------------------------------------------------------------- helpers


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy/torch scalars and arrays turned into plain Python values; non-finite
    floats become ``"nan"``/``"inf"``/``"-inf"`` so that strict JSON can hold them."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if hasattr(obj, "detach") and hasattr(obj, "tolist"):  # torch.Tensor
        return jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def fmt_value(value: Any, max_items: int = 8) -> str:
    """Compact text for evidence values: 4 significant digits, long lists shortened."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = [fmt_value(v, max_items) for v in value[:max_items]]
        more = f", ... ({len(value)} in all)" if len(value) > max_items else ""
        return "[" + ", ".join(items) + more + "]"
    if isinstance(value, dict):
        items = [f"{k}: {fmt_value(v, max_items)}" for k, v in list(value.items())[:max_items]]
        more = f", ... ({len(value)} in all)" if len(value) > max_items else ""
        return "{" + ", ".join(items) + more + "}"
    return str(value)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.2):
    """A matplotlib ``Figure`` on an Agg canvas (no pyplot, no GUI) and its axes (a flat list)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def save_figure(fig, path, dpi: int = 110) -> str:
    """Render ``fig`` to ``path`` (format from the extension: .png, .svg, .pdf, .jpg) atomically."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _IMAGE_FORMATS:
        raise ValueError(
            f"Cannot save a plot to {path!r}: unsupported extension {ext or '(none)'!r}. "
            f"help: use one of {', '.join(sorted(_IMAGE_FORMATS))}, e.g. plot('curves.png')."
        )
    buf = io.BytesIO()
    fig.savefig(buf, format=_IMAGE_FORMATS[ext], dpi=dpi)
    write_file(path, buf.getvalue())
    return path


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_file(path, data: bytes) -> None:
    """Atomic write with the usual permissions of a new file (``atomic_write`` goes through
    ``mkstemp``, whose files are private: 0600)."""
    atomic_write_bytes(path, data)
    try:
        os.chmod(path, 0o666 & ~_umask())
    except OSError:
        pass


# ----------------------------------------------------------------------------- result


class DiagnosisResult:
    """What every diagnosis returns: a verdict with its evidence and remedies.

    Subclasses set ``kind`` and ``title``, may add attributes (exposed in :meth:`to_dict`
    through :meth:`_extra_dict`), extra text lines (:meth:`_detail_lines`) and a drawing
    (:meth:`_draw`).
    """

    kind = "diagnosis"
    title = "Diagnosis"
    #: evidence keys left out of the plain-text evidence list (a subclass prints them itself)
    _text_hidden: tuple = ()

    def __init__(self, verdict: str, summary: str, evidence: dict | None = None, remedies=None,
                 severity: str = "ok", notes=None):
        if severity not in SEVERITIES:
            raise ValueError(
                f"Received an invalid value for `severity` of {type(self).__name__}, expected one of "
                f"{SEVERITIES}. Received: severity={severity!r}"
            )
        self.verdict = str(verdict)
        self.summary = str(summary)
        self.evidence: dict = dict(evidence or {})
        self.remedies: list[str] = list(remedies or [])
        self.severity = severity
        self.notes: list[str] = list(notes or [])

    # -- convenience ------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True when nothing needs attention (severity ``"ok"`` or ``"info"``)."""
        return self.severity in ("ok", "info")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} verdict={self.verdict!r} severity={self.severity!r}>"

    # -- text -------------------------------------------------------------------------------
    def __str__(self) -> str:
        lines = [f"{self.title}: {self.verdict} [{self.severity}]", f"  {self.summary}"]
        if self.evidence:
            lines.append("Evidence:")
            for key, value in self.evidence.items():
                if key not in self._text_hidden:
                    lines.append(f"  {key}: {fmt_value(value)}")
        extra = self._detail_lines()
        if extra:
            lines.extend(extra)
        if self.remedies:
            lines.append("Remedies:")
            lines.extend(f"  - {r}" for r in self.remedies)
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  * {n}" for n in self.notes)
        return "\n".join(lines)

    def print(self, file=None) -> None:
        """Print the plain-text report (to ``file``, default stdout)."""
        print(str(self), file=file if file is not None else sys.stdout)

    def _detail_lines(self) -> list[str]:
        return []

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-serialisable dict: kind, title, verdict, severity, summary, evidence, remedies,
        notes, plus the subclass' own fields."""
        out = {
            "kind": self.kind, "title": self.title, "verdict": self.verdict, "severity": self.severity,
            "summary": self.summary, "evidence": self.evidence, "remedies": self.remedies, "notes": self.notes,
        }
        out.update(self._extra_dict())
        return jsonable(out)

    def _extra_dict(self) -> dict:
        return {}

    def to_json(self, path=None, indent: int | None = 2) -> str:
        """The :meth:`to_dict` form as strict JSON text; also written atomically to ``path``."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            write_file(path, text.encode("utf-8"))
        return text

    def to_html(self) -> str:
        """An HTML fragment (heading, summary, evidence table, remedies, notes) with CSS classes
        ``dn-diagnosis`` and ``dn-severity-<severity>`` for styling."""
        esc = html.escape
        parts = [
            f'<div class="dn-diagnosis dn-severity-{esc(self.severity)}">',
            f"<h3>{esc(self.title)}: <code>{esc(self.verdict)}</code> "
            f'<span class="dn-severity">[{esc(self.severity)}]</span></h3>',
            f"<p>{esc(self.summary)}</p>",
        ]
        if self.evidence:
            rows = "".join(
                f"<tr><th>{esc(str(k))}</th><td>{esc(fmt_value(v))}</td></tr>"
                for k, v in self.evidence.items() if k not in self._text_hidden
            )
            parts.append(f'<table class="dn-evidence">{rows}</table>')
        parts.extend(self._detail_html())
        if self.remedies:
            parts.append("<p><b>Remedies</b></p><ul>" + "".join(f"<li>{esc(r)}</li>" for r in self.remedies) + "</ul>")
        if self.notes:
            parts.append("<p><b>Notes</b></p><ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        parts.append("</div>")
        return "\n".join(parts)

    def _detail_html(self) -> list[str]:
        lines = self._detail_lines()
        return [f"<pre>{html.escape(chr(10).join(lines))}</pre>"] if lines else []

    def _repr_html_(self) -> str:
        return self.to_html()

    # -- plotting ---------------------------------------------------------------------------
    def plot(self, path=None, ax=None):
        """Draw the diagnosis; returns the matplotlib ``Figure``.

        With ``ax`` the main panel is drawn into that axes (its figure is returned);
        otherwise a new figure with every panel is made. With ``path`` (``.png``, ``.svg``,
        ``.pdf``) the figure is also written, atomically.
        """
        if ax is None:
            fig = self._draw(None)
        else:
            self._draw(ax)
            fig = ax.figure
        if path is not None:
            save_figure(fig, path)
        return fig

    def _draw(self, ax):
        """Draw into ``ax`` (main panel only) or, with ``ax=None``, make and return a full figure."""
        if ax is None:
            fig, (ax,) = new_figure()
        else:
            fig = ax.figure
        ax.axis("off")
        ax.text(0.0, 1.0, str(self), va="top", ha="left", family="monospace", fontsize=8, transform=ax.transAxes)
        return fig


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def check_thresholds(owner: str, defaults: dict, overrides: dict | None) -> dict:
    """``defaults`` updated with ``overrides``; unknown keys or non-numbers raise."""
    merged = dict(defaults)
    if overrides is None:
        return merged
    if not isinstance(overrides, dict):
        raise TypeError(
            f"{owner}: `thresholds` must be a dict such as {{{next(iter(defaults))!r}: ...}}; "
            f"received {type(overrides).__name__}."
        )
    for key, value in overrides.items():
        if key not in defaults:
            raise ValueError(
                f"{owner}: unknown threshold {key!r}. help: the thresholds are {sorted(defaults)}."
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise ValueError(
                f"{owner}: threshold {key!r} must be a finite number; received {key}={value!r}."
            )
        merged[key] = float(value) if isinstance(defaults[key], float) else int(value)
    return merged
