"""Diagnosis of training problems (see ``docs/diagnose.md``).

Every function returns a :class:`DiagnosisResult` with the same interface: ``verdict``,
``summary``, ``evidence``, ``remedies``, ``severity``, ``notes``; ``print()``/``str()``,
``to_dict()``/``to_json()``, ``to_html()`` and ``plot(path=None, ax=None)``.

* :func:`learning_curves` - overfitting, underfitting, instability, convergence from a History.
* :class:`GradientMonitor` (callback) and :func:`gradients` (one batch) - vanishing/exploding
  gradients, dead ReLUs, update-to-weight ratios.
* :func:`data` - NaN/inf, constant features, scales, class imbalance, duplicates, leakage,
  suspected label errors.
"""

from ._result import DiagnosisResult
from .curves import LearningCurveDiagnosis, learning_curves
from .data import DataDiagnosis, Finding, data
from .gradients import GradientDiagnosis, GradientMonitor, gradients

__all__ = [
    "DataDiagnosis", "DiagnosisResult", "Finding", "GradientDiagnosis", "GradientMonitor",
    "LearningCurveDiagnosis", "data", "gradients", "learning_curves",
]
