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

import dataclasses
import html
import io
import json
import math
import os
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..utils.io import atomic_write_bytes

__all__ = ["DiagnosisResult", "SEVERITIES", "batch_size_axis", "figure_or_axes", "jsonable", "new_figure",
           "save_figure"]

SEVERITIES = ("ok", "info", "warning", "error")
_IMAGE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg"}


# ----------------------------------------------------------------------------- helpers


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy/torch scalars and arrays turned into plain Python values; non-finite
    floats become ``"nan"``/``"inf"``/``"-inf"`` so that strict JSON can hold them.

    >>> jsonable({"a": np.float32(0.5), "b": float("nan"), "c": np.arange(2)})
    {'a': 0.5, 'b': 'nan', 'c': [0, 1]}
    """
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


def _fmt_number(value: Any) -> str:
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4g}"


def fmt_value(value: Any, max_items: int = 8) -> str:
    """Compact text for evidence values: 4 significant digits, long lists shortened."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _fmt_number(value)
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
    """A matplotlib ``Figure`` on an Agg canvas (no pyplot, no GUI) and its axes (a flat list).

    >>> fig, axes = new_figure(ncols=2)
    >>> len(axes)
    2
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def figure_or_axes(ax, ncols: int = 1, width: float = 6.4, height: float = 4.2):
    """``(figure, axes)``: a new figure of ``ncols`` panels when ``ax`` is None, else ``ax``'s own.

    >>> fig, axes = figure_or_axes(None, ncols=2)
    >>> len(axes), figure_or_axes(axes[0])[1] == [axes[0]]
    (2, True)
    """
    if ax is None:
        return new_figure(ncols=ncols, width=width, height=height)
    return ax.figure, [ax]


def batch_size_axis(ax, sizes) -> None:
    """A log-scaled x axis with one labelled tick per batch size of ``sizes`` (no minor ticks).

    >>> fig, (ax,) = new_figure()
    >>> batch_size_axis(ax, [1, 32, 256])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['1', '32', '256']
    """
    from matplotlib.ticker import FixedLocator, NullLocator

    sizes = list(sizes)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_xlabel("batch size")
    ax.grid(True, which="both", alpha=0.3)


def save_figure(fig, path, dpi: int = 110) -> str:
    """Render ``fig`` to ``path`` (format from the extension: .png, .svg, .pdf, .jpg) atomically.

    >>> import os, tempfile
    >>> fig, _ = new_figure()
    >>> path = save_figure(fig, os.path.join(tempfile.mkdtemp(), "empty.svg"))
    >>> os.path.getsize(path) > 0
    True
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _IMAGE_FORMATS:
        raise ValueError(
            f"Cannot save a plot to {path!r}: unsupported extension {ext or '(none)'!r}. "
            f"help: use one of {', '.join(sorted(_IMAGE_FORMATS))}, e.g. plot('curves.png')."
        )
    buf = io.BytesIO()
    fig.savefig(buf, format=_IMAGE_FORMATS[ext], dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path


def wrap_title(heading: str, summary: str, fig) -> str:
    """``heading`` and the summary wrapped to the figure's width (for ``fig.suptitle``)."""
    width = int(fig.get_figwidth() * 13)
    return heading + "\n" + ("\n".join(textwrap.wrap(summary, width)) or summary)


def result_field(default: Any = dataclasses.MISSING, *, in_dict: bool = True, group: str | None = None,
                 default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field of a result; ``in_dict=False`` leaves it out of :meth:`to_dict`,
    ``group`` nests it under that key (``{"curves": {...}}``)."""
    return field(default=default, default_factory=default_factory,
                 metadata={"in_dict": in_dict, "group": group})


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------- result


@dataclass(repr=False, eq=False)
class DiagnosisResult:
    """What every diagnosis returns: a verdict with its evidence and remedies.

    Subclasses are dataclasses too (``kw_only``): they set ``kind`` and ``title``, declare
    their own fields once (each appears in :meth:`to_dict` unless declared with
    ``result_field(in_dict=False)``), and may add text lines (:meth:`_detail_lines`) and a
    drawing (:meth:`_draw`).

    >>> r = dn.diagnose.DiagnosisResult("fine", "Nothing to report.", {"epochs": 3})
    >>> print(r)
    Diagnosis: fine [ok]
      Nothing to report.
    Evidence:
      epochs: 3
    >>> r.ok, sorted(r.to_dict())[:3]
    (True, ['evidence', 'kind', 'notes'])
    """

    verdict: str
    summary: str
    evidence: dict = field(default_factory=dict)
    remedies: list = field(default_factory=list)
    severity: str = "ok"
    notes: list = field(default_factory=list)

    kind: ClassVar[str] = "diagnosis"
    title: ClassVar[str] = "Diagnosis"
    #: evidence keys left out of the plain-text evidence list (a subclass prints them itself)
    _text_hidden: ClassVar[tuple] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"Received an invalid value for `severity` of {type(self).__name__}, expected one of "
                f"{SEVERITIES}. Received: severity={self.severity!r}"
            )
        self.verdict = str(self.verdict)
        self.summary = str(self.summary)
        self.evidence = dict(self.evidence or {})
        self.remedies = list(self.remedies or [])
        self.notes = list(self.notes or [])

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
            lines.extend(f"  {key}: {fmt_value(value)}" for key, value in self.evidence.items()
                         if key not in self._text_hidden)
        lines.extend(self._detail_lines())
        if self.remedies:
            lines.append("Remedies:")
            lines.extend(f"  - {r}" for r in self.remedies)
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  * {n}" for n in self.notes)
        return "\n".join(lines)

    def print(self, file=None) -> None:
        """Print the plain-text report (to ``file``, default stdout).

        >>> dn.diagnose.DiagnosisResult("fine", "All good.").print()
        Diagnosis: fine [ok]
          All good.
        """
        print(str(self), file=file if file is not None else sys.stdout)

    def _detail_lines(self) -> list[str]:
        return []

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-serialisable dict: kind, title, verdict, severity, summary, evidence, remedies,
        notes, plus the subclass' own fields.

        >>> dn.diagnose.DiagnosisResult("fine", "All good.").to_dict()["verdict"]
        'fine'
        """
        out: dict[str, Any] = {
            "kind": self.kind, "title": self.title, "verdict": self.verdict, "severity": self.severity,
            "summary": self.summary, "evidence": self.evidence, "remedies": self.remedies, "notes": self.notes,
        }
        base = {f.name for f in dataclasses.fields(DiagnosisResult)}
        for f in dataclasses.fields(self):
            if f.name in base or not f.metadata.get("in_dict", True):
                continue
            value = _plain(getattr(self, f.name))
            group = f.metadata.get("group")
            if group is None:
                out[f.name] = value
            else:
                out.setdefault(group, {})[f.name] = value
        return jsonable(out)

    def to_json(self, path=None, indent: int | None = 2) -> str:
        """The :meth:`to_dict` form as strict JSON text; also written atomically to ``path``.

        >>> print(dn.diagnose.DiagnosisResult("fine", "ok").to_json(indent=None)[:36])
        {"kind": "diagnosis", "title": "Diag
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            atomic_write_bytes(path, text.encode("utf-8"))
        return text

    def to_html(self) -> str:
        """An HTML fragment (heading, summary, evidence table, remedies, notes) with CSS classes
        ``dn-diagnosis`` and ``dn-severity-<severity>`` for styling.

        >>> dn.diagnose.DiagnosisResult("fine", "ok").to_html().splitlines()[0]
        '<div class="dn-diagnosis dn-severity-ok">'
        """
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
        for heading, items in (("Remedies", self.remedies), ("Notes", self.notes)):
            if items:
                parts.append(f"<p><b>{heading}</b></p><ul>" + "".join(f"<li>{esc(r)}</li>" for r in items)
                             + "</ul>")
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

        >>> fig = dn.diagnose.DiagnosisResult("fine", "ok").plot()
        >>> type(fig).__name__
        'Figure'
        """
        if ax is None:
            fig = self._draw(None)
        else:
            self._draw(ax)
            fig = ax.figure
        if path is not None:
            save_figure(fig, path)
        return fig

    def _draw_panels(self, ax, main, panels, title: str, width: float, height: float):
        """Draw ``main(ax)`` into ``ax``, or with ``ax=None`` a new figure of ``panels`` side by side."""
        if ax is not None:
            main(ax)
            return ax.figure
        fig, axes = new_figure(ncols=len(panels), width=width, height=height)
        for draw, a in zip(panels, axes):
            draw(a)
        fig.suptitle(title, fontsize=9)
        return fig

    def _draw(self, ax):
        """Draw into ``ax`` (main panel only) or, with ``ax=None``, make and return a full figure."""
        fig, (ax,) = figure_or_axes(ax)
        ax.axis("off")
        ax.text(0.0, 1.0, str(self), va="top", ha="left", family="monospace", fontsize=8, transform=ax.transAxes)
        return fig


def severity_rank(severity: str) -> int:
    """Position of ``severity`` in :data:`SEVERITIES` (``"ok"`` 0 ... ``"error"`` 3)."""
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
