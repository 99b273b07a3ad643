"""Adafactor, Ftrl, Lamb, Muon, ScheduleFreeAdamW and LossScaleOptimizer: Keras 3 parity of the
updates over a few steps, configs, name lookup, argument checks, fit, loss scaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn
import deepnet.optimizers as O

keras = pytest.importorskip("keras")

SHAPES = [(4, 3), (5,), (2, 3, 4), (6, 2)]

PARITY = [
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.5, "clip_threshold": 0.5}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.1,
              "l2_shrinkage_regularization_strength": 0.05, "beta": 0.2}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("ScheduleFreeAdamW", {}),
    ("ScheduleFreeAdamW", {"warmup_steps": 3, "weight_decay": 0.01}),
    ("Muon", {}),
    ("Muon", {"learning_rate": 0.02, "nesterov": False, "adam_lr_ratio": 0.1, "exclude_layers": ["v3"],
              "rms_rate": None}),
]


@pytest.mark.parametrize(("name", "kwargs"), PARITY)
def test_updates_equal_keras(name, kwargs):
    rng = np.random.default_rng(0)
    init = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(4)]
    kv = [keras.Variable(x, name=f"v{i}") for i, x in enumerate(init)]
    kopt = getattr(keras.optimizers, name)(**kwargs)
    params = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    for p, v in zip(params, kv):
        p.path = v.path
    opt = getattr(O, name)(**kwargs)
    for step in grads:
        kopt.apply([keras.ops.convert_to_tensor(g) for g in step], kv)
        opt.apply([torch.tensor(g) for g in step], params)
    for p, v in zip(params, kv):
        np.testing.assert_allclose(p.detach().numpy(), np.asarray(v.numpy()), atol=1e-5, rtol=1e-5)
    assert opt.iterations == 4


@pytest.mark.parametrize("name", ["Adafactor", "Ftrl", "Lamb", "Muon", "ScheduleFreeAdamW"])
def test_defaults_and_config_match_keras(name):
    ours = getattr(O, name)().get_config()
    theirs = getattr(keras.optimizers, name)().get_config()
    for key, value in theirs.items():
        if key in ("name", "learning_rate"):
            continue
        assert ours[key] == pytest.approx(value) if isinstance(value, float) else ours[key] == value, key
    assert ours["learning_rate"] == pytest.approx(float(theirs["learning_rate"]))
    rebuilt = O.deserialize(O.serialize(getattr(O, name)()))
    assert type(rebuilt).__name__ == name
    assert type(O.get(name.lower())).__name__ == name


@pytest.mark.parametrize(("name", "kwargs", "match"), [
    ("Ftrl", {"learning_rate_power": 0.5}, "learning_rate_power"),
    ("Ftrl", {"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
    ("Adafactor", {"clip_threshold": 0.0}, "clip_threshold"),
    ("Lamb", {"beta_1": 1.0}, "beta_1"),
    ("ScheduleFreeAdamW", {"warmup_steps": -1}, "warmup_steps"),
    ("Muon", {"exclude_layers": "dense"}, "exclude_layers"),
    ("Muon", {"ns_steps": 1.5}, "ns_steps"),
])
def test_bad_arguments(name, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(O, name)(**kwargs)


@pytest.mark.parametrize("name", ["Adafactor", "Ftrl", "Lamb", "Muon", "ScheduleFreeAdamW"])
def test_fit_reduces_loss_and_resumes(name):
    dn.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(128, 6)).astype("float32")
    y = x @ np.arange(6, dtype="float32")[:, None] * 0.3
    model = dn.Sequential([dn.layers.Input((6,)), dn.layers.Dense(8, activation="relu"), dn.layers.Dense(1)])
    lr = {"Ftrl": 0.5, "Adafactor": 0.05}.get(name, 0.01)
    model.compile(optimizer=getattr(O, name)(learning_rate=lr), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < history[0]
    state = model.optimizer.state_dict()
    other = getattr(O, name).from_config(model.optimizer.get_config())
    other.load_state_dict(state)
    other.build(model.trainable_weights)
    assert other.iterations == model.optimizer.iterations


def test_muon_decay_exclusion_and_adam_choice():
    layer = dn.layers.Dense(3)
    _ = layer(torch.zeros(1, 4))
    opt = O.Muon(learning_rate=0.1, weight_decay=0.5, adam_weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[layer.bias])
    before = layer.bias.detach().clone()
    opt.apply([torch.zeros_like(w) for w in layer.trainable_weights], layer.trainable_weights)
    torch.testing.assert_close(layer.bias.detach(), before)  # zero gradient, no decay
    group = opt.torch_optimizer.param_groups[0]
    assert not O._more_kernels.TorchMuon.uses_adam(layer.kernel, group)
    assert O._more_kernels.TorchMuon.uses_adam(layer.bias, group)


def test_loss_scale_optimizer_dynamics_and_config():
    opt = O.LossScaleOptimizer(O.SGD(learning_rate=1.0), initial_scale=8.0, dynamic_growth_steps=2)
    w = torch.nn.Parameter(torch.zeros(2))
    opt.apply([torch.full((2,), 8.0)], [w])
    torch.testing.assert_close(w.detach(), torch.full((2,), -1.0))
    assert (opt.dynamic_scale, opt.iterations) == (8.0, 1)
    opt.apply([torch.full((2,), 8.0)], [w])
    assert opt.dynamic_scale == 16.0  # two finite steps: doubled
    opt.apply([torch.tensor([float("nan"), 1.0])], [w])
    assert opt.dynamic_scale == 8.0 and opt.iterations == 2  # skipped, halved
    assert float(opt.scale_loss(torch.tensor(1.0))) == 8.0
    config = O.serialize(opt)
    assert config["config"]["inner_optimizer"]["class_name"] == "SGD"
    rebuilt = O.deserialize(config)
    assert isinstance(rebuilt.inner_optimizer, O.SGD) and rebuilt.dynamic_growth_steps == 2
    keras_config = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()).get_config()
    assert set(keras_config) == set(config["config"])
    opt.learning_rate = 0.5
    assert opt.inner_optimizer.learning_rate == 0.5
    with pytest.raises(TypeError, match="inner_optimizer"):
        O.LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="clipnorm"):
        O.LossScaleOptimizer(O.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="initial_scale"):
        O.LossScaleOptimizer(O.SGD(), initial_scale=0)


def test_loss_scale_optimizer_in_fit_with_mixed_float16():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    dn.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(16, activation="relu"), dn.layers.Dense(2)])
        model.compile(optimizer=O.LossScaleOptimizer(O.Adam(0.01)),
                      loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"]
    finally:
        dn.mixed_precision.set_global_policy("float32")
    assert history[-1] < history[0]
    assert model.optimizer.iterations > 0
