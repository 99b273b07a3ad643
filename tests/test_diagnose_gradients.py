"""deepnet.diagnose gradient health: the one-shot gradients() analysis and the GradientMonitor
callback on networks built to show vanishing gradients, exploding gradients, dead ReLUs and
healthy training."""

import json

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import initializers
from deepnet.diagnose import GradientDiagnosis, GradientMonitor, gradients
from deepnet.layers import Activation, BatchNormalization, Dense, Input


def _data(n=256, d=16, k=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    y = rng.integers(0, k, n)
    return (centers[y] + rng.normal(size=(n, d))).astype("float32"), y


def _deep_mlp(activation, init="glorot_uniform", batchnorm=False, depth=20, width=32, d=16, k=4):
    layers = [Input((d,))]
    for _ in range(depth):
        if batchnorm:
            layers += [Dense(width, kernel_initializer=init), BatchNormalization(), Activation(activation)]
        else:
            layers.append(Dense(width, activation=activation, kernel_initializer=init))
    layers.append(Dense(k, activation="softmax"))
    return dn.Sequential(layers)


LOSS = "sparse_categorical_crossentropy"


# ----------------------------------------------------------------------------- one-shot analysis


def test_vanishing_sigmoid_vs_relu_he_vs_batchnorm():
    x, y = _data()
    sig = gradients(_deep_mlp("sigmoid"), x, y, loss=LOSS)
    relu = gradients(_deep_mlp("relu", "he_normal", width=64), x, y, loss=LOSS)
    bn = gradients(_deep_mlp("sigmoid", batchnorm=True), x, y, loss=LOSS)
    assert sig.verdict == "vanishing_gradients", str(sig)
    assert sig.evidence["first_last_ratio"] < 1e-6
    assert len(sig.evidence["vanishing_layers"]) >= 5
    assert any("sigmoid" in r and "he_normal" in r for r in sig.remedies)
    assert any("BatchNormalization" in r for r in sig.remedies)
    assert any("residual" in r for r in sig.remedies)
    assert relu.verdict == "healthy", str(relu)
    assert bn.verdict == "healthy", str(bn)
    assert relu.evidence["first_last_ratio"] > 1e-2 and bn.evidence["first_last_ratio"] > 1e-2
    # per-layer evidence in depth order, BatchNormalization layers included
    assert [r["layer"] for r in bn.per_layer][:3] == bn.layer_names[:3]
    assert sum(bn.is_weight) == 21 and len(bn.layer_names) == 41


def test_exploding_deep_linear_net_with_large_init():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    big = initializers.RandomNormal(stddev=1.0)
    m = dn.Sequential([Input((16,)), *[Dense(32, kernel_initializer=big) for _ in range(10)], Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    r = gradients(m, x, y)  # the compiled loss
    assert r.verdict == "exploding_gradients", str(r)
    assert r.severity == "error"
    assert r.evidence["max_global_grad_norm"] > 1e6
    assert any("clipnorm" in s for s in r.remedies)
    assert any("too large for their fan-in" in s for s in r.remedies)
    assert r.per_layer[0]["init_gain"] > 3


def test_non_finite_gradients_are_exploding():
    m = dn.Sequential([Input((4,)), Dense(4), Dense(1)])
    x = np.ones((8, 4), "float32")
    x[0, 0] = np.inf
    r = gradients(m, x, np.zeros((8, 1), "float32"), loss="mse")
    assert r.verdict == "exploding_gradients" and r.severity == "error"
    assert r.evidence["non_finite_layers"]


def test_gradients_leaves_model_state_untouched():
    x, y = _data(n=64)
    m = dn.Sequential([Input((16,)), Dense(8, activation="relu"), BatchNormalization(), Dense(4, activation="softmax")])
    m.compile(optimizer="adam", loss=LOSS)
    m.train_on_batch(x[:32], y[:32])
    grads = [p.grad.clone() for p in m.parameters()]
    weights = [w.copy() for w in m.get_weights()]
    m.eval()
    r = gradients(m, x, y, batch_size=32)
    assert r.verdict in ("healthy", "dead_relus")
    assert r.evidence["source"] == "gradients(batch of 32)"
    assert not m.training
    for p, g in zip(m.parameters(), grads):
        assert torch.equal(p.grad, g)
    for a, b in zip(m.get_weights(), weights):
        np.testing.assert_array_equal(a, b)  # moving statistics restored too


def test_gradients_needs_a_loss_and_validates():
    m = dn.Sequential([Input((4,)), Dense(2)])
    x, y = np.zeros((4, 4), "float32"), np.zeros((4, 2), "float32")
    with pytest.raises(ValueError, match="not compiled"):
        gradients(m, x, y)
    with pytest.raises(ValueError, match="batch_size"):
        gradients(m, x, y, loss="mse", batch_size=0)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        gradients("model", x, y, loss="mse")
    with pytest.raises(ValueError, match="unknown threshold"):
        gradients(m, x, y, loss="mse", thresholds={"vanish": 1})
    with pytest.raises(TypeError, match="loss"):
        gradients(m, x, y, loss=3)


def test_plain_torch_module_and_callable_loss():
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    r = gradients(net, x, np.zeros((32, 1), "float32"), loss=lambda yt, yp: ((yt - yp) ** 2).mean())
    assert r.layer_names == ["0", "2"]
    assert r.relu_names == ["1"]
    assert r.verdict == "healthy"


# ----------------------------------------------------------------------------- monitor during fit


def test_monitor_dead_relus_with_negative_bias():
    x, y = _data(n=256)
    m = dn.Sequential([
        Input((16,)),
        Dense(32, activation="relu", bias_initializer=initializers.Constant(-10.0)),
        Dense(32, activation="relu"),
        Dense(4, activation="softmax"),
    ])
    m.compile(optimizer=dn.optimizers.Adam(1e-3), loss=LOSS)
    mon = GradientMonitor()
    m.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[mon])
    r = mon.report()
    assert r.verdict == "dead_relus", str(r)
    assert r.severity == "error"
    assert r.evidence["dead_layers"][m.layers[0].name] == 1.0
    assert r.per_layer[0]["grad_norm"] == 0.0
    assert any("bias_initializer='zeros'" in s for s in r.remedies)
    assert any("leaky_relu" in s for s in r.remedies)
    assert len(mon.records) == 3 and [rec["epoch"] for rec in mon.records] == [1, 2, 3]


def test_monitor_healthy_training_every_n_steps_and_reuse():
    x, y = _data(n=256)
    dn.utils.set_random_seed(1)
    m = dn.Sequential([Input((16,)), Dense(32, activation="relu", kernel_initializer="he_normal"),
                       Dense(32, activation="relu", kernel_initializer="he_normal"), Dense(4, activation="softmax")])
    m.compile(optimizer=dn.optimizers.Adam(1e-3), loss=LOSS)
    mon = GradientMonitor(every=3, dead_every=2)
    m.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[mon])  # 16 steps -> steps 0,3,...,15
    assert len(mon.records) == 6
    r = mon.result()
    assert r.verdict == "healthy", str(r)
    assert 1e-5 < r.evidence["max_update_ratio"] < 1e-1
    assert sum(1 for rec in mon.records if rec["dead"]) == 3  # dead units on every 2nd sample
    assert all(rec["update_norms"] is not None for rec in mon.records)
    # the same monitor resets on a new fit
    m.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[mon])
    assert len(mon.records) == 2


def test_monitor_hooks_only_on_sampled_steps():
    x, y = _data(n=128)
    m = dn.Sequential([Input((16,)), Dense(8, activation="relu"), Dense(4, activation="softmax")])
    m.compile(optimizer="adam", loss=LOSS)
    layer = m.layers[0]
    seen = []

    class Spy(dn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(len(layer._forward_hooks))

    mon = GradientMonitor()  # samples batch 0 of every epoch
    m.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[mon, Spy()])
    assert seen == [0] * 8  # removed by the monitor's batch_end, before the spy runs
    assert len(layer._forward_hooks) == 0


def test_monitor_without_records_and_bad_args():
    mon = GradientMonitor()
    with pytest.raises(RuntimeError, match="No gradients were recorded"):
        mon.result()
    with pytest.raises(ValueError, match="`every` of GradientMonitor"):
        GradientMonitor(every=0)
    with pytest.raises(ValueError, match="`every` of GradientMonitor"):
        GradientMonitor(every="batch")
    with pytest.raises(ValueError, match="dead_every"):
        GradientMonitor(dead_every=0)


# ----------------------------------------------------------------------------- result interface and plots


def test_result_interface_and_plots(tmp_path):
    import matplotlib.image as mpimg

    x, y = _data()
    r = gradients(_deep_mlp("sigmoid", depth=8), x, y, loss=LOSS)
    assert isinstance(r, GradientDiagnosis)
    text = str(r)
    assert text.startswith("Gradient health: ") and "Per layer (input -> output):" in text
    d = json.loads(r.to_json())
    assert d["kind"] == "gradients" and len(d["records"]) == 1 and len(d["layer_names"]) == 9
    assert isinstance(d["evidence"]["per_layer"], list)
    path = tmp_path / "grads.png"
    r.plot(str(path))
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[1] > 400

    # a monitor run: one line per epoch, plus update-ratio and dead-unit panels
    m = dn.Sequential([Input((16,)), Dense(16, activation="relu"), Dense(16, activation="relu"),
                       Dense(4, activation="softmax")])
    m.compile(optimizer="adam", loss=LOSS)
    mon = GradientMonitor()
    m.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[mon])
    res = mon.result()
    fig = res.plot(tmp_path / "monitor.png")
    assert len(fig.axes) == 3
    assert len(fig.axes[0].get_lines()) == 3  # epochs 1..3
    assert sorted(res.epoch_norms()) == [1, 2, 3]
    assert mpimg.imread(tmp_path / "monitor.png").shape[1] > 800
