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
from .latency import DepthTradeoff, LatencyResult, depth_tradeoff, latency
from .memory import MaxBatchSize, MemoryPlan, max_batch_size, memory, parse_bytes
from .report import report

__all__ = [
    "DataDiagnosis", "DepthTradeoff", "DiagnosisResult", "Finding", "GradientDiagnosis", "GradientMonitor", "LatencyResult", "LearningCurveDiagnosis", "MaxBatchSize", "MemoryPlan", "data", "depth_tradeoff", "gradients", "latency", "learning_curves", "max_batch_size", "memory", "parse_bytes", "report",
]
