"""The ``robustness`` section of :func:`deepnet.diagnose.report`: robust accuracy per attack
and budget (a ``deepnet.robust.RobustnessResult``, its ``to_dict()``, or the folder / JSON file
``deepnet attack`` wrote), the accuracy-vs-eps plot, and the gradient-masking verdicts of
``deepnet.robust.check`` when given.

``diagnose`` sits below ``robust`` in the package levels, so results are read through their
public ``to_dict()`` (and ``plot(path)``) only, or from the files ``robustness.json``,
``robustness.png`` and ``robust_check.json``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os

__all__ = ["CHECK_FILE", "PLOT_FILE", "RESULT_FILE", "robustness_html"]

RESULT_FILE, PLOT_FILE, CHECK_FILE = "robustness.json", "robustness.png", "robust_check.json"


def _esc(text) -> str:
    return html.escape(str(text))


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _load(value, file_name: str) -> tuple[dict | None, str | None, object]:
    """``(dict, folder of the files or None, the original object)`` for a result, a dict, a
    folder or a JSON file."""
    if value is None:
        return None, None, None
    if hasattr(value, "to_dict"):
        return value.to_dict(), None, value
    if isinstance(value, dict):
        return value, None, None
    path = os.fspath(value)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, file_name)):
            return None, path, None  # a folder with only the other file
        path = os.path.join(path, file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: pass a result object, its to_dict(), or the folder / JSON "
                                f"file `deepnet attack` wrote")
    return _read_json(path), os.path.dirname(path), None


def _pct(value) -> str:
    return f"{100 * value:.2f}%" if isinstance(value, (int, float)) else ""


def _table(d: dict) -> str:
    rows = []
    success, size = d.get("success_rate", {}), d.get("mean_perturbation", {})
    for attack, by_eps in d.get("robust_accuracy", {}).items():
        for eps, acc in by_eps.items():
            s = success.get(attack, {}).get(eps)
            m = size.get(attack, {}).get(eps)
            rows.append(f"<tr><td>{_esc(attack)}</td><td>{_esc(eps)}</td><td>{_pct(acc)}</td><td>{_pct(s)}</td>"
                        f"<td>{'' if m is None else f'{m:.4g}'}</td></tr>")
    return ("<table><tr><th>attack</th><th>eps</th><th>robust accuracy</th><th>success rate</th>"
            "<th>mean perturbation</th></tr>" + "".join(rows) + "</table>")


def _plot(folder: str | None, obj) -> str | None:
    """The accuracy-vs-eps PNG as a data URI: drawn by the result object, or the file beside the JSON."""
    data = None
    if obj is not None and hasattr(obj, "plot"):
        buf = io.BytesIO()
        obj.plot(buf)
        data = buf.getvalue()
    elif folder is not None and os.path.isfile(os.path.join(folder, PLOT_FILE)):
        with open(os.path.join(folder, PLOT_FILE), "rb") as f:
            data = f.read()
    return None if data is None else "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _check_html(d: dict) -> list[str]:
    masked = d.get("masked")
    badge = ('<span class="badge badge-error">masked gradients suspected</span>' if masked else
             '<span class="badge badge-ok">no sign of gradient masking</span>')
    rows = []
    for c in d.get("checks", []):
        status = "skipped" if c.get("passed") is None else ("pass" if c["passed"] else "FAIL")
        cls = {"pass": "ok", "FAIL": "error", "skipped": "missing"}[status]
        rows.append(f'<tr><td><span class="badge badge-{cls}">{status}</span></td><td>{_esc(c.get("name"))}</td>'
                    f'<td>{_esc(c.get("observed", ""))}</td><td>{_esc(c.get("expected", ""))}</td>'
                    f'<td>{_esc(c.get("remedy") or "")}</td></tr>')
    head = (f"<h3>Gradient-masking checks</h3><p>{badge} at eps={_esc(d.get('eps'))} on {_esc(d.get('samples'))} "
            f"samples; clean accuracy {_pct(d.get('clean_accuracy'))}, lowest robust accuracy of the battery "
            f"{_pct(d.get('robust_accuracy'))}.</p>")
    return [head, "<table><tr><th>status</th><th>check</th><th>observed</th><th>expected</th><th>remedy</th></tr>"
            + "".join(rows) + "</table>"]


def robustness_html(robustness=None, check=None) -> list[str]:
    """HTML parts of the robustness section: ``robustness`` (a ``RobustnessResult``, its
    ``to_dict()``, or the folder / ``robustness.json`` that ``deepnet attack`` wrote) and
    ``check`` (a ``CheckResult``, its ``to_dict()``, or a folder / ``robust_check.json``; for a
    folder given as ``robustness`` its ``robust_check.json`` is read when present).

    >>> d = {"clean_accuracy": 0.9, "robust_accuracy": {"pgd": {"0.1": 0.4}}, "n_samples": 10, "norm": "inf"}
    >>> parts = robustness_html(d)
    >>> "90.00%" in parts[0], "40.00%" in parts[1]
    (True, True)
    """
    d, folder, obj = _load(robustness, RESULT_FILE)
    if check is None and folder is not None and os.path.isfile(os.path.join(folder, CHECK_FILE)):
        check = os.path.join(folder, CHECK_FILE)
    c, _, _ = _load(check, CHECK_FILE)
    parts: list[str] = []
    if d is not None:
        norm = "L-inf" if d.get("norm", "inf") == "inf" else "L2"
        settings = d.get("settings") or {}
        threat = f"; {settings['threat']}" if settings.get("threat") else ""
        parts.append(f"<p>Clean accuracy {_pct(d.get('clean_accuracy'))} on {_esc(d.get('n_samples'))} samples "
                     f"({norm}{_esc(threat)}). Robust accuracy: the accuracy under attack; success rate: the "
                     f"fraction of correctly classified samples the attack fooled.</p>")
        parts.append(_table(d))
        uri = _plot(folder, obj)
        if uri is not None:
            parts.append(f'<img alt="accuracy vs eps" src="{uri}">')
    if c is not None:
        parts.extend(_check_html(c))
    return parts
