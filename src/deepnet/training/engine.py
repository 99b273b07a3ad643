"""The training loop behind ``compile``/``fit``/``evaluate``/``predict``.

The per-step path is what a careful hand-written PyTorch loop does and nothing more:
index a pre-made tensor with a slice of a per-epoch permutation, ``zero_grad(set_to_none)``,
forward, loss, backward, a fused optimizer step. Metrics accumulate on the device; values are
read back only when the progress bar redraws or the epoch ends. Callback batch hooks run only
when a callback overrides them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from ..utils import nest
from .callback_base import CallbackList, History, LazyLogs
from .data import ArrayAdapter, make_adapter, split_validation
from .progress import ProgressReporter, resolve_verbose

__all__ = ["Trainer", "default_device"]


def default_device() -> torch.device:
    """CUDA if available, else Apple MPS, else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _output_names(model) -> list[str]:
    outputs = getattr(model, "_output_struct", None) if getattr(model, "_functional", False) else None
    if isinstance(outputs, dict):
        return list(outputs)
    if isinstance(outputs, (list, tuple)):
        return [t.node.layer.name for t in outputs]
    return ["output"]


def _per_output(spec, names: list[str], what: str, default=None) -> list:
    """Broadcast a compile argument (single / list / dict) to one entry per output."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"`{what}` has keys {unknown} that are not outputs of the model; outputs are {names}.")
        return [spec.get(k, default) for k in names]
    if isinstance(spec, (list, tuple)) and n > 1 and len(spec) == n and what != "metrics":
        return list(spec)
    if isinstance(spec, (list, tuple)) and what == "metrics" and n > 1 and len(spec) == n and all(
        isinstance(s, (list, tuple)) or s is None for s in spec
    ):
        return list(spec)
    if isinstance(spec, (list, tuple)) and n > 1 and what != "metrics":
        raise ValueError(f"`{what}` is a list of {len(spec)} entries but the model has {n} outputs ({names}).")
    return [spec] * n


class Trainer:
    """Holds what ``compile`` resolved and runs the loops. One per compiled model."""

    def __init__(self, model, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                 weighted_metrics=None, jit_compile=False, device=None, steps_per_execution=1):
        from .. import losses as _losses
        from .. import optimizers as _optimizers

        self.model = model
        self.optimizer = _optimizers.get(optimizer)
        self.output_names = _output_names(model)
        n_out = len(self.output_names)
        loss_list = _per_output(loss, self.output_names, "loss")
        self.losses = [None if spec is None else _losses.get(spec) for spec in loss_list]
        if loss is not None and all(fn is None for fn in self.losses):
            raise ValueError("compile(): every output's loss is None; nothing would be trained.")
        weights = _per_output(loss_weights if loss_weights is not None else 1.0, self.output_names, "loss_weights", 1.0)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.metric_specs = _per_output(metrics or [], self.output_names, "metrics")
        self.weighted_metric_specs = _per_output(weighted_metrics or [], self.output_names, "metrics")
        self.metric_objs: list[list] | None = None  # resolved at the first batch (shapes needed)
        self.jit_compile = bool(jit_compile)
        self.device = torch.device(device) if device is not None else default_device()
        self.multi_output = n_out > 1
        from .. import mixed_precision

        self.policy = mixed_precision.global_policy()
        self._scaler = None
        self._step_fn = None
        self._reg_terms: list | None = None
        self._act_layers: list = []
        self._constrained: list = []

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        """Move the model, collect regularizers/constraints, build the optimizer."""
        model = self.model
        if not model.built:
            raise ValueError(
                f"Model {model.name!r} is not built: its input shape is unknown. help: start it with "
                "deepnet.Input(shape=...), or call model.build(input_shape) before fit()."
            )
        model.to(self.device)
        self._collect_terms()
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"Model {model.name!r} has no trainable weights: nothing to train. Is `trainable=False` set?")
        self.optimizer.build(params)
        if self.policy.compute_dtype == torch.float16 and self._scaler is None:
            self._scaler = torch.amp.GradScaler(self.device.type)
            self._scaler_shim = _ScalerShim(self.optimizer)
        if self._step_fn is None:
            self._step_fn = self._forward_loss
            if self.jit_compile:
                self._step_fn = self._compiled_forward_loss()

    def _collect_terms(self) -> None:
        """Regularized weights, activity-regularized layers and constrained weights, found once."""
        from ..layers.base import Layer

        self._reg_terms, self._act_layers, self._constrained = [], [], []
        for module in self.model.modules():
            if not isinstance(module, Layer):
                continue
            for spec in module._weight_specs:
                t = getattr(module, spec.attr)
                if spec.regularizer is not None:
                    self._reg_terms.append((t, spec.regularizer))
                if spec.constraint is not None:
                    self._constrained.append((t, spec))
            if getattr(module, "activity_regularizer", None) is not None:
                self._act_layers.append(module)

    def _compiled_forward_loss(self):
        try:
            compiled = torch.compile(self._forward_loss, dynamic=False)
        except Exception as e:  # torch.compile unavailable on this platform
            warnings.warn(f"jit_compile=True: torch.compile is unavailable ({e}); running eagerly.", stacklevel=3)
            return self._forward_loss
        state = {"ok": None}

        def step(x, y, sw):
            if state["ok"] is False:
                return self._forward_loss(x, y, sw)
            try:
                out = compiled(x, y, sw)
                state["ok"] = True
                return out
            except Exception as e:
                if state["ok"]:
                    raise
                warnings.warn(
                    f"jit_compile=True: torch.compile could not compile the train step "
                    f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); falling back to eager execution.",
                    stacklevel=3,
                )
                state["ok"] = False
                return self._forward_loss(x, y, sw)

        return step

    def _autocast(self):
        dtype = self.policy.compute_dtype
        if dtype == torch.float32:
            return None
        return torch.autocast(self.device.type, dtype=dtype)

    # ------------------------------------------------------------------ loss and metrics
    def _split(self, y) -> list:
        if not self.multi_output:
            return [y]
        if isinstance(y, dict):
            missing = [k for k in self.output_names if k not in y]
            if missing:
                raise ValueError(f"Targets are missing for outputs {missing}; received keys {sorted(y)}.")
            return [y[k] for k in self.output_names]
        if isinstance(y, (list, tuple)) and len(y) == len(self.output_names):
            return list(y)
        raise ValueError(
            f"The model has {len(self.output_names)} outputs ({self.output_names}); pass y as a list or dict with one "
            "target array per output."
        )

    def _compute_loss(self, y, y_pred, sw):
        if not self.multi_output:
            loss = self.losses[0](y, y_pred, sw)
            if self.loss_weights[0] != 1.0:
                loss = loss * self.loss_weights[0]
        else:
            preds = y_pred if isinstance(y_pred, (list, tuple)) else [y_pred[k] for k in self.output_names]
            loss = None
            for fn, w, yt, yp in zip(self.losses, self.loss_weights, self._split(y), preds):
                if fn is None:
                    continue
                term = fn(yt, yp, sw) * w
                loss = term if loss is None else loss + term
        if self._reg_terms:
            loss = loss + sum(reg(t) for t, reg in self._reg_terms)
        for layer in self._act_layers:
            if layer._activity_loss is not None:
                loss = loss + layer._activity_loss
        return loss

    def compute_loss(self, y, y_pred, sample_weight=None):
        """The compiled loss for one batch, regularization penalties included (public form of
        what each training step computes)."""
        if self._reg_terms is None:
            self._collect_terms()
        return self._compute_loss(y, y_pred, sample_weight)

    def _forward_loss(self, x, y, sw):
        y_pred = self.model(x)
        return self._compute_loss(y, y_pred, sw), y_pred

    def _resolve_metrics(self, y, y_pred) -> None:
        from .. import metrics as _metrics

        preds = self._pred_list(y_pred)
        ys = self._split(y)
        self.metric_objs = []
        self.weighted_flags = []
        for i, (specs, wspecs) in enumerate(zip(self.metric_specs, self.weighted_metric_specs)):
            objs, flags = [], []
            for spec_list, weighted in ((specs, False), (wspecs, True)):
                for spec in nest.flatten(spec_list) if spec_list else []:
                    if spec is None:
                        continue
                    m = _metrics.get(spec, loss=self.losses[i], y_true_shape=tuple(ys[i].shape),
                                     y_pred_shape=tuple(preds[i].shape))
                    objs.append(m)
                    flags.append(weighted)
            self.metric_objs.append(objs)
            self.weighted_flags.append(flags)

    def _check_targets(self, y, y_pred) -> None:
        """Validate every label (shape against the predictions, values against the loss)."""
        from .. import losses as _losses

        for fn, yt, yp in zip(self.losses, self._split(y), self._pred_list(y_pred)):
            if fn is not None:
                _losses.check_targets(fn, (None, *yt.shape[1:]), (None, *yp.shape[1:]), yt)

    def _pred_list(self, y_pred) -> list:
        if not self.multi_output:
            return [y_pred]
        if isinstance(y_pred, dict):
            return [y_pred[k] for k in self.output_names]
        return list(y_pred)

    def _update_metrics(self, y, y_pred, sw) -> None:
        if self.metric_objs is None:
            self._resolve_metrics(y, y_pred)
        if not any(self.metric_objs):
            return
        ys = self._split(y)
        preds = self._pred_list(y_pred)
        for objs, flags, yt, yp in zip(self.metric_objs, self.weighted_flags, ys, preds):
            yp = yp.detach()
            for m, weighted in zip(objs, flags):
                m.update_state(yt, yp, sw if weighted else None)

    def reset_metrics(self) -> None:
        for objs in self.metric_objs or []:
            for m in objs:
                m.reset_state()

    def _metric_values(self, prefix: str = "") -> dict:
        out = {}
        for name, objs in zip(self.output_names, self.metric_objs or []):
            for m in objs:
                key = f"{name}_{m.name}" if self.multi_output else m.name
                out[prefix + key] = float(m.result())
        return out

    # ------------------------------------------------------------------ one step
    def train_step(self, x, y, sw):
        opt = self.optimizer
        opt.zero_grad()
        cast = self._autocast()
        if cast is None:
            loss, y_pred = self._step_fn(x, y, sw)
        else:
            with cast:
                loss, y_pred = self._step_fn(x, y, sw)
        return loss, y_pred

    def apply_gradients(self, loss) -> None:
        opt = self.optimizer
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            # The scaler unscales the gradients, then calls our optimizer's step (clipping,
            # schedule, iteration count) only when they are finite.
            self._scaler.step(self._scaler_shim)
            self._scaler.update()
        else:
            loss.backward()
            opt.step()
        if self._constrained:
            with torch.no_grad():
                for t, spec in self._constrained:
                    t.copy_(spec.from_keras(spec.constraint(spec.to_keras(t))))

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        model = self.model
        verbose = resolve_verbose(verbose)
        _check_positive_int("epochs", epochs)
        if not isinstance(initial_epoch, int) or initial_epoch < 0 or initial_epoch > epochs:
            raise ValueError(f"Received an invalid value for `initial_epoch`, expected an int in [0, epochs]. Received: initial_epoch={initial_epoch!r}")
        if steps_per_epoch is not None:
            _check_positive_int("steps_per_epoch", steps_per_epoch)
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data takes precedence
        if validation_split:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
        self._prepare()
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weights(class_weight, y, sample_weight)
        gen = getattr(model, "_shuffle_generator", None)
        if gen is None:
            gen = torch.Generator()
            gen.manual_seed(int(torch.randint(0, 2**62, (1,)).item()))
            model._shuffle_generator = gen
        train = make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle), steps=steps_per_epoch,
                             device=self.device, float_dtype=model.dtype, generator=gen)
        self._check_inputs(train)
        val = None
        if validation_data is not None:
            vx, vy, vsw = _unpack_validation(validation_data)
            val = make_adapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size, shuffle=False,
                               steps=validation_steps, device=self.device, float_dtype=model.dtype, what="validation_data")
            self._check_inputs(val, "validation_data")

        history = History()
        cbs = CallbackList([*(callbacks or []), history], model,
                           {"epochs": epochs, "steps": train.num_batches, "verbose": verbose})
        progress = ProgressReporter(verbose, epochs, train.num_batches)
        model.stop_training = False
        model.history = history
        model._fit_callbacks = cbs.callbacks  # BackupAndRestore saves/restores their states
        model.__dict__.pop("_initial_epoch", None)
        try:
            cbs.call("on_train_begin", None)
            resumed = model.__dict__.pop("_initial_epoch", None)  # set by BackupAndRestore, as in Keras
            if resumed is not None:
                initial_epoch = int(resumed)
            self._epoch_loop(train, val, cbs, progress, initial_epoch, epochs, validation_freq)
        finally:
            model._fit_callbacks = None
        return history

    def _epoch_loop(self, train, val, cbs, progress, initial_epoch, epochs, validation_freq) -> None:
        model = self.model
        want_batch_logs = cbs.wants_batch_hooks("train")
        sync_each_step = self.device.type == "cpu"
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            model.train()
            cbs.call("on_epoch_begin", epoch, None)
            progress.epoch_begin(epoch)
            total, count, steps = 0.0, 0, 0
            total_t = None
            for step, (xb, yb, swb) in enumerate(train):
                if want_batch_logs:
                    cbs.batch_begin("train", step, None)
                loss, y_pred = self.train_step(xb, yb, swb)
                if sync_each_step:
                    value = loss.item()
                    if not math.isfinite(value):
                        self._stop_on_nan(epoch, step, value, progress)
                        break
                    bs = _batch_len(xb)
                    total += value * bs
                else:
                    bs = _batch_len(xb)
                    total_t = loss.detach() * bs if total_t is None else total_t + loss.detach() * bs
                count += bs
                self.apply_gradients(loss)
                self._update_metrics(yb, y_pred, swb)
                steps += 1
                if want_batch_logs or progress.interactive:
                    running = lambda t=total, tt=total_t, c=count: self._running_logs(t, tt, c)  # noqa: E731
                    if want_batch_logs:
                        cbs.batch_end("train", step, LazyLogs(running))
                    progress.batch_end(steps, running)
                if model.stop_training:
                    break
            if steps == 0:
                break
            logs = self._running_logs(total, total_t, count)
            if not sync_each_step and not math.isfinite(logs["loss"]):
                self._stop_on_nan(epoch, steps - 1, logs["loss"], progress)
            if val is not None and (epoch + 1) % validation_freq == 0 and not model.stop_training:
                val_logs = self._evaluate_adapter(val, cbs=None)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            progress.epoch_end(epoch, steps, logs)
            cbs.call("on_epoch_end", epoch, logs)
            if model.stop_training:
                break
        cbs.call("on_train_end", logs)

    def _running_logs(self, total: float, total_t, count: int) -> dict:
        loss = (float(total_t) if total_t is not None else total) / max(count, 1)
        return {"loss": loss, **self._metric_values()}

    def _stop_on_nan(self, epoch: int, step: int, value: float, progress: ProgressReporter) -> None:
        msg = (
            f"Training stopped: the loss became {value} at epoch {epoch + 1}, batch {step + 1}. The weights from the last "
            "good step were kept. help: lower the learning rate, check the data for NaN/inf or extreme values, "
            "or add gradient clipping (clipnorm=1.0)."
        )
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        progress.message(msg)
        self.model.stop_training = True

    def _check_inputs(self, adapter, what: str = "x") -> None:
        """Fail before training on NaN/inf inputs and feature-shape mismatches."""
        if not isinstance(adapter, ArrayAdapter):
            return
        for t in nest.flatten(adapter.x):
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                bad = int((~torch.isfinite(t)).any(dim=tuple(range(1, t.dim()))).nonzero()[0, 0]) if t.dim() > 1 else int((~torch.isfinite(t)).nonzero()[0, 0])
                raise ValueError(
                    f"{what} contains NaN or infinite values (first at sample {bad}). help: clean or impute the data "
                    "(deepnet.diagnose.data(x, y) lists the problems) before training."
                )
        model = self.model
        expected = [t.shape for t in model.inputs] if model.inputs else []
        if expected:
            got = [tuple(t.shape) for t in nest.flatten(adapter.x)]
            if len(got) == len(expected):
                for e, g in zip(expected, got):
                    if len(e) != len(g) or any(a is not None and a != b for a, b in zip(e[1:], g[1:])):
                        raise ValueError(
                            f"Model {model.name!r} expects input of shape {_fmt_shape(e)}; {what} has shape {g} "
                            f"(per sample {g[1:]} vs expected {tuple(e[1:])}). help: reshape the data or change the Input shape."
                        )
        if adapter.y is not None:
            xb, yb, swb = adapter.first_batch()
            with torch.no_grad():
                was = model.training
                model.eval()
                try:
                    y_pred = model(xb)
                finally:
                    model.train(was)
            if self.metric_objs is None:
                self._resolve_metrics(yb, y_pred)
            self._check_targets(adapter.y, y_pred)

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_adapter(self, adapter, cbs: CallbackList | None) -> dict:
        model = self.model
        was_training = model.training
        model.eval()
        self.reset_metrics()
        total, count = 0.0, 0
        total_t = None
        want = cbs is not None and cbs.wants_batch_hooks("test")
        try:
            with torch.no_grad():
                cast = self._autocast()
                for step, (xb, yb, swb) in enumerate(adapter):
                    if want:
                        cbs.batch_begin("test", step, None)
                    if yb is None:
                        raise ValueError("evaluate() needs targets: pass y, or a dataset that yields (x, y) pairs.")
                    if cast is None:
                        y_pred = model(xb)
                        loss = self._compute_loss(yb, y_pred, swb) if any(self.losses) else None
                    else:
                        with cast:
                            y_pred = model(xb)
                            loss = self._compute_loss(yb, y_pred, swb) if any(self.losses) else None
                    bs = _batch_len(xb)
                    if loss is not None:
                        total_t = loss.detach() * bs if total_t is None else total_t + loss.detach() * bs
                    count += bs
                    self._update_metrics(yb, y_pred, swb)
                    if want:
                        cbs.batch_end("test", step, LazyLogs(lambda t=total_t, c=count: self._running_logs(0.0, t, c)))
        finally:
            model.train(was_training)
        logs = self._running_logs(total, total_t, count) if count else {"loss": float("nan")}
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        verbose = resolve_verbose(verbose)
        self._prepare_eval()
        adapter = make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=False, steps=steps,
                               device=self.device, float_dtype=self.model.dtype)
        self._check_inputs(adapter)
        cbs = CallbackList(callbacks or [], self.model, {"steps": adapter.num_batches, "verbose": verbose})
        progress = ProgressReporter(verbose if verbose != 1 else 2, None, adapter.num_batches, title="Evaluate")
        cbs.call("on_test_begin", None)
        progress.epoch_begin(0)
        logs = self._evaluate_adapter(adapter, cbs)
        progress.epoch_end(None, adapter.num_batches or 0, logs)
        cbs.call("on_test_end", logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _prepare_eval(self) -> None:
        if not self.model.built:
            raise ValueError(f"Model {self.model.name!r} is not built; call it on data or build(input_shape) first.")
        self.model.to(self.device)
        self._collect_terms()

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        return predict(self.model, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks,
                       device=self.device, autocast=self._autocast)

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._prepare()
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weights(class_weight, y, sample_weight)
        adapter = make_adapter(x, y, sample_weight, batch_size=_batch_len_any(x), shuffle=False,
                               device=self.device, float_dtype=self.model.dtype)
        self._check_inputs(adapter)
        self.model.train()
        xb, yb, swb = next(iter(adapter))
        loss, y_pred = self.train_step(xb, yb, swb)
        self.apply_gradients(loss)
        self._update_metrics(yb, y_pred, swb)
        logs = {"loss": float(loss.detach()), **self._metric_values()}
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._prepare_eval()
        adapter = make_adapter(x, y, sample_weight, batch_size=_batch_len_any(x), shuffle=False,
                               device=self.device, float_dtype=self.model.dtype)
        logs = self._evaluate_adapter(adapter, None)
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))


# ---------------------------------------------------------------------- helpers


class _ScalerShim:
    """What ``torch.amp.GradScaler.step`` needs from an optimizer, routed to ours."""

    def __init__(self, optimizer):
        self._optimizer = optimizer

    @property
    def param_groups(self):
        return self._optimizer.torch_optimizer.param_groups

    def step(self, *args, **kwargs):
        self._optimizer.step()


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None, device=None, autocast=None):
    """Run ``model`` over ``x`` in batches (inference mode) and return NumPy arrays."""
    verbose = resolve_verbose(verbose)
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    adapter = make_adapter(x, None, None, batch_size=batch_size, shuffle=False, steps=steps, device=device,
                           float_dtype=model.dtype)
    cbs = CallbackList(callbacks or [], model, {"steps": adapter.num_batches, "verbose": verbose})
    progress = ProgressReporter(2 if verbose else 0, None, adapter.num_batches, title="Predict")
    was_training = model.training
    model.eval()
    outputs: list = []
    cbs.call("on_predict_begin", None)
    progress.epoch_begin(0)
    want = cbs.wants_batch_hooks("predict")
    try:
        with torch.no_grad():
            cast = autocast() if autocast is not None else None
            for step, (xb, _, _) in enumerate(adapter):
                if want:
                    cbs.batch_begin("predict", step, None)
                if cast is None:
                    out = model(xb)
                else:
                    with cast:
                        out = model(xb)
                outputs.append(nest.map_structure(lambda t: t.detach(), out))
                if want:
                    cbs.batch_end("predict", step, {"outputs": out})
    finally:
        model.train(was_training)
    progress.epoch_end(None, len(outputs), {})
    cbs.call("on_predict_end", None)
    if not outputs:
        raise ValueError("predict() received no batches.")
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(outputs).float().cpu().numpy() if first.is_floating_point() else torch.cat(outputs).cpu().numpy()
    flat = [nest.flatten(o) for o in outputs]
    merged = [torch.cat([f[i] for f in flat]).cpu().numpy() for i in range(len(flat[0]))]
    return nest.pack_like(first, merged)


def _batch_len(xb) -> int:
    if isinstance(xb, torch.Tensor):
        return xb.shape[0]
    return nest.flatten(xb)[0].shape[0]


def _batch_len_any(x) -> int:
    leaf = nest.flatten(x)[0]
    return int(leaf.shape[0])


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}")


def _unpack_validation(data):
    if isinstance(data, (list, tuple)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data[0], data[1], data[2]
        raise ValueError(
            f"`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight); received a {type(data).__name__} "
            f"of length {len(data)}."
        )
    return data, None, None


def _class_weights_to_sample_weights(class_weight: dict, y, sample_weight):
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class_index: weight}}; received {type(class_weight).__name__}.")
    if y is None or not isinstance(y, (np.ndarray, torch.Tensor)):
        raise ValueError("`class_weight` needs y as a single array of labels (sparse ids or one-hot).")
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if y_np.ndim > 1 and y_np.shape[-1] > 1:
        ids = y_np.argmax(axis=-1)
    else:
        ids = y_np.reshape(len(y_np), -1)[:, 0]
        if ids.dtype.kind == "f":
            ids = np.round(ids)
    ids = ids.astype(np.int64)
    missing = sorted(set(np.unique(ids).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"`class_weight` has no weight for classes {missing[:10]} present in y.")
    table = np.zeros(int(ids.max()) + 1, dtype=np.float32)
    for k, w in class_weight.items():
        if 0 <= int(k) < len(table):
            table[int(k)] = float(w)
    weights = table[ids]
    if sample_weight is not None:
        sw = sample_weight.detach().cpu().numpy() if isinstance(sample_weight, torch.Tensor) else np.asarray(sample_weight)
        weights = weights * sw.astype(np.float32)
    return weights

