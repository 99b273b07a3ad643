"""Keras 3 custom training on the torch backend: overridden train_step / test_step /
predict_step / compute_loss / compute_metrics, own metric trackers, several optimizers (a
GAN), optimizer.apply, add_loss, subclassed models built on the first batch, lazy sublayers,
from_config with configs that omit names, trailing-axis expansion and .weights.h5 checkpoints.
The patterns follow the keras.io guide "Customizing what happens in fit() with PyTorch"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as keras
from deepnet.utils import set_random_seed


@pytest.fixture(autouse=True)
def _seed():
    set_random_seed(0)


def _data(n=64, d=8):
    rng = np.random.default_rng(0)
    x = rng.random((n, d), dtype=np.float32)
    y = (x @ rng.random((d, 1), dtype=np.float32)).astype("float32")
    return x, y


class SimpleOverride(keras.Model):
    """The guide's first example: compute_loss, optimizer.apply, self.metrics."""

    calls = 0

    def train_step(self, data):
        type(self).calls += 1
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_simple_train_step_override_is_called_and_logged():
    x, y = _data()
    inputs = keras.Input(shape=(8,))
    model = SimpleOverride(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    SimpleOverride.calls = 0
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert SimpleOverride.calls == 12
    assert sorted(history.history) == ["loss", "mae"]
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]


def test_simple_override_equals_a_hand_written_torch_loop():
    x, y = _data(32)
    inputs = keras.Input(shape=(8,))
    model = SimpleOverride(inputs, keras.layers.Dense(1)(inputs))
    w0 = [w.detach().clone() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)

    kernel, bias = (w.clone().requires_grad_(True) for w in w0)  # kernel stored (out, in)
    opt = torch.optim.SGD([kernel, bias], lr=0.1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(2):
        for i in range(0, 32, 8):
            opt.zero_grad()
            loss = ((xt[i:i + 8] @ kernel.T + bias - yt[i:i + 8]) ** 2).mean()
            loss.backward()
            opt.step()
    torch.testing.assert_close(model.trainable_weights[0].detach().cpu(), kernel.detach(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.trainable_weights[1].detach().cpu(), bias.detach(), rtol=1e-4, atol=1e-5)


class OwnTrackers(keras.Model):
    """The guide's lower-level example: own loss, trackers and a metrics property."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in trainable_weights], trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_own_loss_tracker_and_metrics_property_reset_per_epoch():
    x, y = _data()
    inputs = keras.Input(shape=(8,))
    model = OwnTrackers(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam")  # no loss: the step computes its own
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    # reset at each epoch's start: the tracker saw the last epoch's 4 batches only
    assert float(model.loss_tracker.count) == 4.0


class WeightedSteps(keras.Model):
    """The guide's sample-weight example, with a custom test_step."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
            else:
                metric.update_state(loss)
        return {m.name: m.result() for m in self.metrics}


def test_sample_weights_and_custom_evaluate():
    x, y = _data()
    sw = np.random.default_rng(1).random(len(x)).astype("float32")
    inputs = keras.Input(shape=(8,))
    model = WeightedSteps(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, sample_weight=sw, batch_size=16, epochs=2, verbose=0,
                        validation_data=(x, y))
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "mae"]
    preds = model.predict(x, verbose=0)
    expected = float(np.mean((preds - y) ** 2))
    assert abs(logs["loss"] - expected) < 1e-4


class CountingSteps(keras.Model):
    test_calls = 0
    predict_calls = 0

    def test_step(self, data):
        type(self).test_calls += 1
        return super().test_step(data)

    def predict_step(self, data):
        type(self).predict_calls += 1
        return super().predict_step(data) * 0.0 + 7.0


def test_test_step_and_predict_step_overrides_are_called():
    x, y = _data(32)
    inputs = keras.Input(shape=(8,))
    model = CountingSteps(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert CountingSteps.test_calls == 4 and sorted(logs) == ["loss", "mae"]
    out = model.predict(x, batch_size=8, verbose=0)
    assert CountingSteps.predict_calls == 4 and out.shape == (32, 1) and np.all(out == 7.0)


class CustomLoss(keras.Model):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = ((y_pred - y) ** 2).mean()
        return loss + sum(self.losses) if self.losses else loss


def test_compute_loss_override_is_used_by_the_default_train_step():
    x, y = _data()
    inputs = keras.Input(shape=(8,))
    model = CustomLoss(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mae")  # overridden: mse is what is minimised
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ----------------------------------------------------------------------------- GAN


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, (tuple, list)):
            real_images = real_images[0]
        batch_size, device = real_images.shape[0], real_images.device
        noise = torch.randn(batch_size, self.latent_dim, device=device)
        generated = self.generator(noise)
        combined = torch.concat([generated, real_images], axis=0)
        labels = torch.concat([torch.ones((batch_size, 1), device=device),
                               torch.zeros((batch_size, 1), device=device)], axis=0)
        labels += 0.05 * torch.rand(labels.shape, device=device)
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(combined))
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        noise = torch.randn(batch_size, self.latent_dim, device=device)
        misleading = torch.zeros((batch_size, 1), device=device)
        self.zero_grad()
        g_loss = self.loss_fn(misleading, self.discriminator(self.generator(noise)))
        g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))


def test_gan_with_two_optimizers_trains_under_fit(capsys):
    latent = 4
    discriminator = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                      keras.layers.Dense(1)], name="discriminator")
    generator = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(6)], name="generator")
    gan = GAN(discriminator, generator, latent)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                g_optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    d0 = [w.detach().clone() for w in discriminator.weights]
    g0 = [w.detach().clone() for w in generator.weights]
    images = torch.randn(64, 6)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), batch_size=16)
    recorder = Recorder()
    history = gan.fit(loader, epochs=2, verbose=1, callbacks=[recorder])
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert len(recorder.batches) == 8 and all(set(b) == {"d_loss", "g_loss"} for b in recorder.batches)
    assert gan.d_optimizer.iterations == 8 and gan.g_optimizer.iterations == 8
    assert all(not torch.equal(a, b.detach().cpu()) for a, b in zip(d0, discriminator.weights))
    assert all(not torch.equal(a, b.detach().cpu()) for a, b in zip(g0, generator.weights))
    assert "d_loss" in capsys.readouterr().out


# ----------------------------------------------------------------------------- optimizers


def test_optimizer_apply_subset_and_errors():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    opt = keras.optimizers.SGD(learning_rate=0.5)
    with pytest.raises(ValueError, match="trainable_variables"):
        opt.apply([torch.ones(2)])
    opt.build([a, b])
    opt.apply([torch.ones(2)], [b])  # a subset: a stays
    assert a.tolist() == [1.0, 1.0] and b.tolist() == [0.5, 0.5]
    opt.apply_gradients([(torch.ones(2), a)])
    assert a.tolist() == [0.5, 0.5] and opt.iterations == 2
    with pytest.raises(ValueError, match="one optimizer per set"):
        opt.apply([torch.ones(2)], [torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match="2 gradients for 1"):
        opt.apply([torch.ones(2), torch.ones(2)], [a])


def test_optimizer_apply_projects_weights_onto_their_constraints():
    layer = keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg())
    layer(torch.zeros(1, 3))
    opt = keras.optimizers.SGD(learning_rate=10.0)
    opt.apply([torch.ones(2, 3), torch.ones(2)], layer.trainable_weights)
    assert float(layer.kernel.detach().min()) == 0.0 and float(layer.bias.detach().max()) < 0  # bias: no constraint


@pytest.mark.parametrize("name", ["AdamW", "SGD"])
def test_exclude_from_weight_decay(name):
    layer = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    layer(torch.zeros(1, 2))
    opt = getattr(keras.optimizers, name)(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([torch.zeros(2, 2), torch.zeros(2)], layer.trainable_weights)
    assert torch.allclose(layer.kernel, torch.full((2, 2), 0.95))
    assert torch.equal(layer.bias.detach(), torch.ones(2))
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


# ----------------------------------------------------------------------------- add_loss


class ActivityPenalty(keras.layers.Layer):
    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * torch.sum(inputs ** 2))
        return inputs


def test_add_loss_is_added_to_the_training_loss_and_reset_each_call():
    x, y = _data(16)
    inputs = keras.Input((8,))
    outputs = ActivityPenalty(rate=0.5)(keras.layers.Dense(1)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), loss="mse")
    pred = model.predict(x, verbose=0)
    loss = model.evaluate(x, y, batch_size=16, verbose=0)
    expected = float(np.mean((pred - y) ** 2) + 0.5 * np.sum(pred ** 2))
    assert abs(loss - expected) < 1e-4 * expected
    xt = torch.from_numpy(x).to(next(model.parameters()).device)
    model(xt)
    model(xt)
    assert len(model.losses) == 1  # reset at each call, not accumulated
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert abs(history.history["loss"][0] - expected) < 1e-4 * expected

    # no compiled loss: the add_loss terms alone are minimised (Keras' VAE pattern)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3))
    pred = model.predict(x, verbose=0)
    history = model.fit(x, epochs=3, batch_size=16, verbose=0)
    assert abs(history.history["loss"][0] - 0.5 * np.sum(pred ** 2)) < 1e-4 * np.sum(pred ** 2)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ----------------------------------------------------------------------------- building


class MLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(3)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_without_input_is_built_on_the_first_batch(capsys):
    x = np.random.default_rng(0).random((32, 5)).astype("float32")
    y = np.arange(32) % 3
    model = MLP()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model.built and model.count_params() == 5 * 16 + 16 + 16 * 3 + 3
    assert sorted(history.history) == ["accuracy", "loss"]
    model.summary()
    assert "dense" in capsys.readouterr().out


class TokenAndPositionEmbedding(keras.layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = keras.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = keras.layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = torch.arange(0, x.shape[-1], device=x.device)
        return self.token_emb(x) + self.pos_emb(positions)


class BuildsInBuild(keras.layers.Layer):
    def build(self, input_shape):
        self.dense = keras.layers.Dense(4)

    def call(self, x):
        return self.dense(x)


def test_lazy_sublayers_get_real_weights_and_fit_runs():
    inputs = keras.Input((10,), dtype="int64")
    x = TokenAndPositionEmbedding(10, 50, 8)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = BuildsInBuild()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    assert not any(type(t).__name__ == "FakeTensor" for t in model.parameters())
    assert model.count_params() == 50 * 8 + 10 * 8 + 8 * 4 + 4 + 4 * 2 + 2
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.integers(0, 50, (32, 10)), rng.integers(0, 2, 32), epochs=1, verbose=0)


class NamelessConfig(keras.layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units)
        self.units = units

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {"units": self.units}  # no name, as custom layers often do


def test_from_config_is_keyed_by_the_config_names():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(NamelessConfig(name="custom")(inputs)))
    config = model.get_config()
    with keras.saving.custom_object_scope({"NamelessConfig": NamelessConfig}):
        clone = keras.Model.from_config(config)
    assert clone.count_params() == model.count_params()


def test_trailing_axis_is_expanded_like_keras():
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 6, 6)).astype("float32")
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 3)
    inputs = keras.Input((6, 6, 1))
    functional = keras.Model(inputs, keras.layers.Flatten()(inputs))
    assert functional.predict(x, verbose=0).shape == (8, 36)
    with pytest.raises(ValueError, match="expects input of shape"):
        model.fit(np.zeros((8, 5, 5)), np.zeros(8), verbose=0)


def test_model_checkpoint_accepts_keras_weights_h5(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    path = tmp_path / "best.weights.h5"
    ckpt = keras.callbacks.ModelCheckpoint(str(path), save_weights_only=True)
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, verbose=0, callbacks=[ckpt])
    assert path.exists() and path.stat().st_size > 0
    before = [w.copy() for w in model.get_weights()]
    model.set_weights([np.zeros_like(w) for w in before])
    model.load_weights(str(path))  # Keras' HDF5 layout, read back
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    whole = tmp_path / "m.keras"
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(str(whole))])
    assert keras.models.load_model(str(whole)).count_params() == model.count_params()
    with pytest.raises(ValueError, match="must end in"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
