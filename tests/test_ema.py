"""Optimizers' use_ema / ema_momentum / ema_overwrite_frequency and SwapEMAWeights (Keras 3)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import deepnet as dn

SHAPES = [(3, 2), (2,)]


def _run(name, kwargs, steps=6, seed=0):
    """Keras and deepnet weights (and averages) after ``steps`` updates with the same gradients."""
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]
    kv = [keras.Variable(w) for w in init]
    ko = getattr(keras.optimizers, name)(**kwargs)
    ours = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    opt = getattr(dn.optimizers, name)(**kwargs)
    for g in grads:
        ko.apply([torch.tensor(x) for x in g], kv)
        opt.apply([torch.tensor(x) for x in g], ours)
    return ko, kv, opt, ours


def _rel(keras_values, ours) -> float:
    return max(float((np.abs(np.asarray(k) - np.asarray(o)) / (1 + np.abs(np.asarray(k)))).max())
               for k, o in zip(keras_values, ours))


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1, "ema_momentum": 0.5, "ema_overwrite_frequency": 3}),
    ("SGD", {"learning_rate": 0.1, "ema_momentum": 0.8, "ema_overwrite_frequency": 2}),
])
def test_ema_weights_and_averages_equal_keras(name, kwargs):
    ko, kv, opt, ours = _run(name, {**kwargs, "use_ema": True})
    assert _rel([v.numpy() for v in kv], [p.detach().numpy() for p in ours]) <= 1e-6
    averages = [a.numpy() for a in ko._model_variables_moving_average]
    assert _rel(averages, [a.numpy() for a in opt._ema.averages]) <= 1e-6
    ko.finalize_variable_values(kv)
    opt.finalize_variable_values(ours)
    assert _rel([v.numpy() for v in kv], [p.detach().numpy() for p in ours]) <= 1e-6
    np.testing.assert_array_equal(ours[0].detach().numpy(), opt._ema.averages[0].numpy())


def test_first_step_copies_and_overwrite_frequency():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = dn.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt.apply([torch.ones(1)], [w])  # w = -1; first step: average = w
    assert w.item() == -1.0 and opt._ema.averages[0].item() == -1.0
    opt.apply([torch.ones(1)], [w])  # w = -2; average = -1.5; 2nd update overwrites w
    assert w.item() == -1.5 and opt._ema.averages[0].item() == -1.5


def test_fit_ends_with_the_averages_and_config_round_trip():
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    opt = dn.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.9)
    model.compile(optimizer=opt, loss="mse")
    model.fit(np.ones((8, 2)), np.full((8, 1), 3.0), batch_size=2, epochs=2, verbose=0)
    for p, a in zip(model.trainable_weights, opt._ema.averages):
        torch.testing.assert_close(p.detach(), a, rtol=0, atol=0)
    config = opt.get_config()
    assert (config["use_ema"], config["ema_momentum"], config["ema_overwrite_frequency"]) == (True, 0.9, None)
    assert dn.optimizers.Adam.from_config(config).use_ema is True


@pytest.mark.parametrize("kwargs, error, match", [
    ({"use_ema": "yes"}, TypeError, r"`use_ema` of Adam, expected a bool"),
    ({"use_ema": True, "ema_momentum": 1.5}, ValueError, r"`ema_momentum` of Adam"),
    ({"use_ema": True, "ema_overwrite_frequency": 0}, ValueError, r"`ema_overwrite_frequency` of Adam"),
])
def test_bad_ema_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        dn.optimizers.Adam(**kwargs)


def _trained(swap=None):
    torch.manual_seed(0)
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer=dn.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), loss="mse")
    x, y = np.random.default_rng(0).normal(size=(16, 2)), np.ones((16, 1))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.optimizer._ema.averages[0].add_(1.0)  # make the averages differ from the weights
    return model, x, y


def test_swap_ema_weights_evaluates_with_averages_and_swaps_back():
    model, x, y = _trained()
    weights = [p.detach().clone() for p in model.trainable_weights]
    averages = [a.clone() for a in model.optimizer._ema.averages]
    seen = []
    probe = dn.callbacks.LambdaCallback(on_test_begin=lambda logs: seen.append(model.trainable_weights[0].detach().clone()))
    model.evaluate(x, y, verbose=0, callbacks=[dn.callbacks.SwapEMAWeights(), probe])
    torch.testing.assert_close(seen[0], averages[0])
    for p, w in zip(model.trainable_weights, weights):
        torch.testing.assert_close(p.detach(), w)
    predicted = model.predict(x, verbose=0, callbacks=[dn.callbacks.SwapEMAWeights()])
    model.optimizer.swap_ema_weights()
    np.testing.assert_allclose(predicted, model.predict(x, verbose=0), rtol=1e-6)


def test_swap_on_epoch_leaves_the_averages_in_the_model():
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer=dn.optimizers.SGD(0.1, use_ema=True), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
              callbacks=[dn.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    for p, a in zip(model.trainable_weights, model.optimizer._ema.averages):
        torch.testing.assert_close(p.detach(), a)


def test_swap_ema_weights_needs_use_ema():
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[dn.callbacks.SwapEMAWeights()])
    with pytest.raises(TypeError, match="swap_on_epoch"):
        dn.callbacks.SwapEMAWeights(swap_on_epoch="yes")


def test_save_and_load_keep_the_averages(tmp_path):
    model, x, y = _trained()
    averages = [a.clone() for a in model.optimizer._ema.averages]
    path = tmp_path / "m.deepnet"
    model.save(path)
    loaded = dn.models.load_model(path)
    for a, b in zip(loaded.optimizer.state_dict()["ema"], averages):  # kept until the build
        torch.testing.assert_close(a, b)
    state = model.optimizer.state_dict()
    fresh = dn.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    fresh.load_state_dict(state)  # before build: applied when built
    fresh.build(list(model.trainable_weights))
    torch.testing.assert_close(fresh._ema.averages[0], averages[0])


def test_backup_and_restore_keeps_the_averages(tmp_path):
    model, x, y = _trained()
    backup = dn.callbacks.BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[backup])
    averages = [a.clone() for a in model.optimizer._ema.averages]
    model2 = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model2.compile(optimizer=dn.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), loss="mse")
    model2.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[backup])  # resumes: epoch 1 done, no step
    for a, b in zip(model2.optimizer._ema.averages, averages):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("swap", [True, False])
def test_fit_validation_runs_the_test_hooks_so_swap_ema_weights_validates_the_averages(swap):
    """Keras' fit validates through evaluate, so on_test_begin/on_test_end fire and SwapEMAWeights
    validates with the moving averages; after fit the averages are the weights (use_ema)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 2)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    dn.utils.set_random_seed(0)
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer=dn.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), loss="mse")
    events = []
    probe = dn.callbacks.LambdaCallback(on_test_begin=lambda logs: events.append("test_begin"),
                                        on_test_end=lambda logs: events.append(("test_end", sorted(logs))),
                                        on_epoch_end=lambda epoch, logs: events.append("epoch_end"))
    callbacks = [dn.callbacks.SwapEMAWeights(), probe] if swap else [probe]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y), callbacks=callbacks)
    assert events == ["test_begin", ("test_end", ["loss"]), "epoch_end"]
    final = model.evaluate(x, y, verbose=0)  # the weights are now the averages
    if swap:
        assert history.history["val_loss"][0] == pytest.approx(final, rel=1e-6)
    else:
        assert abs(history.history["val_loss"][0] - final) > 1e-3
