"""Regenerate the figures and printed output of docs/explain.md (run from the repository root)."""

import numpy as np
import torch
from sklearn.datasets import load_digits

import deepnet as dn

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
torch.manual_seed(0)
model = dn.Sequential([dn.Input((8, 8, 1)), *(dn.layers.Conv2D(12, 3, activation="relu", padding="same") for _ in range(3)),
                       dn.layers.Flatten(), dn.layers.Dense(10)])
model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"], device="cpu")
model.fit(x[:1200], y[:1200], epochs=5, batch_size=64, verbose=0)
print("test accuracy", round(model.evaluate(x[1400:], y[1400:], verbose=0)[1], 4))
xs, ys = x[1400:1432], y[1400:1432]
a, err = dn.explain.attribute(model, xs, "integrated_gradients", return_error=True)
print("IG completeness error: max", f"{err.max():.2e}", "mean", f"{err.mean():.2e}")
pred = model.predict(xs[:8], verbose=0).argmax(1)
dn.explain.plot(xs[:8], a[:8], y=ys[:8], predicted=pred, path="docs/images/explain/digits_ig.png")
METHODS = ["saliency", "input_x_gradient", "smoothgrad", "deeplift", "gradient_shap", "occlusion", "grad_cam",
           "guided_backprop"]
for method in METHODS:  # one picture per method on the same 4 digits
    options = {"baseline": x[:16]} if method == "gradient_shap" else {}
    am = dn.explain.attribute(model, xs[:4], method, **options)
    dn.explain.plot(xs[:4], am, y=ys[:4], predicted=pred[:4], path=f"docs/images/explain/digits_{method}.png")
r = dn.explain.check(model, xs, ys, methods=["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "deeplift", "occlusion", "grad_cam", "guided_backprop"])
print(r)
for k, v in r.methods.items():
    print(k, {a: round(b, 2) for a, b in v.randomisation_cascade.items()}, "sens", round(v.sensitivity, 3), {s: f"{e:.1e}" for s, e in v.completeness_by_steps.items()})
# tabular
rng = np.random.default_rng(0)
xt = rng.normal(size=(1200, 20)).astype(np.float32)
yt = (xt[:, 2] + xt[:, 7] - xt[:, 13] > 0).astype(np.int64)
torch.manual_seed(0)
tab = dn.Sequential([dn.Input((20,)), dn.layers.Dense(32, activation="relu"), dn.layers.Dense(2)])
tab.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"], device="cpu")
tab.fit(xt[:1000], yt[:1000], epochs=15, batch_size=64, verbose=0)
names = [f"col{i}" for i in range(20)]
for m in ("integrated_gradients", "occlusion", "kernel_shap"):
    at = dn.explain.attribute(tab, xt[1000:1100] if m == "kernel_shap" else xt[1000:], m)
    print(m, "top-1 informative:", np.isin(np.argsort(-np.abs(at), 1)[:, 0], [2, 7, 13]).mean())
pi = dn.explain.permutation_importance(tab, xt[1000:], yt[1000:], repeats=5, feature_names=names)
print(pi)
dn.explain.plot(pi, path="docs/images/explain/table_permutation.png")
at = dn.explain.attribute(tab, xt[1000:1004], "integrated_gradients")
dn.explain.plot(xt[1000:1004], at, y=yt[1000:1004], predicted=tab.predict(xt[1000:1004], verbose=0).argmax(1), feature_names=names, top=8, path="docs/images/explain/table_ig.png")
