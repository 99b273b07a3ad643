"""Inference latency and the depth / response-time trade-off.

``latency(model)`` times the forward pass (inference mode: ``model.eval()`` and
``torch.no_grad()``) at several batch sizes after a warm-up, and reports the median and 90th
percentile time per batch, the time per sample and the throughput. On CUDA every timed call is
bracketed by ``torch.cuda.synchronize()`` so that the time is the kernels', not the launch's.

``depth_tradeoff(build_fn, depths, data)`` builds one model per depth, trains each briefly,
and puts validation accuracy (or loss) next to the per-sample latency: the plot shows what each
extra block buys and costs, and the result recommends the shallowest depth whose accuracy is
within 1 percentage point of the best (within 1% of the best loss for regression).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from .. import activations, losses
from ..utils.validation import Interval, check
from ._memory import forward_flops
from ._memory_result import readable_flops
from ._memory_trace import model_input_specs
from ._result import DiagnosisResult, batch_size_axis, result_field

__all__ = ["DepthTradeoff", "LatencyResult", "depth_tradeoff", "latency"]


# ----------------------------------------------------------------------------- helpers


def _fmt_time(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def _fmt_rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.3g}M samples/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.3g}k samples/s"
    return f"{rate:.3g} samples/s"


def _check_int(value, name: str, owner: str, minimum: int = 1) -> int:
    return int(check(owner, name, value, Interval(Integral, minimum, None)))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":  # pragma: no cover - no Apple GPU here
        torch.mps.synchronize()


def _random_inputs(specs, batch: int, device):
    out = []
    for shape, dtype in specs:
        if dtype.is_floating_point:
            out.append(torch.randn((batch, *shape), device=device).to(dtype))
        else:  # token ids: small valid indices
            out.append(torch.randint(0, 2, (batch, *shape), device=device).to(dtype))
    return out[0] if len(out) == 1 else out


# ----------------------------------------------------------------------------- latency


@dataclass(repr=False, eq=False, kw_only=True)
class LatencyResult(DiagnosisResult):
    """Forward latency per batch size. ``rows``: one dict per batch size with ``batch_size``,
    ``median_s``, ``p90_s``, ``min_s``, ``per_sample_s``, ``throughput`` (samples/s) and
    ``times_s`` (every timed repeat).

    >>> model = dn.Sequential([dn.Input(shape=(8,)), dn.layers.Dense(4)])
    >>> r = dn.diagnose.latency(model, batch_sizes=(1, 4), warmup=1, repeats=2)
    >>> [row["batch_size"] for row in r.rows], r.flops_per_sample
    ([1, 4], 68.0)
    """

    kind = "latency"
    title = "Inference latency"
    _text_hidden = ("rows",)

    rows: list = result_field(default_factory=list)
    device: str = result_field("cpu")
    flops_per_sample: float | None = result_field(None)

    def table(self) -> str:
        """The timing table as text: one line per batch size."""
        head = f"{'batch':>7} {'median':>10} {'p90':>10} {'per sample':>11} {'throughput':>18}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r['batch_size']:>7} {_fmt_time(r['median_s']):>10} {_fmt_time(r['p90_s']):>10} "
                         f"{_fmt_time(r['per_sample_s']):>11} {_fmt_rate(r['throughput']):>18}")
        return "\n".join(lines)

    def _detail_lines(self) -> list[str]:
        return [f"Forward pass on {self.device} (model.eval(), torch.no_grad()):", *("  " + s for s in self.table().splitlines())]

    def _draw(self, ax):
        return self._draw_panels(ax, self._draw_per_sample, (self._draw_per_sample, self._draw_throughput),
                                 f"Inference latency on {self.device}", width=5.0, height=3.8)

    def _ticks(self, ax) -> None:
        batch_size_axis(ax, [r["batch_size"] for r in self.rows])

    def _draw_per_sample(self, ax) -> None:
        xs = [r["batch_size"] for r in self.rows]
        med = [r["per_sample_s"] * 1e3 for r in self.rows]
        p90 = [r["p90_s"] / r["batch_size"] * 1e3 for r in self.rows]
        ax.plot(xs, med, "o-", color="#4c72b0", label="median")
        ax.plot(xs, p90, "v--", color="#dd8452", label="p90")
        ax.set_yscale("log")
        ax.set_ylabel("latency per sample (ms)")
        ax.set_title("Latency per sample vs batch size", fontsize=9)
        self._ticks(ax)
        ax.legend(fontsize=7)

    def _draw_throughput(self, ax) -> None:
        xs = [r["batch_size"] for r in self.rows]
        ax.plot(xs, [r["throughput"] for r in self.rows], "o-", color="#55a868", label="samples/s")
        ax.set_yscale("log")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["median_s"] * 1e3 for r in self.rows], "s:", color="#8172b3", label="batch latency (ms)")
        ax2.set_ylabel("median latency per batch (ms)", color="#8172b3")
        ax.set_ylabel("throughput (samples/s)", color="#55a868")
        ax.set_title("Throughput and batch latency", fontsize=9)
        self._ticks(ax)


def _time_forward(model, x, device, warmup: int, repeats: int) -> list[float]:
    times = []
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        _sync(device)
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            model(x)
            _sync(device)
            times.append(time.perf_counter() - t0)
    return times


def _time_batches(model, specs, sizes: list, home, target, warmup: int, repeats: int) -> list[dict]:
    """One timing row per batch size, the model in eval mode on ``target`` (restored afterwards)."""
    was_training = model.training
    rows = []
    try:
        if target != home:
            model.to(target)
        model.eval()
        for bs in sizes:
            times = _time_forward(model, _random_inputs(specs, bs, target), target, warmup, repeats)
            med = statistics.median(times)
            rows.append({"batch_size": bs, "median_s": med, "p90_s": float(np.percentile(times, 90)),
                         "min_s": min(times), "per_sample_s": med / bs, "throughput": bs / med, "times_s": times})
    finally:
        model.train(was_training)
        if target != home:
            model.to(home)
    return rows


def _flops_per_sample(model, input_shape) -> float | None:
    try:
        return forward_flops(model, input_shape)
    except Exception:  # FLOPs are a bonus: never fail the timing for them
        return None


def latency(model, batch_sizes=(1, 32, 256), input_shape=None, warmup: int = 3, repeats: int = 10,
            device=None) -> LatencyResult:
    """Measure the forward latency and throughput of ``model`` in inference mode.

    Args:
        model: a built deepnet model (or any ``torch.nn.Module`` with ``input_shape`` given).
        batch_sizes: batch sizes to time (random inputs of the model's input shape).
        input_shape: per-sample input shape, needed when the model's input has unknown
            dimensions; a list of shapes for several inputs.
        warmup: untimed calls before timing each batch size (kernel selection, caches).
        repeats: timed calls per batch size; the median and 90th percentile are reported.
        device: where to run (``"cpu"``, ``"cuda"``...); default: where the model's weights are.
            The model is moved there for the measurement and moved back afterwards.

    Returns:
        :class:`LatencyResult` with a table (``result.table()``) and a plot of latency per
        sample against batch size.

    >>> model = dn.Sequential([dn.Input(shape=(8,)), dn.layers.Dense(4)])
    >>> r = dn.diagnose.latency(model, batch_sizes=(1, 16), warmup=1, repeats=3)
    >>> r.verdict, [row["batch_size"] for row in r.rows], len(r.rows[0]["times_s"])
    ('measured', [1, 16], 3)
    """
    if isinstance(batch_sizes, int):
        batch_sizes = (batch_sizes,)
    sizes = [_check_int(b, "batch_sizes", "latency()") for b in batch_sizes]
    if not sizes:
        raise ValueError("Received an invalid value for `batch_sizes` of latency(), expected at least one batch size. "
                         "Received: batch_sizes=()")
    warmup = _check_int(warmup, "warmup", "latency()", 0)
    repeats = _check_int(repeats, "repeats", "latency()", 1)
    specs = model_input_specs(model, input_shape)
    home = next((p.device for p in model.parameters()), torch.device("cpu"))
    target = torch.device(device) if device is not None else home
    flops = _flops_per_sample(model, input_shape)
    rows = _time_batches(model, specs, sorted(set(sizes)), home, target, warmup, repeats)
    best = max(rows, key=lambda r: r["throughput"])
    first = rows[0]
    # the smallest batch size reaching 90% of the best throughput: where batching stops paying
    knee = next(r for r in rows if r["throughput"] >= 0.9 * best["throughput"])
    evidence = {
        "device": str(target), "repeats": repeats, "warmup": warmup,
        f"latency_batch_{first['batch_size']}": _fmt_time(first["median_s"]),
        "best_throughput": _fmt_rate(best["throughput"]), "best_throughput_batch_size": best["batch_size"],
        "batch_size_at_90pct_throughput": knee["batch_size"],
    }
    jitter = max((r["p90_s"] / r["median_s"] for r in rows), default=1.0)
    evidence["max_p90_over_median"] = round(jitter, 3)
    notes = []
    if flops:
        evidence["forward_flops_per_sample"] = readable_flops(flops)
        evidence["achieved_gflops_per_s"] = round(flops * best["throughput"] / 1e9, 3)
    if jitter > 1.5:
        notes.append(f"The 90th percentile is up to {jitter:.1f}x the median: the machine was busy or the clock "
                     "frequency changed; raise `repeats` or measure on an idle machine.")
    if target.type == "cpu":
        notes.append(f"CPU timings use {torch.get_num_threads()} thread(s) (torch.set_num_threads).")
    remedies = []
    if len(rows) > 1 and knee["batch_size"] < best["batch_size"]:
        remedies.append(f"Batches larger than {knee['batch_size']} add latency for under 10% more throughput: serve in "
                        f"batches of about {knee['batch_size']}.")
    if len(rows) > 1 and first["batch_size"] == 1 and best["throughput"] > 4 * first["throughput"]:
        remedies.append(f"Batching raises throughput {best['throughput'] / first['throughput']:.0f}x over one sample at a time "
                        "(dynamic batching helps servers that see many requests).")
    summary = (f"Batch {first['batch_size']}: {_fmt_time(first['median_s'])} per batch "
               f"({_fmt_time(first['per_sample_s'])} per sample); best throughput {_fmt_rate(best['throughput'])} "
               f"at batch {best['batch_size']}.")
    return LatencyResult("measured", summary, evidence, remedies, "info", notes, rows=rows, device=str(target),
                         flops_per_sample=flops)


# ----------------------------------------------------------------------------- depth trade-off


@dataclass(repr=False, eq=False, kw_only=True)
class DepthTradeoff(DiagnosisResult):
    """Accuracy (or loss) against latency per depth. ``rows``: one dict per depth with
    ``depth``, ``params``, ``score`` (validation accuracy, or loss when ``metric == "loss"``),
    ``latency_per_sample_s``, ``throughput``, ``train_time_s``, ``flops_per_sample``.

    >>> rows = [{"depth": d, "params": 10 * d, "score": s, "latency_per_sample_s": 1e-4 * d, "throughput": 1e4 / d,
    ...          "train_time_s": 0.1} for d, s in ((1, 0.90), (2, 0.905))]
    >>> r = dn.diagnose.DepthTradeoff("shallower_suffices", "Depth 1 is enough.", rows=rows, metric="accuracy",
    ...                               recommended_depth=1, best_depth=2)
    >>> print(r.table().splitlines()[2])
         1          10           0.9000          100 us        10k samples/s       100 ms  <- recommended
    """

    kind = "depth_tradeoff"
    title = "Depth vs response time"
    _text_hidden = ("rows",)

    rows: list = result_field(default_factory=list)
    metric: str = result_field("loss")
    recommended_depth: int | None = result_field(None)
    best_depth: int | None = result_field(None)
    tolerance: float = result_field(0.01)

    def table(self) -> str:
        """The comparison as text: one line per depth, the recommended one marked."""
        label = "val " + self.metric
        head = f"{'depth':>6} {'params':>11} {label:>16} {'latency/sample':>15} {'throughput':>18} {'train time':>11}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            mark = "  <- recommended" if r["depth"] == self.recommended_depth else ""
            lines.append(f"{r['depth']:>6} {r['params']:>11,} {r['score']:>16.4f} {_fmt_time(r['latency_per_sample_s']):>15} "
                         f"{_fmt_rate(r['throughput']):>18} {_fmt_time(r['train_time_s']):>11}{mark}")
        return "\n".join(lines)

    def _detail_lines(self) -> list[str]:
        return self.table().splitlines()

    def _draw(self, ax):
        return self._draw_panels(ax, self._draw_tradeoff, (self._draw_tradeoff, self._draw_by_depth),
                                 "Depth vs response time", width=5.0, height=3.9)

    def _draw_tradeoff(self, ax) -> None:
        xs = [r["latency_per_sample_s"] * 1e3 for r in self.rows]
        ys = [r["score"] for r in self.rows]
        ax.plot(xs, ys, "-", color="#bbbbbb", zorder=1)
        ax.scatter(xs, ys, color="#4c72b0", zorder=2)
        for r, x, y in zip(self.rows, xs, ys):
            rec = r["depth"] == self.recommended_depth
            ax.annotate(f"depth {r['depth']}" + (" (recommended)" if rec else ""), (x, y), textcoords="offset points",
                        xytext=(5, 5), fontsize=7, color="#c44e52" if rec else "#333333")
            if rec:
                ax.scatter([x], [y], s=120, facecolors="none", edgecolors="#c44e52", zorder=3)
        ax.set_xlabel("latency per sample (ms)")
        ax.set_ylabel(f"validation {self.metric}")
        ax.set_title(f"validation {self.metric} vs latency", fontsize=9)
        ax.grid(True, alpha=0.3)

    def _draw_by_depth(self, ax) -> None:
        depths = [r["depth"] for r in self.rows]
        ax.plot(depths, [r["score"] for r in self.rows], "o-", color="#4c72b0", label=f"val {self.metric}")
        ax.set_xlabel("depth")
        ax.set_ylabel(f"validation {self.metric}", color="#4c72b0")
        ax2 = ax.twinx()
        ax2.plot(depths, [r["latency_per_sample_s"] * 1e3 for r in self.rows], "s--", color="#dd8452")
        ax2.set_ylabel("latency per sample (ms)", color="#dd8452")
        ax.set_xticks(depths)
        ax.set_title("score and latency by depth", fontsize=9)
        ax.grid(True, alpha=0.3)


def _split_data(data, validation_data):
    if not isinstance(data, (list, tuple)) or len(data) != 2:
        raise ValueError("depth_tradeoff(): `data` must be a tuple (x, y) of training samples and labels.")
    x, y = data
    if validation_data is not None:
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
            raise ValueError("depth_tradeoff(): `validation_data` must be a tuple (x_val, y_val).")
        return x, y, validation_data[0], validation_data[1]
    n = len(y)
    cut = int(round(n * 0.8))
    if cut < 1 or cut >= n:
        raise ValueError(f"depth_tradeoff(): {n} samples are too few to hold out a validation fifth; pass validation_data.")
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _task(model, y) -> str:
    """"sparse", "binary" or "regression" from the labels and the model's output width."""
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    out = getattr(model, "outputs", None)
    width = out[0].shape[-1] if out else None
    integral = y_np.dtype.kind in "iub" or (y_np.dtype.kind == "f" and np.all(np.mod(y_np, 1) == 0))
    if integral and (y_np.ndim == 1 or (y_np.ndim == 2 and y_np.shape[1] == 1)):
        if width == 1 and set(np.unique(y_np).tolist()) <= {0, 1}:
            return "binary"
        if width is None or width > 1:
            return "sparse"
    return "regression"


def _last_activation(model) -> str:
    layers = getattr(model, "layers", [])
    for layer in reversed(layers):
        act = getattr(layer, "activation", None)
        if act is not None:
            try:
                return activations.serialize(act)
            except Exception:
                return ""
        if getattr(layer, "count_params", None) and layer.built and layer.count_params():
            return "linear"
    return "linear"


def _auto_compile(model, y) -> str:
    """Compile with Adam and a loss that fits the labels; returns the metric to compare."""
    task = _task(model, y)
    last = _last_activation(model)
    if task == "sparse":
        model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=last != "softmax"),
                      metrics=["accuracy"])
        return "accuracy"
    if task == "binary":
        model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=last != "sigmoid"),
                      metrics=["accuracy"])
        return "accuracy"
    model.compile(optimizer="adam", loss="mse")
    return "loss"


def _recommend(rows: list, higher: bool, tolerance: float) -> tuple[dict, dict]:
    """(best row, recommended row): the recommended depth is the shallowest whose score is within
    ``tolerance`` of the best (absolute for accuracy, relative for a loss)."""
    finite = [r for r in rows if r["score"] is not None and math.isfinite(r["score"])]
    best_row = max(finite, key=lambda r: (r["score"] if higher else -r["score"], -r["depth"]))
    best = best_row["score"]

    def good(s):
        if s is None or not math.isfinite(s):
            return False
        return s >= best - tolerance - 1e-12 if higher else s <= best + tolerance * abs(best) + 1e-12

    rec = min((r for r in finite if good(r["score"])), key=lambda r: (r["depth"], r["latency_per_sample_s"]))
    return best_row, rec


def _try_depth(build_fn, depth, split, epochs: int, batch_size: int, latency_batch_size: int, repeats: int,
               verbose) -> tuple[dict, str]:
    """Build, train, evaluate and time one candidate: (its row, the metric it can be compared on)."""
    x, y, xv, yv = split
    model = build_fn(depth)
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if compile_config is None:
        metric = _auto_compile(model, y)
    else:
        names = [str(s) for s in (compile_config.get("metrics") or [])]
        metric = "accuracy" if any("acc" in n for n in names) else "loss"
    t0 = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose)
    train_time = time.perf_counter() - t0
    logs = model.evaluate(xv, yv, batch_size=max(batch_size, 256), verbose=0, return_dict=True)
    lat = latency(model, batch_sizes=(latency_batch_size,), warmup=3, repeats=repeats)
    r = lat.rows[0]
    acc_key = next((k for k in logs if "acc" in k), None)
    row = {
        "depth": depth, "params": int(model.count_params()), "loss": float(logs["loss"]),
        "accuracy": float(logs[acc_key]) if acc_key else None,
        "latency_per_sample_s": r["per_sample_s"], "latency_p90_s": r["p90_s"] / r["batch_size"],
        "throughput": r["throughput"], "train_time_s": train_time, "flops_per_sample": lat.flops_per_sample,
    }
    return row, metric


def _tradeoff_verdict(rows: list, best_row: dict, rec: dict, metric: str, tolerance: float,
                      epochs: int) -> tuple[str, str, list[str]]:
    best = best_row["score"]
    higher = metric == "accuracy"
    speedup = best_row["latency_per_sample_s"] / rec["latency_per_sample_s"] if rec["latency_per_sample_s"] else 1.0
    deepest = max(r["depth"] for r in rows)
    if rec["depth"] == deepest and len(rows) > 1:
        summary = (f"The deepest model (depth {deepest}) is the only one within the tolerance of the best "
                   f"validation {metric} ({best:.4f}); depth still pays off, try deeper.")
        return "deeper_is_better", summary, [f"Try depths beyond {deepest}, or train longer (epochs={epochs} is a "
                                             "short run): the deeper models may not have converged."]
    if rec["depth"] == best_row["depth"]:
        summary = (f"Depth {rec['depth']} gives the best validation {metric} ({best:.4f}) at "
                   f"{_fmt_time(rec['latency_per_sample_s'])} per sample; deeper models do not help.")
        return "depth_saturates", summary, [f"Use depth {rec['depth']}: deeper models cost latency without "
                                            f"improving validation {metric}."]
    diff = (f"{(rec['score'] - best) * 100:+.2f} points" if higher
            else f"{(rec['score'] / best - 1) * 100 if best else 0.0:+.2f}%")
    summary = (f"Depth {rec['depth']} is within {tolerance:.0%} of the best validation {metric} "
               f"(depth {best_row['depth']}: {best:.4f}; depth {rec['depth']}: {rec['score']:.4f}, {diff}) and "
               f"{speedup:.1f}x faster per sample ({_fmt_time(rec['latency_per_sample_s'])}).")
    return "shallower_suffices", summary, [f"Use depth {rec['depth']} where response time matters; depth "
                                           f"{best_row['depth']} buys {metric} {best - rec['score']:+.4f} for "
                                           f"{speedup:.1f}x the latency."]


def depth_tradeoff(build_fn, depths, data, epochs: int = 3, batch_size: int = 32, validation_data=None,
                   latency_batch_size: int = 1, repeats: int = 20, tolerance: float = 0.01,
                   verbose: int = 0) -> DepthTradeoff:
    """Train one model per depth and compare validation accuracy with response time.

    Args:
        build_fn: ``build_fn(depth) -> model``, compiled or not; uncompiled models get Adam and
            sparse categorical cross-entropy from logits for integer labels (binary
            cross-entropy for 0/1 labels and one output, mean squared error otherwise).
        depths: the depths to try, e.g. ``[1, 2, 4, 8]``.
        data: ``(x, y)`` training data.
        epochs, batch_size: the brief training of every candidate.
        validation_data: ``(x_val, y_val)``; default: the last 20% of ``data``.
        latency_batch_size: batch size of the latency measurement (1: interactive response time).
        repeats: timed forward calls per depth.
        tolerance: accuracy within this (absolute, default 1 percentage point) of the best counts as
            as good; for a loss, within this fraction of the best.
        verbose: passed to ``fit``.

    Returns:
        :class:`DepthTradeoff` with one row per depth, the recommended (shallowest good enough)
        depth and a plot of accuracy against latency annotated with the depths.

    >>> def build(depth):
    ...     layers = [dn.Input(shape=(4,))] + [dn.layers.Dense(8, activation="relu") for _ in range(depth)]
    ...     return dn.Sequential(layers + [dn.layers.Dense(2)])
    >>> x, y = np.random.rand(40, 4), np.arange(40) % 2
    >>> r = dn.diagnose.depth_tradeoff(build, [1, 2], (x, y), epochs=1, repeats=2)
    >>> [row["depth"] for row in r.rows], r.metric
    ([1, 2], 'accuracy')
    """
    if not callable(build_fn):
        raise TypeError(f"depth_tradeoff(): `build_fn` must be callable as build_fn(depth) -> model; received {build_fn!r}.")
    depths = list(depths)
    if not depths:
        raise ValueError("depth_tradeoff(): `depths` is empty; pass the depths to compare, e.g. depths=[1, 2, 4].")
    epochs = _check_int(epochs, "epochs", "depth_tradeoff()")
    batch_size = _check_int(batch_size, "batch_size", "depth_tradeoff()")
    latency_batch_size = _check_int(latency_batch_size, "latency_batch_size", "depth_tradeoff()")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ValueError(f"Received an invalid value for `tolerance`, expected a float in [0, 1). Received: tolerance={tolerance!r}")
    x, y, xv, yv = _split_data(data, validation_data)
    rows, metric = [], None
    for depth in depths:
        row, m = _try_depth(build_fn, depth, (x, y, xv, yv), epochs, batch_size, latency_batch_size, repeats, verbose)
        rows.append(row)
        metric = m if metric in (None, m) else "loss"  # candidates disagree: compare what they all have
    if metric == "accuracy" and any(r["accuracy"] is None for r in rows):
        metric = "loss"
    for r in rows:
        r["score"] = r[metric]
    higher = metric == "accuracy"
    scores = [r["score"] for r in rows]
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if not finite:
        raise ValueError("depth_tradeoff(): every candidate ended with a non-finite validation score; check the data "
                         "and the learning rate.")
    best_row, rec = _recommend(rows, higher, tolerance)
    best = best_row["score"]
    shallowest = min(r["depth"] for r in rows)
    verdict, summary, remedies = _tradeoff_verdict(rows, best_row, rec, metric, tolerance, epochs)
    if rec["depth"] == shallowest and len(rows) > 1 and verdict != "deeper_is_better":
        remedies.append(f"Depth {shallowest} is the shallowest tried: an even smaller model may do as well.")
    evidence = {
        "metric": f"validation {metric}", "best_depth": best_row["depth"], "best_score": best,
        "recommended_depth": rec["depth"], "recommended_score": rec["score"],
        "recommended_latency_per_sample": _fmt_time(rec["latency_per_sample_s"]),
        "best_latency_per_sample": _fmt_time(best_row["latency_per_sample_s"]),
        "tolerance": tolerance, "epochs": epochs,
    }
    notes = [f"Each depth was trained for {epochs} epoch(s) only: the comparison ranks quick training runs, and deeper "
             "models usually need longer."]
    return DepthTradeoff(verdict, summary, evidence, remedies, "info", notes, rows=rows, metric=metric,
                         recommended_depth=rec["depth"], best_depth=best_row["depth"], tolerance=tolerance)
