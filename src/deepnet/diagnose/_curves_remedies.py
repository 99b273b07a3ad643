"""Remedies of the learning-curve verdicts, phrased with the model's learning rate and layers."""

from __future__ import annotations

from .. import activations

__all__ = ["learning_rate", "remedies_not_converged", "remedies_overfit", "remedies_underfit", "remedies_unstable"]


def learning_rate(model) -> float | None:
    try:
        opt = getattr(model, "optimizer", None)
        lr = getattr(opt, "learning_rate", None) if opt is not None else None
        return float(lr) if lr is not None else None
    except (TypeError, ValueError, RuntimeError):
        return None


def _fmt_lr(lr: float) -> str:
    return f"{lr:.0e}" if lr < 1e-2 else f"{lr:.2g}"


def remedies_unstable(lr, diverged: bool) -> list[str]:
    out = []
    if lr is not None:
        out.append(f"Lower the learning rate 3-10x: learning_rate={_fmt_lr(lr / 10)} to {_fmt_lr(lr / 3)} "
                   f"instead of {_fmt_lr(lr)}.")
    else:
        out.append("Lower the learning rate 3-10x (e.g. Adam(learning_rate=1e-3) -> 3e-4, SGD(0.5) -> 0.05).")
    out += [
        "Clip gradients: pass clipnorm=1.0 to the optimizer (e.g. SGD(learning_rate=..., momentum=0.9, clipnorm=1.0)).",
        "Use an adaptive optimizer (Adam) or less momentum; add a warm-up or "
        "ReduceLROnPlateau(monitor='loss', factor=0.5, patience=2).",
        "Add BatchNormalization after the Dense/Conv layers and/or use a larger batch_size for smoother steps.",
    ]
    if diverged:
        out.append("Check the data for NaN/inf or extreme values: deepnet.diagnose.data(x, y); run "
                   "deepnet.diagnose.GradientMonitor() to see which layer explodes.")
    return out


def remedies_overfit(es: dict, metric, model) -> list[str]:
    p, best, stop = es["patience"], es["best_epoch"], es["stop_epoch"]
    if stop is not None:
        first = (f"EarlyStopping(monitor='val_loss', patience={p}, restore_best_weights=True) would have stopped "
                 f"at epoch {stop} and restored the weights of epoch {best}.")
    else:
        first = (f"EarlyStopping(monitor='val_loss', patience={p}, restore_best_weights=True) would keep the "
                 f"weights of epoch {best}.")
    out = [first,
           "Add L2 weight decay: kernel_regularizer=deepnet.regularizers.L2(1e-4) on the Dense/Conv layers "
           "(try 1e-5 to 1e-3), or AdamW(weight_decay=1e-4).",
           "Add Dropout(0.3) after the large hidden layers (0.5 for very wide ones).",
           "Get more training data, or augment it (images: RandomFlip, RandomRotation(0.1), RandomZoom(0.1)).",
           "Reduce capacity: fewer layers or about half the units per layer."]
    return out


def remedies_not_converged(n: int, slope: float, k: int, lr) -> list[str]:
    more = max(2 * n, n + 10)
    out = [f"Train longer: epochs={more} with EarlyStopping(monitor='val_loss', patience=5, "
           "restore_best_weights=True) so it stops by itself."]
    if lr is not None:
        out.append(f"Raise the learning rate about 3x (learning_rate={_fmt_lr(lr * 3)} instead of {_fmt_lr(lr)}); "
                   "ReduceLROnPlateau(factor=0.5, patience=3) can lower it again later.")
    else:
        out.append("Raise the learning rate about 3x, or use Adam(learning_rate=1e-3) if you use plain SGD.")
    out.append("Add BatchNormalization: it usually allows a larger learning rate and faster convergence.")
    return out


def remedies_underfit(model, lr) -> list[str]:
    out = []
    hidden = _hidden_nonlinearity(model)
    if hidden is False:
        out.append("The model has no hidden nonlinearity, so it can only draw linear boundaries: add hidden "
                   "layers such as Dense(64, activation='relu').")
    out += [
        "Increase capacity: more units per layer (e.g. 2-4x) or more layers.",
        "Train longer and/or raise the learning rate" + (f" (now {_fmt_lr(lr)})" if lr is not None else "")
        + "; Adam(learning_rate=1e-3) is a good default.",
        "Reduce regularization: smaller L2 factor, lower Dropout rate.",
        "For deep networks use ReLU with kernel_initializer='he_normal' and BatchNormalization; check the "
        "gradients with deepnet.diagnose.gradients(model, x, y).",
        "Check that the inputs are scaled and the labels are right: deepnet.diagnose.data(x, y).",
    ]
    return out


def _hidden_nonlinearity(model) -> bool | None:
    """False when every layer but the last is linear (no activation), None when unknown."""
    layers = getattr(model, "layers", None)
    if not layers:
        return None
    weighted = [ly for ly in layers if any(p.requires_grad for p in ly.parameters())]
    if not weighted:
        return None
    others = [ly for ly in layers if ly not in weighted and type(ly).__name__ not in ("InputLayer", "Flatten",
                                                                                       "Dropout", "Reshape")]
    if others:
        return None
    for ly in weighted[:-1]:
        act = getattr(ly, "activation", None)
        if act is None or act is not activations.linear:
            return None
    return False
