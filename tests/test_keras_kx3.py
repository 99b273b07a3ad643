"""Keras parity found by running keras.io's saving guides (serialization_and_saving,
customizing_saving_and_serialization) under deepnet (issue 14): registered custom functions
as activations in configs and ``.keras`` files (both directions), nested objects in custom
``get_config()``s, and ``**kwargs`` of Dense subclasses in ``.keras`` configs."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import deepnet as dn
from deepnet.utils.serialization import accepted_config_keys

keras = pytest.importorskip("keras")


@dn.saving.register_keras_serializable(package="kx3_pkg", name="kx3_square")
def dn_square(x):
    return x**2


@keras.saving.register_keras_serializable(package="kx3_pkg", name="kx3_square")
def keras_square(x):
    return x**2


def _activation_model(fw, fn):
    inputs = fw.Input(shape=(4,))
    outputs = fw.layers.Dense(1, activation=fn)(inputs)
    return fw.Model(inputs, outputs)


def _file_activation(path):
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    return config["config"]["layers"][1]["config"]["activation"]


def test_registered_function_is_an_activation_name():
    assert dn.activations.get("kx3_pkg>kx3_square") is dn_square
    assert dn.activations.get("kx3_square") is dn_square
    assert dn.layers.Dense(2, activation=dn_square).get_config()["activation"] == "kx3_pkg>kx3_square"

    def scoped(x):
        return x
    with dn.saving.custom_object_scope({"kx3_scoped": scoped}):
        assert dn.activations.get("kx3_scoped") is scoped
    with pytest.raises(ValueError, match="Unknown activation 'kx3_scoped'"):
        dn.activations.get("kx3_scoped")
    with pytest.raises(ValueError, match="Unknown activation 'Dense'"):  # a class of another kind
        dn.activations.get("Dense")


def test_registered_activation_in_keras_files_both_ways(tmp_path):
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    kmodel = _activation_model(keras, keras_square)
    kmodel.save(tmp_path / "k.keras")
    loaded = dn.models.load_model(tmp_path / "k.keras")
    assert loaded.layers[1].activation is dn_square
    np.testing.assert_allclose(loaded.predict(x, verbose=0), kmodel.predict(x, verbose=0), atol=1e-6)

    dmodel = _activation_model(dn, dn_square)
    dmodel.save(tmp_path / "d.keras")
    assert _file_activation(tmp_path / "d.keras") == _file_activation(tmp_path / "k.keras")
    back = keras.models.load_model(tmp_path / "d.keras")
    assert back.layers[1].activation is keras_square
    np.testing.assert_allclose(back.predict(x, verbose=0), dmodel.predict(x, verbose=0), atol=1e-6)


def _wrapper_class(fw):
    class KX3Wrapper(fw.layers.Layer):
        """The guide's pattern: sublayers in the config as objects, rebuilt in from_config."""

        def __init__(self, first_layer, second_layer=None, **kwargs):
            super().__init__(**kwargs)
            self.first_layer = first_layer
            self.second_layer = second_layer or fw.layers.Dense(8)

        def get_config(self):
            return {**super().get_config(), "first_layer": self.first_layer, "second_layer": self.second_layer}

        @classmethod
        def from_config(cls, config):
            config["first_layer"] = fw.layers.deserialize(config["first_layer"])
            config["second_layer"] = fw.layers.deserialize(config["second_layer"])
            return cls(**config)

        def call(self, inputs):
            return self.first_layer(self.second_layer(inputs))

    return KX3Wrapper


@pytest.mark.parametrize("fw", [dn, keras], ids=["deepnet", "keras"])
def test_sublayer_objects_in_a_custom_config_are_serialised(fw):
    cls = _wrapper_class(fw)
    inputs = fw.Input((32,))
    model = fw.Model(inputs, cls(first_layer=fw.layers.Dense(4, kernel_regularizer="l1"))(inputs))
    config = model.get_config()
    entry = config["layers"][1]["config"]
    assert entry["first_layer"]["class_name"] == "Dense" and entry["first_layer"]["config"]["units"] == 4
    assert entry["second_layer"]["config"]["units"] == 8
    with fw.saving.custom_object_scope({"KX3Wrapper": cls}):
        rebuilt = fw.Model.from_config(config)
    assert rebuilt.count_params() == model.count_params() == 32 * 8 + 8 + 8 * 4 + 4


def test_layer_serialize_keeps_container_types():
    layer = dn.layers.Conv2D(2, (3, 3))
    assert dn.layers.serialize(layer)["config"]["kernel_size"] == layer.get_config()["kernel_size"]


class KX3Dense(dn.layers.Dense):
    def __init__(self, note=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.note = note


def test_dense_subclass_kwargs_reach_dense_in_keras_configs(tmp_path):
    assert {"note", "units", "activation", "name"} <= accepted_config_keys(KX3Dense)
    with dn.saving.custom_object_scope({"KX3Dense": KX3Dense}):
        model = dn.Sequential([dn.Input((3,)), KX3Dense(units=5, note="n")])
        model.save(tmp_path / "m.keras")
        loaded = dn.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].units == 5 and loaded.count_params() == 20


# ----------------------------------------------------------------------------- customizing saving
# The hooks of keras.io's customizing_saving_and_serialization guide, run the same way under
# deepnet and Keras: save_assets/load_assets, get_build_config/build_from_config,
# get_compile_config/compile_from_config (on a subclassed model whose __init__ takes **kwargs).


def _assets_layer(fw):
    class KX3Assets(fw.layers.Dense):
        def __init__(self, vocab=None, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.vocab = vocab

        def save_assets(self, inner_path):
            with open(f"{inner_path}/vocabulary.txt", "w") as f:
                f.write(self.vocab)

        def load_assets(self, inner_path):
            with open(f"{inner_path}/vocabulary.txt") as f:
                self.vocab = f.read().replace("<unk>", "little")

    return KX3Assets


def _build_layer(fw):
    class KX3Build(fw.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def call(self, inputs):
            return fw.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return dict(units=self.units, **super().get_config())

        def build(self, input_shape, layer_init):
            super().build(input_shape)
            self._input_shape = input_shape
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
            self.b = self.add_weight(shape=(self.units,), initializer=layer_init)
            self.layer_init = layer_init

        def get_build_config(self):
            return {"layer_init": self.layer_init, "input_shape": self._input_shape}

        def build_from_config(self, config):
            self.build(config["input_shape"], config["layer_init"])

    return KX3Build


def _compile_model(fw):
    class KX3Compiled(fw.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = fw.layers.Dense(4, activation="softmax")

        def call(self, inputs):
            return self.dense(inputs)

        def compile(self, optimizer, loss_fn, metrics):
            super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
            self.model_optimizer, self.loss_fn, self.loss_metrics = optimizer, loss_fn, metrics

        def get_compile_config(self):
            return {"model_optimizer": self.model_optimizer, "loss_fn": self.loss_fn, "metric": self.loss_metrics}

        def compile_from_config(self, config):
            self.compile(optimizer=fw.utils.deserialize_keras_object(config["model_optimizer"]),
                         loss_fn=fw.utils.deserialize_keras_object(config["loss_fn"]),
                         metrics=fw.utils.deserialize_keras_object(config["metric"]))

    return KX3Compiled


@pytest.mark.parametrize("fw", [dn, keras], ids=["deepnet", "keras"])
def test_save_assets_and_load_assets(fw, tmp_path):
    cls = _assets_layer(fw)
    with fw.saving.custom_object_scope({"KX3Assets": cls}):
        model = fw.Sequential([cls(vocab="Mary had a <unk> lamb.", units=5)])
        model(np.random.random((10, 10)))
        model.save(tmp_path / "a.keras")
        restored = fw.models.load_model(tmp_path / "a.keras")
    assert restored.layers[0].vocab == "Mary had a little lamb."
    assert restored.layers[0].units == 5 and restored.count_params() == 55
    assert "assets/layers/kx3_assets/vocabulary.txt" in zipfile.ZipFile(tmp_path / "a.keras").namelist()


@pytest.mark.parametrize("fw", [dn, keras], ids=["deepnet", "keras"])
def test_build_config_hooks(fw, tmp_path):
    cls = _build_layer(fw)
    layer = cls(units=16)
    layer.build(input_shape=(8,), layer_init="random_normal")
    assert layer.built
    model = fw.Sequential([layer, fw.layers.Dense(1, activation="sigmoid")])
    x = np.random.random((16, 8))
    y = model.predict(x, verbose=0)
    with fw.saving.custom_object_scope({"KX3Build": cls}):
        model.save(tmp_path / "b.keras")
        restored = fw.models.load_model(tmp_path / "b.keras")
    assert restored.layers[0].layer_init == "random_normal" and restored.built
    np.testing.assert_allclose(restored.predict(x, verbose=0), y, atol=1e-6)


@pytest.mark.parametrize("fw", [dn, keras], ids=["deepnet", "keras"])
def test_compile_config_hooks(fw, tmp_path):
    loss_fn = dn_square_loss if fw is dn else keras_square_loss
    cls = _compile_model(fw)
    model = cls()
    model.compile(optimizer="SGD", loss_fn=loss_fn, metrics=["accuracy"])
    model.fit(np.random.random((4, 8)), np.random.random((4,)), verbose=0)
    with fw.saving.custom_object_scope({"KX3Compiled": cls}):
        model.save(tmp_path / "c.keras")
        restored = fw.models.load_model(tmp_path / "c.keras")
    assert (restored.model_optimizer, restored.loss_fn, restored.loss_metrics) == ("SGD", loss_fn, ["accuracy"])


@dn.saving.register_keras_serializable(package="kx3_pkg", name="kx3_loss")
def dn_square_loss(y_true, y_pred):
    return dn.ops.sum(dn.ops.square(y_pred - y_true), axis=1)


@keras.saving.register_keras_serializable(package="kx3_pkg", name="kx3_loss")
def keras_square_loss(y_true, y_pred):
    return keras.ops.sum(keras.ops.square(y_pred - y_true), axis=1)


def test_deserialize_reads_keras_function_entries():
    entry = keras.saving.serialize_keras_object(keras_square_loss)
    assert dn.saving.deserialize_keras_object(entry) is dn_square_loss
    assert dn.saving.deserialize_keras_object([entry, "accuracy"]) == [dn_square_loss, "accuracy"]


def _variable_layer(fw):
    class KX3Offset(fw.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.my_variable = fw.Variable(np.arange(units, dtype="float32"), name="my_variable", dtype="float32")

        def call(self, inputs):
            return super().call(inputs) + self.my_variable

    return KX3Offset


def test_variable_attributes_are_weights_in_keras_order():
    shapes = {}
    for fw in (dn, keras):
        layer = _variable_layer(fw)(3)
        layer.build((None, 4))
        shapes[fw.__name__] = ([w.name for w in layer.weights], layer.count_params(),
                               [w.shape for w in layer.get_weights()])
        layer.set_weights([np.ones((3,)), np.zeros((4, 3)), np.zeros((3,))])
        np.testing.assert_allclose(layer.predict(np.ones((1, 4)), verbose=0) if hasattr(layer, "predict")
                                   else np.asarray(fw.ops.convert_to_numpy(layer(np.ones((1, 4))))), [[1, 1, 1]])
    assert shapes["deepnet"] == shapes["keras"] == (["my_variable", "kernel", "bias"], 18, [(3,), (4, 3), (3,)])


def test_variable_attribute_saved_with_the_model(tmp_path):
    cls = _variable_layer(dn)
    model = dn.Sequential([dn.Input((4,)), cls(3)])
    model.layers[0].my_variable.assign(np.array([5.0, 6.0, 7.0], "float32"))
    with dn.saving.custom_object_scope({"KX3Offset": cls}):
        for name in ("m.keras", "m.deepnet"):
            model.save(tmp_path / name)
            loaded = dn.models.load_model(tmp_path / name)
            np.testing.assert_allclose(loaded.layers[0].my_variable.numpy(), [5.0, 6.0, 7.0])
