"""Defenses of deepnet.robust: adversarial training through compile/fit (Madry, TRADES, fast), defensive
distillation, Ensemble, input-transformation layers with BPDA (sklearn digits in [0, 1], tiny MLPs)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

import deepnet as dn

pytest.importorskip("sklearn")

from robust_data import compile_logits as _compile  # noqa: E402
from robust_data import digits as _digits  # noqa: E402
from robust_data import mlp as _mlp  # noqa: E402

EPS = 0.1


@pytest.fixture(scope="session")
def digits():
    return _digits()


def _accuracy(model, x, y) -> float:
    return float((model.predict(x, verbose=0).argmax(1) == y).mean())


def _robust(model, x, y) -> float:
    return _accuracy(model, dn.robust.pgd(model, x, y, eps=EPS, steps=20, clip=(0, 1)), y)


@pytest.fixture(scope="session")
def standard(digits):
    x, _, y, _ = digits
    dn.utils.set_random_seed(0)
    model = _compile(_mlp())
    model.fit(x, y, batch_size=64, epochs=15, verbose=0)
    return model


@pytest.fixture(scope="session")
def madry(digits):
    x, _, y, _ = digits
    dn.utils.set_random_seed(0)
    model = _compile(_mlp(), dn.robust.AdversarialTraining("pgd", eps=EPS, steps=5, clip=(0, 1)))
    history = model.fit(x, y, batch_size=64, epochs=20, verbose=0, validation_split=0.1)
    return model, history


# ---------------------------------------------------------------------- adversarial training
def test_madry_training_raises_robust_accuracy(digits, standard, madry):
    _, x, _, y = digits
    model, history = madry
    assert _accuracy(model, x, y) >= 0.9
    assert _robust(model, x, y) >= _robust(standard, x, y) + 0.15
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    # fit reports the adversarial batch's accuracy (lower than the clean validation accuracy)
    assert history.history["accuracy"][-1] < history.history["val_accuracy"][-1]


@pytest.mark.parametrize("method", ["trades", "fast"])
def test_trades_and_fast_training(digits, standard, method):
    x, xt, y, yt = digits
    dn.utils.set_random_seed(0)
    model = _compile(_mlp(), dn.robust.AdversarialTraining("pgd", eps=EPS, steps=3, method=method, clip=(0, 1)))
    history = model.fit(x, y, batch_size=64, epochs=15, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert _accuracy(model, xt, yt) >= 0.85
    assert _robust(model, xt, yt) >= _robust(standard, xt, yt) + 0.1


def test_attack_runs_in_eval_mode_and_costs_steps_plus_one_passes():
    calls = []

    class Probe(dn.layers.Layer):
        def call(self, inputs):
            calls.append(self.training)
            return inputs

    model = dn.Sequential([dn.Input((4,)), Probe(), dn.layers.Dense(3)])
    _compile(model, dn.robust.AdversarialTraining("pgd", eps=0.1, steps=3, clip=(0, 1)))
    model.train_on_batch(np.random.rand(8, 4).astype("float32"), np.arange(8) % 3)
    assert calls[-4:] == [False, False, False, True]


def test_perturbation_respects_budget_and_range():
    model = dn.Sequential([dn.Input((6,)), dn.layers.Dense(3)])
    x = torch.rand(16, 6)
    for norm, method in (("inf", "madry"), (2, "madry"), ("inf", "fast"), ("inf", "trades")):
        at = dn.robust.AdversarialTraining(eps=0.2, steps=4, norm=norm, method=method, clip=(0, 1))
        x_adv = at.perturb(model, x, lambda xa: model(xa).logsumexp(1).sum())
        delta = (x_adv - x).reshape(16, -1)
        size = delta.abs().amax(1) if norm == "inf" else delta.norm(dim=1)
        assert bool((size <= 0.2 + 1e-5).all()) and bool(((x_adv >= 0) & (x_adv <= 1)).all())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="host-sync detection needs CUDA")
@pytest.mark.parametrize("method", ["madry", "trades", "fast"])
def test_training_step_has_no_host_sync_on_cuda(method):
    model = _compile(dn.Sequential([dn.Input((8,)), dn.layers.Dense(16, activation="relu"), dn.layers.Dense(3)]),
                     dn.robust.AdversarialTraining(eps=0.1, steps=3, method=method, clip=(0, 1)))
    model._trainer.device = torch.device("cuda")
    model._trainer._prepare()
    x, y = torch.rand(32, 8, device="cuda"), torch.arange(32, device="cuda") % 3
    model._trainer.adversarial.training_loss(model._trainer, x, y, None)  # warm-up (lazy set-up may sync)
    torch.cuda.set_sync_debug_mode("error")
    try:
        loss, _ = model._trainer.adversarial.training_loss(model._trainer, x, y, None)
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_callbacks_schedules_and_mixed_precision_keep_working(digits):
    x, _, y, _ = digits
    dn.utils.set_random_seed(0)
    model = dn.Sequential([dn.Input((64,)), dn.layers.Dense(32, activation="relu"), dn.layers.Dense(10)])
    schedule = dn.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=10, decay_rate=0.9)
    model.compile(optimizer=dn.optimizers.Adam(schedule), loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  adversarial=dn.robust.AdversarialTraining(eps=EPS, steps=2, clip=(0, 1)), device="cpu")
    stop = dn.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    history = model.fit(x[:256], y[:256], epochs=5, batch_size=64, verbose=0, callbacks=[stop])
    assert len(history.epoch) < 5  # EarlyStopping stopped it
    dn.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = dn.Sequential([dn.Input((64,)), dn.layers.Dense(32, activation="relu"), dn.layers.Dense(10)])
        _compile(model, dn.robust.AdversarialTraining(eps=EPS, steps=2, clip=(0, 1)))
        history = model.fit(x[:128], y[:128], epochs=1, batch_size=64, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
    finally:
        dn.mixed_precision.set_global_policy("float32")


def test_adversarial_option_saves_and_loads(tmp_path, digits):
    x, _, y, _ = digits
    adv = dn.robust.AdversarialTraining("pgd", eps=0.05, steps=3, method="trades", beta=3.0, clip=(0, 1))
    model = _compile(_mlp(units=16), adv)
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    path = tmp_path / "robust.deepnet"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        saved = json.loads(z.read("config.json"))["compile_config"]["adversarial"]
    assert saved == {"class_name": "AdversarialTraining", "config": adv.get_config()}
    loaded = dn.saving.load_model(path)
    restored = loaded._trainer.adversarial
    assert isinstance(restored, dn.robust.AdversarialTraining) and restored.get_config() == adv.get_config()
    loaded.fit(x[:64], y[:64], epochs=1, verbose=0)  # training resumes adversarially


def test_backup_and_restore_resumes_adversarial_training(tmp_path):
    x, y = np.random.rand(64, 8).astype("float32"), np.arange(64) % 3

    class Crash(dn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("crash")

    def make():
        model = dn.Sequential([dn.Input((8,)), dn.layers.Dense(3)])
        return _compile(model, dn.robust.AdversarialTraining(eps=0.1, steps=2, clip=(0, 1)))

    with pytest.raises(RuntimeError, match="crash"):
        make().fit(x, y, epochs=4, verbose=0, callbacks=[dn.callbacks.BackupAndRestore(tmp_path), Crash()])
    seen = []
    epochs = dn.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    with pytest.warns(RuntimeWarning, match="differ"):
        make().fit(x, y, epochs=4, verbose=0, callbacks=[dn.callbacks.BackupAndRestore(tmp_path), epochs])
    assert seen[0] > 0 and seen[-1] == 3  # resumed after the last completed epoch


@pytest.mark.parametrize("kwargs, match", [
    (dict(eps=0), "eps"), (dict(eps=-0.1), "eps"), (dict(steps=0), "steps"), (dict(method="free"), "method"),
    (dict(attack="cw"), "attack"), (dict(clip=(1, 0)), "clip"), (dict(clip="0-1"), "clip"),
    (dict(beta=-1.0), "beta"), (dict(eps=2.0, clip=(0, 1)), "eps"), (dict(norm=3), "norm"),
    (dict(step_size=0), "step_size"),
])
def test_adversarial_training_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dn.robust.AdversarialTraining(**kwargs)


def test_compile_rejects_a_non_wrapper():
    model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(2)])
    with pytest.raises(TypeError, match="adversarial"):
        model.compile(optimizer="sgd", loss="mse", adversarial="pgd")


# ---------------------------------------------------------------------- defensive distillation
def test_distillation_saturates_the_student(digits, standard):
    x, xt, y, yt = digits
    dn.utils.set_random_seed(0)
    student = dn.robust.distill(_mlp(), _mlp(), x, y, temperature=50, optimizer=dn.optimizers.Adam(1e-2), epochs=15,
                                batch_size=64, verbose=0)
    assert _accuracy(student, xt, yt) >= 0.8
    logits, normal = student.predict(xt, verbose=0), standard.predict(xt, verbose=0)
    assert np.abs(logits).mean() > 5 * np.abs(normal).mean()  # logits ~T times larger: softmax saturates at T=1
    assert student.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] >= 0.8  # an ordinary compiled model


def test_distill_bad_inputs(digits):
    x, _, y, _ = digits
    softmax = dn.Sequential([dn.Input((64,)), dn.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match="probabilities"):
        dn.robust.distill(softmax, _mlp(), x[:32], y[:32], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="temperature"):
        dn.robust.distill(_mlp(), _mlp(), x[:32], y[:32], temperature=0)
    with pytest.raises(TypeError, match="student"):
        dn.robust.distill(_mlp(), "mlp", x[:32], y[:32])


# ---------------------------------------------------------------------- ensembles
def test_ensemble_combines_and_round_trips(tmp_path, digits, standard):
    x, xt, y, yt = digits
    members = [standard] + [_compile(_mlp(units=32)) for _ in range(2)]
    for m in members[1:]:
        m.fit(x, y, epochs=5, verbose=0)
    logits = dn.robust.Ensemble(members)
    expected = torch.stack([torch.log_softmax(torch.as_tensor(m.predict(xt, verbose=0)), 1) for m in members]).mean(0)
    np.testing.assert_allclose(logits.predict(xt, verbose=0), expected.numpy(), atol=1e-5)
    probs = dn.robust.Ensemble(members, combine="probs").predict(xt, verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    assert _accuracy(logits, xt, yt) >= 0.9
    path = tmp_path / "ensemble.deepnet"
    logits.save(path)
    loaded = dn.saving.load_model(path)
    assert isinstance(loaded, dn.robust.Ensemble) and len(loaded.members) == 3
    np.testing.assert_allclose(loaded.predict(xt, verbose=0), logits.predict(xt, verbose=0), atol=1e-6)
    # white-box goes through every member; a transfer attack crafted on one member is weaker
    white = _robust(logits, xt[:150], yt[:150])
    transfer = _accuracy(logits, dn.robust.pgd(members[1], xt[:150], yt[:150], eps=EPS, steps=20, clip=(0, 1)),
                         yt[:150])
    assert white < transfer


def test_ensemble_vote_needs_bpda():
    members = [dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)]) for _ in range(3)]
    vote = dn.robust.Ensemble(members, combine="vote")
    x = torch.rand(5, 4, requires_grad=True)
    out = vote(x)
    np.testing.assert_allclose(out.detach().sum(1).numpy(), 1)
    assert not out.requires_grad  # argmax votes: no gradient
    with dn.robust.bpda():
        vote(x).sum(0)[0].backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(members=[]), TypeError, "members"), (dict(members="m"), TypeError, "members"),
    (dict(members=[object()]), TypeError, "members"), (dict(combine="max"), ValueError, "combine"),
])
def test_ensemble_bad_arguments(kwargs, error, match):
    kwargs.setdefault("members", [dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])])
    with pytest.raises(error, match=match):
        dn.robust.Ensemble(**kwargs)


# ---------------------------------------------------------------------- input transformations
def test_bit_depth_reduction_masks_gradients_and_bpda_passes_them():
    layer = dn.robust.BitDepthReduction(bits=3)
    x = torch.rand(4, 5, requires_grad=True)
    out = layer(x)
    assert torch.allclose(out * 7, torch.round(out * 7), atol=1e-5)
    out.sum().backward()
    assert float(x.grad.abs().sum()) == 0  # round(): zero gradient almost everywhere
    x.grad = None
    with dn.robust.bpda():
        torch.testing.assert_close(layer(x), out)  # same forward pass
        layer(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(x))
    assert not dn.robust.bpda_active()
    x.grad = None
    dn.robust.BitDepthReduction(bits=3, straight_through=True)(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(x))


def test_median_smoothing_images_and_signals():
    img = torch.zeros(2, 6, 6, 3)
    img[:, 2, 3, :] = 1.0  # salt noise
    out = dn.robust.MedianSmoothing(size=3)(img)
    assert out.shape == img.shape and float(out.abs().max()) == 0
    smooth = torch.arange(10.0).reshape(1, 10, 1)
    torch.testing.assert_close(dn.robust.MedianSmoothing(size=3)(smooth)[0, 1:-1], smooth[0, 1:-1])
    with pytest.raises(ValueError, match="shape"):
        dn.robust.MedianSmoothing()(torch.zeros(2, 4))


def test_transform_layers_save_and_load(tmp_path):
    model = dn.Sequential([dn.Input((6, 6, 1)), dn.robust.MedianSmoothing(size=3),
                           dn.robust.BitDepthReduction(bits=2, value_range=(0, 1)), dn.layers.Flatten(),
                           dn.layers.Dense(3)])
    path = tmp_path / "squeezed.deepnet"
    model.save(path)
    loaded = dn.saving.load_model(path)
    x = np.random.rand(2, 6, 6, 1).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert loaded.layers[1].get_config()["bits"] == 2


@pytest.mark.parametrize("cls, kwargs, match", [
    (dn.robust.BitDepthReduction, dict(bits=0), "bits"), (dn.robust.BitDepthReduction, dict(bits=17), "bits"),
    (dn.robust.BitDepthReduction, dict(value_range=(1, 0)), "value_range"),
    (dn.robust.BitDepthReduction, dict(straight_through="yes"), "straight_through"),
    (dn.robust.MedianSmoothing, dict(size=2), "size"), (dn.robust.MedianSmoothing, dict(size=0), "size"),
])
def test_transform_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
