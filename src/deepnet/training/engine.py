"""The training loop behind ``compile``/``fit``/``evaluate``/``predict``.

The per-step path is what a careful hand-written PyTorch loop does and nothing more:
index a pre-made tensor with a slice of a per-epoch permutation, ``zero_grad(set_to_none)``,
forward, loss, backward, a fused optimizer step. Metrics accumulate on the device; values are
read back only when the progress bar redraws or the epoch ends. Callback batch hooks run only
when a callback overrides them. The data checks (:mod:`deepnet.training._checks`) run once per
call, before the loop, on all the arrays or on the first batch of an iterable.
"""

from __future__ import annotations

import math
import warnings

import torch

from .. import mixed_precision
from ..layers import Layer
from ..utils import nest
from ..utils.lazy import lazy_import
from ..utils.seeding import make_generator
from ..utils.tensors import eval_mode, train_mode
from ..utils.variables import as_parameters, as_variables, step_weights
from . import _custom_step as _custom
from . import _distributed, _output_loss
from ._checks import (
    CheckEnv,
    InputSpec,
    class_weights_to_sample_weights,
    config_caps,
    output_classes,
    run_checks,
    unpack_validation,
)
from ._compile import (
    ScalerShim,
    compiled_step,
    default_device,
    output_names,
    per_output,
    resolve_device,
)
from ._predict import predict
from .callback_base import CallbackList, History, LazyLogs
from .data import VALIDATION_NAMES, ArgNames, batch_length, make_adapter, split_validation
from .progress import ProgressReporter, resolve_verbose

# losses, metrics and optimizers are imported when compile() names one (utils.lazy), so that
# `import deepnet` stays fast.
_losses = lazy_import("deepnet.losses")
_metrics = lazy_import("deepnet.metrics")
_optimizers = lazy_import("deepnet.optimizers")

__all__ = ["Trainer", "default_device", "predict"]


class Trainer:
    """Holds what ``compile`` resolved and runs the loops. One per compiled model.

    >>> model = dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> type(model._trainer).__name__, model._trainer.output_names
    ('Trainer', ['output'])
    """

    _dist = None  # a training._distributed.DistState under a deepnet.distribution

    def __init__(self, model, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                 weighted_metrics=None, jit_compile=False, device=None, steps_per_execution=1, adversarial=None):
        self.model = model
        self.optimizer = _optimizers.get(optimizer)
        self.output_names = output_names(model)
        n_out = len(self.output_names)
        loss_list = per_output(loss, self.output_names, "loss")
        self.losses = [None if spec is None else _losses.as_loss(spec) for spec in loss_list]
        if loss is not None and all(fn is None for fn in self.losses):
            raise ValueError("compile(): every output's loss is None; nothing would be trained.")
        weights = per_output(loss_weights if loss_weights is not None else 1.0, self.output_names, "loss_weights", 1.0)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.metric_specs = per_output(metrics or [], self.output_names, "metrics")
        self.weighted_metric_specs = per_output(weighted_metrics or [], self.output_names, "metrics")
        self.metric_objs: list[list] | None = None  # resolved at the first batch (shapes needed)
        self.jit_compile = bool(jit_compile)
        self.device = resolve_device(device)
        self.steps_per_execution = int(steps_per_execution)
        self.adversarial = adversarial  # a StepWrapper replacing each training step's loss, or None
        self.multi_output = n_out > 1
        self.policy = mixed_precision.global_policy()
        self._scaler = None
        self._step_fn = None
        self._nothing_to_train = False  # no trainable weights (set by _prepare)
        self._reg_terms: list | None = None
        self._act_layers: list = []
        self._constrained: list = []
        self._shape_cache: dict = {}

    # ------------------------------------------------------------------ setup
    def _prepare(self, allow_unbuilt: bool = False) -> None:
        """Move the model, collect regularizers/constraints, build the optimizer (an unbuilt
        model with ``allow_unbuilt``: later, once built on the first batch)."""
        model = self.model
        if not model.built and allow_unbuilt:
            return
        if not model.built:
            raise ValueError(
                f"Model {model.name!r} is not built: its input shape is unknown. help: start it with "
                "deepnet.Input(shape=...), or call model.build(input_shape) before fit()."
            )
        model.to(self.device)
        self._dist = _distributed.attach(self)
        self._collect_terms()
        params = [p for p in model.parameters() if p.requires_grad]
        self._nothing_to_train = not params
        if params:
            self.optimizer.build(params)
        else:  # Keras fits it too (e.g. a model of add_loss layers): losses and metrics, no update
            warnings.warn(f"Model {model.name!r} has no trainable weights: fit() reports its loss and metrics "
                          "but updates nothing. Is `trainable=False` set?", stacklevel=5)
        if self.policy.compute_dtype == torch.float16 and self._scaler is None:
            self._scaler = torch.amp.GradScaler(self.device.type)
            self._scaler_shim = ScalerShim(self.optimizer)
        if self._step_fn is None:
            self._step_fn = compiled_step(self._forward_loss) if self.jit_compile else self._forward_loss

    def _collect_terms(self) -> None:
        """Regularized weights, activity-regularized layers and constrained weights, found once."""
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

    def _autocast(self):
        dtype = self.policy.compute_dtype
        if dtype == torch.float32:
            return None
        return torch.autocast(self.device.type, dtype=dtype)

    # ------------------------------------------------------------------ checks (once per call)
    def _input_spec(self) -> InputSpec:
        return InputSpec(self.model, self.model.dtype)

    def _adapter(self, x, y, sample_weight, names: ArgNames | None = None, **kwargs):
        spec = self._input_spec()
        adapter = _distributed.shard(self, make_adapter(x, y, sample_weight, device=self.device, float_dtype=self.model.dtype,
                               x_dtype_fn=spec.dtypes, names=names or ArgNames(), **kwargs))
        env = CheckEnv(self.model, spec, trainer=self)
        run_checks(adapter, env)
        if adapter.check_view()[1] is None and any(fn is not None for fn in self.losses):
            raise ValueError(f"{adapter.names.y}{adapter.names.where} is missing, but the compiled loss needs targets. "
                             "help: pass y=..., or data that yields (x, y) pairs.")
        # (a model's own train_step may have no call(): its metrics resolve at their first update)
        if adapter.check_view()[1] is not None and self.metric_objs is None and not _custom.custom_fit(self):
            self._resolve_metrics([tuple(t.shape) for t in self.split_targets(adapter.check_view()[1])],
                                  env.pred_shapes())
        return adapter

    def output_shapes(self, xb) -> list[tuple]:
        """Per-output prediction shapes ``(None, ...)`` for a batch like ``xb`` (one forward
        pass in inference mode, cached by the per-sample input shapes)."""
        key = tuple((tuple(t.shape[1:]), t.dtype) for t in nest.flatten(xb))
        if key not in self._shape_cache:
            with eval_mode(self.model), torch.no_grad():
                y_pred = self.model(xb)
            self._shape_cache[key] = [(None, *p.shape[1:]) for p in self._pred_list(y_pred)]
        return self._shape_cache[key]

    # ------------------------------------------------------------------ loss and metrics
    def split_targets(self, y, what: str = "`y`") -> list:
        """``y`` as one target per output (a list or dict keyed by output name for several)."""
        if not self.multi_output:
            return [y]
        if isinstance(y, dict):
            missing = [k for k in self.output_names if k not in y]
            if missing:
                raise ValueError(f"Targets are missing for outputs {missing}; {what} has keys {sorted(y)}.")
            return [y[k] for k in self.output_names]
        if isinstance(y, (list, tuple)) and len(y) == len(self.output_names):
            return list(y)
        raise ValueError(
            f"The model has {len(self.output_names)} outputs ({self.output_names}); pass {what} as a list or dict "
            "with one target array per output."
        )

    _split = split_targets

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
        return _custom.layer_losses(self, loss)  # add_loss() terms

    def compute_loss(self, y, y_pred, sample_weight=None):
        """The compiled loss for one batch, regularization penalties included (public form of
        what each training step computes)."""
        if self._reg_terms is None:
            self._collect_terms()
        return self._compute_loss(y, y_pred, sample_weight)

    def _forward_loss(self, x, y, sw):
        y_pred = (self.model if self._dist is None else self._dist.net)(x)
        return self._compute_loss(y, y_pred, sw), y_pred

    def forward_loss(self, x, y, sample_weight=None):
        """``(loss, y_pred)`` of the ordinary training step on one batch: the forward pass and
        the compiled loss with its penalties (``torch.compile``-d under ``jit_compile``); what
        a :class:`~deepnet.training.StepWrapper` calls on the inputs it chose."""
        return (self._step_fn or self._forward_loss)(x, y, sample_weight)

    def _step_loss(self, x, y, sw):
        if self.adversarial is None:
            return self._step_fn(x, y, sw)
        return self.adversarial.training_loss(self, x, y, sw)

    def _resolve_metrics(self, y_shapes: list, pred_shapes: list) -> None:
        self.metric_objs = []
        self.weighted_flags = []
        for i, (specs, wspecs) in enumerate(zip(self.metric_specs, self.weighted_metric_specs)):
            objs, flags = [], []
            for spec_list, weighted in ((specs, False), (wspecs, True)):
                for spec in nest.flatten(spec_list) if spec_list else []:
                    if spec is None:
                        continue
                    objs.append(_metrics.get(spec, loss=self.losses[i], y_true_shape=tuple(y_shapes[i]),
                                             y_pred_shape=tuple(pred_shapes[i])))
                    flags.append(weighted)
            self.metric_objs.append(objs)
            self.weighted_flags.append(flags)
        _output_loss.add_output_losses(self)  # Keras' {output}_loss entries

    def _pred_list(self, y_pred) -> list:
        if not self.multi_output:
            return [y_pred]
        if isinstance(y_pred, dict):
            return [y_pred[k] for k in self.output_names]
        return list(y_pred)

    def _update_metrics(self, y, y_pred, sw) -> None:
        if self.metric_objs is None:
            self._resolve_metrics([tuple(t.shape) for t in self._split(y)],
                                  [tuple(p.shape) for p in self._pred_list(y_pred)])
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
        pairs = sorted(((n, m) for n, objs in zip(self.output_names, self.metric_objs or []) for m in objs),
                       key=lambda p: not isinstance(p[1], _output_loss.OutputLoss))  # Keras: output losses first
        return {prefix + (f"{n}_{m.name}" if self.multi_output else m.name): float(m.result()) for n, m in pairs}

    # ------------------------------------------------------------------ one step
    def _plain_step(self) -> bool:
        """One process, no gradient accumulation: the per-step distribution helpers are skipped."""
        return self._dist is None and not getattr(self.optimizer, "gradient_accumulation_steps", None)

    def train_step(self, x, y, sw):
        if self._plain_step():
            self.optimizer.zero_grad()
        else:
            _distributed.begin_step(self)  # zero_grad (at a group's first micro-batch), DDP sync
        cast = self._autocast()
        if cast is None:
            loss, y_pred = self._step_loss(x, y, sw)
        else:
            with cast:
                loss, y_pred = self._step_loss(x, y, sw)
        return loss, y_pred

    def apply_gradients(self, loss, batch_size: int | None = None) -> None:
        if self._nothing_to_train:
            return
        opt = self.optimizer
        loss, step_now = (loss, True) if self._plain_step() else \
            _distributed.loss_for_backward(self, loss, batch_size)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            if not step_now:
                return
            # The scaler unscales the gradients, then calls our optimizer's step (clipping,
            # schedule, iteration count) only when they are finite.
            self._scaler.step(self._scaler_shim)
            self._scaler.update()
        else:
            loss.backward()
            if not step_now:
                return
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
        verbose = resolve_verbose(verbose) if _distributed.is_main() else 0
        if initial_epoch > epochs:
            raise ValueError(f"Received an invalid value for `initial_epoch` of fit, expected an int in [0, epochs="
                             f"{epochs}]. Received: initial_epoch={initial_epoch!r}")
        epochs, steps_per_epoch = config_caps(epochs, steps_per_epoch)  # deepnet.config's debugging caps
        self._prepare(allow_unbuilt=True)
        train, val = self._fit_adapters(
            x, y, sample_weight, class_weight, validation_split, validation_data,
            dict(batch_size=batch_size, shuffle=bool(shuffle), steps=steps_per_epoch, generator=self._generator()),
            dict(batch_size=validation_batch_size or batch_size, shuffle=False, steps=validation_steps))
        if _custom.build_from_data(self, train):  # a subclassed model is built on the first batch
            self._prepare()
        history = History()
        cbs = CallbackList([*_distributed.quiet_callbacks(CallbackList.normalize(callbacks)), history], model,
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
            with train_mode(model):  # each layer's train/eval mode is restored when fit ends
                self._epoch_loop(train, val, cbs, progress, initial_epoch, epochs, validation_freq)
        finally:
            model._fit_callbacks = None
        return history

    def _generator(self) -> torch.Generator:
        """The model's shuffling generator: seeded once from torch's global RNG (so
        ``set_random_seed`` makes the order reproducible), then carried across ``fit`` calls."""
        gen = getattr(self.model, "_shuffle_generator", None)
        if gen is None:
            gen = make_generator(_distributed.shuffle_seed(self, int(torch.randint(0, 2**62, (1,)).item())))
            self.model._shuffle_generator = gen
        return gen

    def _fit_adapters(self, x, y, sample_weight, class_weight, validation_split, validation_data,
                      train_kwargs: dict, val_kwargs: dict):
        """The training and validation adapters, every input checked before the first step."""
        val_names = VALIDATION_NAMES
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
            val_names = ArgNames(offset=len(nest.flatten(x)[0]))
        if class_weight is not None:
            sample_weight = class_weights_to_sample_weights(class_weight, y, sample_weight, output_classes(self.model))
        train = self._adapter(x, y, sample_weight, **train_kwargs)
        if validation_data is None:
            return train, None
        vx, vy, vsw = unpack_validation(validation_data)
        return train, self._adapter(vx, vy, vsw, names=val_names, **val_kwargs)

    def _epoch_loop(self, train, val, cbs, progress, initial_epoch, epochs, validation_freq) -> None:
        model = self.model
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            model.train()
            cbs.call("on_epoch_begin", epoch, None)
            progress.epoch_begin(epoch)
            steps, logs = self._train_epoch(train, cbs, progress, epoch)
            if steps == 0:
                break
            if val is not None and (epoch + 1) % validation_freq == 0 and not model.stop_training:
                cbs.call("on_test_begin", None)  # Keras: fit's validation is an evaluate with the test hooks
                val_logs = self._evaluate_adapter(val, cbs=cbs)
                cbs.call("on_test_end", val_logs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            progress.epoch_end(epoch, steps, logs)
            cbs.call("on_epoch_end", epoch, logs)
            if model.stop_training:
                break
        if getattr(self.optimizer, "use_ema", False):  # Keras: the weights end as their moving averages
            self.optimizer.finalize_variable_values([p for p in model.parameters() if p.requires_grad])
        cbs.call("on_train_end", logs)

    def _train_epoch(self, train, cbs, progress, epoch) -> tuple[int, dict]:
        """One pass over ``train``; returns the number of steps and the epoch logs.

        With ``steps_per_execution=n`` the batch hooks and the progress bar see every n-th
        step, as in Keras (``on_train_batch_begin`` at the first step of a group,
        ``on_train_batch_end`` at its last)."""
        if _custom.custom_fit(self):  # the model's own (Keras) train_step
            return _custom.train_epoch(self, train, cbs, progress)
        model = self.model
        want_batch_logs = cbs.wants_batch_hooks("train")
        report = want_batch_logs or progress.interactive
        sync_each_step = self._sync_each_step()
        every = self.steps_per_execution
        fast = step_weights(model.modules(), self.optimizer)
        total, count, steps, total_t = 0.0, 0, 0, None
        for step, (xb, yb, swb) in enumerate(train):
            if want_batch_logs and step % every == 0:
                cbs.batch_begin("train", step, None)
            bs = _batch_len(xb)
            loss, value = self._fit_step(xb, yb, swb, bs, sync_each_step, fast)
            if sync_each_step:
                if not math.isfinite(value):
                    self._stop_on_nan(epoch, step, value, progress)
                    break
                total += value * bs
            else:
                total_t = loss.detach() * bs if total_t is None else total_t + loss.detach() * bs
            count += bs
            steps += 1
            if report and steps % every == 0:
                self._report_step(cbs, progress, want_batch_logs, step, steps, total, total_t, count)
            if model.stop_training:
                break
        if report and steps % every and not model.stop_training:
            self._report_step(cbs, progress, want_batch_logs, steps - 1, steps, total, total_t, count)
        logs = _distributed.reduced_logs(self, total, total_t, count)
        if steps and not sync_each_step and not math.isfinite(logs["loss"]):
            self._stop_on_nan(epoch, steps - 1, logs["loss"], progress)
        return steps, logs

    def _fit_step(self, xb, yb, swb, bs: int, sync: bool, fast: list):
        """Forward, backward, update and metrics of one batch, with ``fast`` (the weights of
        :func:`~deepnet.utils.variables.step_weights`) as exact ``nn.Parameter`` objects. With
        ``sync`` the loss is read first and a non-finite one skips the update; returns the loss
        and its value (None without ``sync``)."""
        as_parameters(fast)
        try:
            loss, y_pred = self.train_step(xb, yb, swb)
            value = loss.item() if sync else None
            if value is None or math.isfinite(value):
                self.apply_gradients(loss, bs)
                self._update_metrics(yb, y_pred, swb)
        finally:
            as_variables(fast)
        return loss, value

    def _sync_each_step(self) -> bool:
        """Read each step's loss on the host (the NaN check stops before the bad update)? Only
        on one CPU process, where a read costs no device wait; on CUDA (and across ranks) the
        loss is summed on the device and read when logged (progress bar, batch hooks, epoch end)."""
        return self.device.type == "cpu" and self._dist is None

    def _report_step(self, cbs, progress, want_batch_logs, step, steps, total, total_t, count) -> None:
        running = lambda t=total, tt=total_t, c=count: self._running_logs(t, tt, c)  # noqa: E731
        if want_batch_logs:
            cbs.batch_end("train", step, LazyLogs(running))
        progress.batch_end(steps, running)

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

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_adapter(self, adapter, cbs: CallbackList | None) -> dict:
        if _custom.custom_evaluate(self):  # the model's own (Keras) test_step
            return _custom.evaluate(self, adapter, cbs)
        self.reset_metrics()
        total_t, count = None, 0
        want = cbs is not None and cbs.wants_batch_hooks("test")
        with eval_mode(self.model):  # each layer's own mode restored afterwards
            with torch.no_grad():
                cast = self._autocast()
                for step, (xb, yb, swb) in enumerate(adapter):
                    if want:
                        cbs.batch_begin("test", step, None)
                    loss = self._eval_batch(xb, yb, swb, cast)
                    bs = _batch_len(xb)
                    if loss is not None:
                        total_t = loss.detach() * bs if total_t is None else total_t + loss.detach() * bs
                    count += bs
                    if want:
                        cbs.batch_end("test", step, LazyLogs(lambda t=total_t, c=count: self._running_logs(0.0, t, c)))
        if count or self._dist is not None:  # every rank joins the reduction, even with no batch of its own
            return _distributed.reduced_logs(self, 0.0, total_t, count)
        return {"loss": float("nan")}

    def _eval_batch(self, xb, yb, swb, cast):
        if yb is None:
            raise ValueError("evaluate() needs targets: pass y, or a dataset that yields (x, y) pairs.")
        if cast is None:
            y_pred = self.model(xb)
            loss = self._compute_loss(yb, y_pred, swb) if any(self.losses) else None
        else:
            with cast:
                y_pred = self.model(xb)
                loss = self._compute_loss(yb, y_pred, swb) if any(self.losses) else None
        self._update_metrics(yb, y_pred, swb)
        return loss

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        verbose = resolve_verbose(verbose) if _distributed.is_main() else 0
        _custom.build_on_first_batch(self, x, batch_size)  # a subclassed model is built on the first batch
        self._prepare_eval()
        adapter = self._adapter(x, y, sample_weight, batch_size=batch_size, shuffle=False, steps=steps)
        cbs = CallbackList(callbacks, self.model, {"steps": adapter.num_batches, "verbose": verbose})
        progress = ProgressReporter(verbose if verbose != 1 else 2, None, adapter.num_batches, title="Evaluate")
        cbs.call("on_test_begin", None)
        progress.epoch_begin(0)
        logs = self._evaluate_adapter(adapter, cbs)
        progress.epoch_end(None, adapter.num_batches or 0, logs)
        cbs.call("on_test_end", logs)
        return _result(logs, return_dict)

    def _prepare_eval(self) -> None:
        if not self.model.built:
            raise ValueError(f"Model {self.model.name!r} is not built; call it on data or build(input_shape) first.")
        self.model.to(self.device)
        self._dist = _distributed.attach(self)
        self._collect_terms()

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        def run(part):
            return predict(self.model, part, batch_size=batch_size, verbose=verbose if _distributed.is_main() else 0,
                           steps=steps, callbacks=callbacks, device=self.device, autocast=self._autocast)
        if steps is None and _distributed.splits_predict(self, x):  # each rank predicts a part; all get all
            self._prepare_eval()
            return _distributed.predict_split(self, x, run)
        return run(x)

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        _custom.build_on_first_batch(self, x, batch_length(x))
        self._prepare()
        if class_weight is not None:
            sample_weight = class_weights_to_sample_weights(class_weight, y, sample_weight, output_classes(self.model))
        adapter = self._adapter(x, y, sample_weight, batch_size=batch_length(x), shuffle=False)
        with train_mode(self.model):  # the model's mode is restored afterwards (Keras: one training call)
            if _custom.custom_fit(self):
                return _result(_custom.train_batch(self, adapter), return_dict)
            xb, yb, swb = next(iter(adapter))
            loss, y_pred = self.train_step(xb, yb, swb)
            self.apply_gradients(loss)
            self._update_metrics(yb, y_pred, swb)
        return _result({"loss": float(loss.detach()), **self._metric_values()}, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        _custom.build_on_first_batch(self, x, batch_length(x))
        self._prepare_eval()
        adapter = self._adapter(x, y, sample_weight, batch_size=batch_length(x), shuffle=False)
        return _result(self._evaluate_adapter(adapter, None), return_dict)


# ---------------------------------------------------------------------- helpers


def _result(logs: dict, return_dict: bool):
    """Keras' return convention: the dict, the loss alone, or ``[loss, *metrics]``."""
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _batch_len(xb) -> int:
    if isinstance(xb, torch.Tensor):
        return xb.shape[0]
    return nest.flatten(xb)[0].shape[0]
