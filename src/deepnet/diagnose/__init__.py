"""Diagnosis of training problems (see ``docs/diagnose.md``).

Every function returns a :class:`DiagnosisResult` with the same interface: ``verdict``,
``summary``, ``evidence``, ``remedies``, ``severity``, ``notes``; ``print()``/``str()``,
``to_dict()``/``to_json()``, ``to_html()`` and ``plot(path=None, ax=None)``.

* :func:`learning_curves` - overfitting, underfitting, instability, convergence from a History.
* :class:`GradientMonitor` (callback) and :func:`gradients` (one batch) - vanishing/exploding
  gradients, dead ReLUs, update-to-weight ratios.
* :func:`data` - NaN/inf, constant features, scales, class imbalance, duplicates, leakage,
  suspected label errors.
* :func:`memory` / :func:`max_batch_size` - memory plan of a training step.
* :func:`latency` / :func:`depth_tradeoff` - inference time, and depth against response time.
* :func:`report` - every diagnosis in one self-contained HTML page.

The implementation modules are private (``_data``, ``_curves``...): the functions above are the
public names, so no function shadows a module.
"""

from ._curves import LearningCurveDiagnosis, learning_curves
from ._data import data
from ._data_result import DataDiagnosis, Finding
from ._gradients import GradientDiagnosis, GradientMonitor, gradients
from ._latency import DepthTradeoff, LatencyResult, depth_tradeoff, latency
from ._memory import max_batch_size, memory, parse_bytes
from ._memory_result import MaxBatchSize, MemoryPlan
from ._report import report
from ._result import DiagnosisResult

__all__ = [
    "DataDiagnosis", "DepthTradeoff", "DiagnosisResult", "Finding", "GradientDiagnosis", "GradientMonitor",
    "LatencyResult", "LearningCurveDiagnosis", "MaxBatchSize", "MemoryPlan", "data", "depth_tradeoff",
    "gradients", "latency", "learning_curves", "max_batch_size", "memory", "parse_bytes", "report",
]
