"""The ``explanations`` section of :func:`deepnet.diagnose.report`: the attribution pictures and
summary that ``deepnet explain`` wrote (``explanations.json`` and ``explain_<method>.png``), or
a ``deepnet.explain.ExplanationCheck`` / dict, with the trust verdict per method.

``diagnose`` sits below ``explain`` in the package levels, so results are read through their
public ``to_dict()`` only, or from the files.
"""

from __future__ import annotations

import base64
import html
import json
import os

__all__ = ["RESULT_FILE", "explanations_html"]

RESULT_FILE = "explanations.json"


def _esc(text) -> str:
    return html.escape(str(text))


def _load(value) -> tuple[dict, str | None]:
    if hasattr(value, "to_dict"):  # an ExplanationCheck
        return {"check": value.to_dict()}, None
    if isinstance(value, dict):
        return value, None
    path = os.fspath(value)
    if os.path.isdir(path):
        path = os.path.join(path, RESULT_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: pass an ExplanationCheck, a dict, or the folder / "
                                f"{RESULT_FILE} that `deepnet explain` wrote")
    with open(path, encoding="utf-8") as f:
        return json.load(f), os.path.dirname(path)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _check_table(c: dict) -> str:
    rows = []
    for name, m in c.get("methods", {}).items():
        badge = ('<span class="badge badge-ok">trust</span>' if m.get("trusted") else
                 '<span class="badge badge-error">do not trust</span>')
        rows.append(f"<tr><td>{_esc(name)}</td><td>{badge}</td><td>{m['randomisation']:.3f}</td>"
                    f"<td>{m['deletion_auc']:.3f} ({m['deletion_auc_random']:.3f})</td>"
                    f"<td>{m['insertion_auc']:.3f} ({m['insertion_auc_random']:.3f})</td>"
                    f"<td>{_pct(m.get('completeness_error'))}</td><td>{_esc('; '.join(m.get('reasons', [])))}</td></tr>")
    trusted = ", ".join(c.get("trusted", [])) or "none of the methods checked"
    return (f"<h3>Trust checks</h3><p>On {_esc(c.get('samples'))} samples; randomisation passes when the Spearman "
            f"correlation stays below {_esc(c.get('threshold'))}. Trust this model's explanations from: "
            f"<b>{_esc(trusted)}</b>.</p><table><tr><th>method</th><th>verdict</th><th>randomisation rho</th>"
            "<th>deletion AUC (random)</th><th>insertion AUC (random)</th><th>completeness error</th>"
            "<th>reasons</th></tr>" + "".join(rows) + "</table>")


def explanations_html(explanations) -> list[str]:
    """HTML parts of the explanations section: ``explanations`` is the folder (or
    ``explanations.json``) that ``deepnet explain`` wrote, its dict, or a
    ``deepnet.explain.ExplanationCheck``.

    >>> d = {"samples": 4, "methods": {"saliency": {"shape": [4, 3]}}}
    >>> "saliency" in explanations_html(d)[0]
    True
    """
    d, folder = _load(explanations)
    parts = []
    methods = d.get("methods", {})
    if methods:
        rows = "".join(
            f"<tr><td>{_esc(k)}</td><td>{_esc(tuple(m.get('shape', ())))}</td>"
            f"<td>{_pct((m.get('completeness_error') or {}).get('mean'))}</td></tr>" for k, m in methods.items())
        parts.append(f"<p>Attributions of {_esc(d.get('samples'))} samples of {_esc(d.get('data', 'the data'))} "
                     "(red: pushes towards the predicted class, blue: against).</p><table><tr><th>method</th>"
                     f"<th>shape</th><th>completeness error</th></tr>{rows}</table>")
    for k in methods:
        png = None if folder is None else os.path.join(folder, f"explain_{k}.png")
        if png is not None and os.path.isfile(png):
            with open(png, "rb") as f:
                uri = "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")
            parts.append(f'<h3>{_esc(k)}</h3><img alt="{_esc(k)} attributions" src="{uri}">')
    if d.get("check"):
        parts.append(_check_table(d["check"]))
    return parts
