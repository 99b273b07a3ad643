"""One self-contained HTML page with every diagnosis of a model and its training run.

``report("report.html", model=model, history=history, data=(x, y))`` writes a single file:
images are embedded as base64 PNG ``data:`` URIs, the CSS is inline, there is no JavaScript and
no reference to anything outside the file, so it can be mailed, archived or opened offline.
Sections (each an element with a fixed ``id`` to link to): ``summary`` (model summary, parameter
counts and an overview of every verdict), ``learning-curves``, ``gradients``, ``data-checks``,
``memory`` (memory plan and, inside it, ``latency``), ``tuning`` (the trials of a hyperparameter
search), ``robustness`` (robust accuracy under adversarial attacks, gradient-masking checks) and
``other`` (extra results passed in).
A section whose inputs are missing says what to pass; a diagnosis that fails shows its error in
its section (and warns) instead of losing the whole report.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import os
import warnings

from torch import nn

from ..utils.io import atomic_write
from ..version import __version__
from ._curves import learning_curves
from ._data import data as data_check
from ._latency import latency
from ._memory import memory
from ._report_explain import explanations_html
from ._report_robust import robustness_html
from ._report_tuning import tuning_html
from ._result import DiagnosisResult

__all__ = ["SECTION_IDS", "report"]

#: the ``id`` of every section, in page order
SECTION_IDS = ("summary", "learning-curves", "gradients", "data-checks", "memory", "tuning", "robustness",
               "explanations", "other")

_CSS = """
:root { --fg: #1a202c; --muted: #4a5568; --line: #e2e8f0; --bg: #ffffff; --panel: #f7fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color: var(--fg); background: var(--bg); }
header { padding: 24px 40px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); font-size: 13px; }
nav { margin-top: 10px; }
nav a { margin-right: 14px; color: #2b6cb0; text-decoration: none; font-size: 14px; }
main { padding: 8px 40px 40px; max-width: 1500px; }
section { border-bottom: 1px solid var(--line); padding: 12px 0 20px; }
.dn-diagnosis { margin-top: 10px; }
h2 { font-size: 21px; margin: 14px 0 8px; }
h3 { font-size: 16px; margin: 12px 0 6px; }
pre { background: var(--panel); border: 1px solid var(--line); padding: 10px 12px; overflow-x: auto;
      font: 12px/1.2 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); margin: 6px 0; }
table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
.dn-severity { font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.badge-ok { background: #2f855a; } .badge-info { background: #2b6cb0; }
.badge-warning { background: #c05621; } .badge-error { background: #c53030; } .badge-missing { background: #718096; }
.dn-severity-warning h3 { color: #c05621; } .dn-severity-error h3 { color: #c53030; }
.missing { color: var(--muted); font-style: italic; }
.failed { color: #c53030; background: #fff5f5; border: 1px solid #feb2b2; padding: 8px 12px; }
footer { padding: 12px 40px 30px; color: var(--muted); font-size: 12px; }
"""


def _png_data_uri(fig, dpi: int = 90) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _esc(text) -> str:
    return html.escape(str(text))


class _Section:
    def __init__(self, sid: str, title: str):
        self.id = sid
        self.title = title
        self.parts: list[str] = []
        self.results: list[tuple[str, DiagnosisResult | None, str | None]] = []  # (label, result, error)

    def add_result(self, label: str, result: DiagnosisResult, with_plot: bool = True) -> None:
        self.parts.append(result.to_html())  # heading, verdict, evidence, remedies, notes
        if with_plot:
            fig = result.plot()
            self.parts.append(f'<img alt="{_esc(label)} plot" src="{_png_data_uri(fig)}">')
        self.results.append((label, result, None))

    def add_missing(self, label: str, text: str) -> None:
        self.parts.append(f'<p class="missing">{_esc(text)}</p>')
        self.results.append((label, None, None))

    def add_failure(self, label: str, error: BaseException) -> None:
        msg = f"{type(error).__name__}: {error}"
        warnings.warn(f"report(): the {label} section failed ({msg}); the rest of the report was written.",
                      RuntimeWarning, stacklevel=3)
        self.parts.append(f'<div class="failed"><b>{_esc(label)} could not be computed.</b><br>{_esc(msg)}</div>')
        self.results.append((label, None, msg))

    def render(self) -> str:
        return f'<section id="{self.id}">\n<h2>{_esc(self.title)}</h2>\n' + "\n".join(self.parts) + "\n</section>"


def _run(section: _Section, label: str, fn, with_plot: bool = True) -> DiagnosisResult | None:
    try:
        result = fn()
        section.add_result(label, result, with_plot)
        return result
    except Exception as e:  # one failing diagnosis must not lose the others: shown and warned
        section.add_failure(label, e)
        return None


def _history_of(history, model):
    if history is None and model is not None:
        history = getattr(model, "history", None)
        if history is not None and not getattr(history, "history", None):
            history = None
    return history


def _model_overview(model) -> list[str]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    try:
        total = model.count_params()
    except ValueError:
        total = None
    trainable = sum(w.numel() for w in getattr(model, "trainable_weights", []))
    non_trainable = sum(w.numel() for w in getattr(model, "non_trainable_weights", []))
    rows = [("Model", getattr(model, "name", type(model).__name__)),
            ("Parameters", f"{total:,}" if total is not None else "unbuilt"),
            ("Trainable", f"{trainable:,}"), ("Non-trainable", f"{non_trainable:,}")]
    trainer = getattr(model, "_trainer", None)
    if trainer is not None:
        rows.append(("Optimizer", type(trainer.optimizer).__name__))
        rows.append(("Loss", ", ".join(type(fn).__name__ for fn in trainer.losses if fn is not None) or "none"))
    table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return [f"<table>{table}</table>", f"<pre>{_esc(text)}</pre>"]


def _curves_section(history) -> _Section:
    section = _Section("learning-curves", "Learning curves")
    if history is not None:
        _run(section, "Learning curves", lambda: learning_curves(history))
    else:
        section.add_missing("Learning curves", "No training history: pass history=model.fit(...) (or a fitted model).")
    return section


def _gradients_section(gradient_monitor, gradients) -> _Section:
    section = _Section("gradients", "Gradient health")
    if gradient_monitor is not None:
        _run(section, "Gradient health", gradient_monitor.result)
    elif gradients is not None:
        _run(section, "Gradient health", lambda: gradients)
    else:
        section.add_missing("Gradient health", "No gradient monitor: train with callbacks=[deepnet.diagnose."
                                               "GradientMonitor()] and pass gradient_monitor=... to see gradient "
                                               "norms per layer.")
    return section


def _data_section(data, validation_data, model, history) -> _Section:
    section = _Section("data-checks", "Data checks")
    if isinstance(data, DiagnosisResult):
        _run(section, "Data checks", lambda: data, with_plot=True)
    elif data is not None:
        x, y = (data[0], data[1]) if isinstance(data, (list, tuple)) and len(data) == 2 else (data, None)
        trained = model if (model is not None and history is not None and y is not None) else None
        _run(section, "Data checks", lambda: data_check(x, y, validation_data=validation_data, model=trained),
             with_plot=True)
    else:
        section.add_missing("Data checks", "No data: pass data=(x, y) to check for NaNs, duplicates, leakage and "
                                           "label problems.")
    return section


def _memory_section(model, history, batch_size, memory_budget, latency_batch_sizes) -> _Section:
    section = _Section("memory", "Memory & latency")
    if model is None:
        section.add_missing("Memory plan", "No model: pass model=... for its memory plan and latency.")
        return section
    if batch_size is None:
        batch_size = (getattr(history, "params", None) or {}).get("batch_size") or 32
    _run(section, "Memory plan", lambda: memory(model, batch_size=int(batch_size), memory_budget=memory_budget))
    section.parts.append('<div id="latency"></div>')
    if latency_batch_sizes:
        _run(section, "Inference latency", lambda: latency(model, batch_sizes=latency_batch_sizes, repeats=10))
    return section


def _optional_section(sid: str, title: str, given: bool, missing: tuple[str, str], parts) -> _Section:
    """A section drawn from results passed to ``report`` (``parts()``), or a note when none were."""
    section = _Section(sid, title)
    if not given:
        section.add_missing(*missing)
        return section
    try:
        section.parts.extend(parts())
    except Exception as e:  # shown in the page and warned, like the other sections
        section.add_failure(title, e)
    return section


def _tuning_section(tuning) -> _Section:
    return _optional_section("tuning", "Hyperparameter search", tuning is not None, (
        "Tuning", "No hyperparameter search: pass tuning=<a deepnet.tune.Tuner or the directory `deepnet tune` "
                  "wrote> to list its trials and plots."), lambda: tuning_html(tuning))


def _robustness_section(robustness, robust_check) -> _Section:
    section = _Section("robustness", "Adversarial robustness")
    if robustness is None and robust_check is None:
        section.add_missing("Robustness", "No robustness evaluation: pass robustness=deepnet.robust.evaluate(...) "
                                          "(or the folder `deepnet attack` wrote) and robust_check=deepnet.robust."
                                          "check(...).")
        return section
    try:
        section.parts.extend(robustness_html(robustness, robust_check))
    except Exception as e:  # shown in the page and warned, like the other sections
        section.add_failure("Adversarial robustness", e)
    return section


def _explanations_section(explanations) -> _Section:
    return _optional_section("explanations", "Explanations", explanations is not None, (
        "Explanations", "No explanations: pass explanations=<the folder `deepnet explain` wrote, or "
                        "deepnet.explain.check(...)>."), lambda: explanations_html(explanations))


def _other_section(results) -> _Section:
    section = _Section("other", "Other diagnoses")
    for r in results:
        _run(section, r.title, lambda r=r: r)
    if not results:
        section.add_missing("Other", "Nothing else was passed (results=[...] adds e.g. a depth_tradeoff result).")
    return section


def _overview_row(section: _Section, label: str, result, error) -> str | None:
    link = f'<tr><td><a href="#{section.id}">{_esc(label)}</a></td>'
    if result is not None:
        badge = f'<span class="badge badge-{_esc(result.severity)}">{_esc(result.severity)}</span>'
        return f"{link}<td>{badge}</td><td><code>{_esc(result.verdict)}</code></td><td>{_esc(result.summary)}</td></tr>"
    if error is not None:
        return f'{link}<td><span class="badge badge-error">failed</span></td><td></td><td>{_esc(error)}</td></tr>'
    if section.id not in ("other", "tuning", "robustness", "explanations"):
        return f'{link}<td><span class="badge badge-missing">not run</span></td><td></td><td></td></tr>'
    return None


def _summary_section(sections: list[_Section], model) -> _Section:
    """The overview of every verdict first, then the model."""
    summary = _Section("summary", "Summary")
    rows = [_overview_row(section, *entry) for section in sections for entry in section.results]
    summary.parts.append("<h3>Verdicts</h3><table><tr><th>Check</th><th>Severity</th><th>Verdict</th>"
                         "<th>Summary</th></tr>" + "".join(r for r in rows if r) + "</table>")
    if model is None:
        summary.parts.append('<p class="missing">No model given.</p>')
        return summary
    try:
        summary.parts.append("<h3>Model</h3>")
        summary.parts.extend(_model_overview(model))
    except Exception as e:  # shown in the page and warned, like the other sections
        summary.add_failure("Model summary", e)
    return summary


def _page(title: str, sections: list[_Section]) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    nav = "".join(f'<a href="#{s.id}">{_esc(s.title)}</a>' for s in sections)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{_esc(title)}</h1><p>Written {stamp} by deepnet {_esc(__version__)} "
        "(deepnet.diagnose.report)</p>",
        f"<nav>{nav}</nav></header>",
        "<main>",
        *(s.render() for s in sections),
        "</main>",
        "<footer>Self-contained page: images are embedded, no scripts, no external resources.</footer>",
        "</body>",
        "</html>",
    ])


def report(path="report.html", model=None, history=None, data=None, validation_data=None, title=None,
           gradient_monitor=None, *, batch_size: int | None = None, memory_budget=None,
           latency_batch_sizes=(1, 32), results=(), gradients=None, tuning=None, robustness=None,
           robust_check=None, explanations=None) -> str:
    """Write one self-contained HTML report and return its path.

    Args:
        path: the ``.html`` file to write (atomically: a crash leaves any previous file intact).
        model: the model (summary, memory plan, latency; label-error check with ``data``).
        history: the ``History`` from ``fit`` (default: ``model.history`` when the model was fitted).
        data: ``(x, y)`` (or ``x``) to check with :func:`deepnet.diagnose.data`, or the result of
            such a check already made.
        validation_data: ``(x_val, y_val)`` for the leakage checks.
        title: page title (default: ``"Training report: <model name>"``).
        gradient_monitor: a :class:`~deepnet.diagnose.GradientMonitor` that watched ``fit``.
        gradients: instead of a monitor, the result of :func:`deepnet.diagnose.gradients`.
        batch_size: batch size of the memory plan (default: the ``batch_size`` of the last ``fit``
            when known, else 32).
        memory_budget: bytes or ``"16GB"``-style string for the memory verdict.
        latency_batch_sizes: batch sizes timed for the latency section (``()`` skips it).
        results: further :class:`~deepnet.diagnose.DiagnosisResult` objects (e.g. a
            ``depth_tradeoff`` result) shown in the ``other`` section.
        tuning: a hyperparameter search for the ``tuning`` section: a ``deepnet.tune.Tuner``
            or the directory ``deepnet tune`` wrote (its ``trials.csv`` and plots).
        robustness: a ``deepnet.robust.RobustnessResult`` (or its ``to_dict()``, or the folder /
            ``robustness.json`` that ``deepnet attack`` wrote) for the ``robustness`` section.
        robust_check: a ``deepnet.robust.CheckResult`` (or its ``to_dict()``, or a folder /
            ``robust_check.json``): the gradient-masking verdicts, in the same section.
        explanations: the folder (or ``explanations.json``) that ``deepnet explain`` wrote, its
            dict, or a ``deepnet.explain.ExplanationCheck``, for the ``explanations`` section.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> dn.diagnose.report(path) == path, "No training history" in open(path).read()
    (True, True)
    """
    path = os.fspath(path)
    if not path:
        raise ValueError("report(): `path` must be a non-empty file name such as 'report.html'.")
    for r in results:
        if not isinstance(r, DiagnosisResult):
            raise TypeError(f"report(): every item of `results` must be a DiagnosisResult; received {type(r).__name__}.")
    if gradient_monitor is not None and gradients is not None:
        raise ValueError("report(): pass `gradient_monitor` or `gradients`, not both.")
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"report(): `model` must be a deepnet model (or torch.nn.Module) or None; received "
                        f"{type(model).__name__}.")
    history = _history_of(history, model)
    name = getattr(model, "name", None)
    title = title or (f"Training report: {name}" if name else "Training report")
    sections = [_curves_section(history), _gradients_section(gradient_monitor, gradients),
                _data_section(data, validation_data, model, history),
                _memory_section(model, history, batch_size, memory_budget, latency_batch_sizes),
                _tuning_section(tuning), _robustness_section(robustness, robust_check),
                _explanations_section(explanations), _other_section(results)]
    page = _page(title, [_summary_section(sections, model), *sections])
    with atomic_write(path, "w") as f:
        f.write(page)
    return path
