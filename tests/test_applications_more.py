"""deepnet.applications beyond KM's five: every architecture's parameter count (total and
trainable), output shape and name equal to Keras 3.15's, from the table
tests/applications_keras_counts.json (Keras' numbers, written by tests/make_applications_counts.py:
building the large Keras models takes minutes), a sample rebuilt in Keras live (counts and layer
names), outputs equal to Keras' with Keras' weights copied in, the small layers, preprocessing
and argument errors.

Our models are built on the meta device (no memory, no initialisation): counting ConvNeXtXLarge's
348 million parameters then takes seconds."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import deepnet as dn

KERAS_COUNTS = json.loads((Path(__file__).parent / "applications_keras_counts.json").read_text())
ARCHITECTURES = sorted(KERAS_COUNTS["no_top"])


@pytest.fixture
def build_meta(monkeypatch):
    """Build an architecture on the meta device. The truncated-normal initialiser (EfficientNet,
    NASNet) redraws out-of-range values in a data-dependent loop that meta tensors cannot run,
    so it leaves meta tensors as they are."""
    draw = dn.initializers._truncated_normal_
    monkeypatch.setattr(dn.initializers, "_truncated_normal_", lambda t, *args: t if t.is_meta else draw(t, *args))

    def build(name: str, **kwargs):
        with torch.device("meta"):
            return getattr(dn.applications, name)(weights=None, **kwargs)

    return build


def check(model, expected: dict) -> None:
    assert model.count_params() == expected["params"]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == expected["trainable"]
    assert list(model.outputs[0].shape) == expected["output_shape"]
    assert model.name == expected["name"]


def test_table_is_complete():
    assert KERAS_COUNTS["keras_version"].startswith("3.")
    keras_names = {n for n in dn.applications.__all__ if n[0].isupper()}
    assert set(ARCHITECTURES) == keras_names
    assert len(keras_names) == 40


def test_signatures_match_keras():
    """Keras' argument names, order and defaults; only ``weights`` defaults to None here (Keras:
    "imagenet", which deepnet refuses since it downloads nothing)."""
    keras = pytest.importorskip("keras")
    for name in ARCHITECTURES:
        theirs = inspect.signature(getattr(keras.applications, name)).parameters
        ours = inspect.signature(getattr(dn.applications, name)).parameters
        assert list(ours) == list(theirs), name
        assert {k: p.default for k, p in ours.items() if k != "weights"} == {
            k: p.default for k, p in theirs.items() if k != "weights"}, name
        assert ours["weights"].default is None


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_no_top_matches_keras(name, build_meta):
    expected = KERAS_COUNTS["no_top"][name]
    check(build_meta(name, include_top=False, input_shape=tuple(expected["input_shape"])), expected)


@pytest.mark.parametrize("case", sorted(KERAS_COUNTS["variants"]))
def test_argument_variants_match_keras(case, build_meta):
    expected = KERAS_COUNTS["variants"][case]
    name = case.split(",")[0]
    check(build_meta(name, include_top=False, input_shape=tuple(expected["input_shape"]), **expected["kwargs"]),
          expected)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_top_matches_keras(name, build_meta):
    check(build_meta(name), KERAS_COUNTS["top"][name])


def _snake(class_name: str) -> str:
    """Keras' automatic layer name stem: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


@pytest.mark.parametrize("name, kwargs", [
    ("MobileNetV3Small", dict(minimalistic=True, alpha=0.75)),
    ("DenseNet121", {}),
    ("ResNet50V2", {}),
])
def test_live_keras_counts_and_layer_names(name, kwargs, build_meta):
    """Rebuilt in Keras now: the same count, and every layer Keras names explicitly exists in ours
    with the same parameter count (Keras' automatic names like ``re_lu_3`` are not compared)."""
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.applications, name)(weights=None, include_top=False, input_shape=(32, 32, 3), **kwargs)
    ours = build_meta(name, include_top=False, input_shape=(32, 32, 3), **kwargs)
    assert ours.count_params() == theirs.count_params()
    our_layers = {layer.name: layer.count_params() for layer in ours.layers}
    named = [layer for layer in theirs.layers
             if not re.fullmatch(rf"{_snake(type(layer).__name__)}(_\d+)?", layer.name)]
    assert len(named) > 20
    for layer in named:
        assert our_layers.get(layer.name) == layer.count_params(), layer.name


@pytest.mark.parametrize("name, kwargs", [
    ("MobileNetV3Small", dict(minimalistic=True)),
    ("ConvNeXtTiny", {}),
    ("EfficientNetV2B0", {}),
])
def test_forward_and_one_training_step(name, kwargs):
    model = getattr(dn.applications, name)(input_shape=(32, 32, 3), classes=3, weights=None, **kwargs)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    history = model.fit(x, np.array([0, 1, 2, 0]), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    out = model.predict(x, verbose=0)
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)


def test_small_layers_round_trip(tmp_path):
    """InceptionResNetV2's CustomScaleLayer and ConvNeXt's LayerScale save and load by name."""
    from deepnet.applications._layers import CustomScaleLayer, LayerScale

    inputs = dn.Input((4,))
    y = CustomScaleLayer(0.5)([inputs, LayerScale(0.1, 4)(inputs)])
    model = dn.Model(inputs, y)
    x = torch.ones(2, 4)
    torch.testing.assert_close(model(x), x * 1.05)
    model.save(tmp_path / "m.keras")
    again = dn.models.load_model(tmp_path / "m.keras")
    torch.testing.assert_close(again(x), model(x))
    with pytest.raises(ValueError, match="projection_dim"):
        LayerScale(0.1, 0)


@pytest.mark.parametrize("module", ["resnet", "resnet_v2", "densenet", "inception_v3", "inception_resnet_v2",
                                    "xception", "mobilenet", "mobilenet_v3", "efficientnet_v2", "convnext",
                                    "nasnet"])
def test_modules_and_preprocess_input_match_keras(module):
    keras = pytest.importorskip("keras")
    ours, theirs = getattr(dn.applications, module), getattr(keras.applications, module)
    assert set(ours.__all__) == {n for n in dir(theirs) if not n.startswith("_")}
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours.preprocess_input(x.copy())),
                               np.asarray(theirs.preprocess_input(x.copy())), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("call, match", [
    (lambda: dn.applications.ConvNeXtTiny(weights="imagenet"), "does not download"),
    (lambda: dn.applications.MobileNetV3Small(alpha=0), "alpha"),
    (lambda: dn.applications.MobileNetV3Large(minimalistic="yes"), "minimalistic"),
    (lambda: dn.applications.EfficientNetV2S(include_preprocessing=1), "include_preprocessing"),
    (lambda: dn.applications.InceptionV3(include_top=False, input_shape=(64, 64, 3)), "at least 75"),
    (lambda: dn.applications.Xception(include_top=False, input_shape=(70, 70, 3)), "at least 71"),
    (lambda: dn.applications.MobileNet(depth_multiplier=0), "depth_multiplier"),
    (lambda: dn.applications.DenseNet121(pooling="mean"), "pooling"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mobilenet_v3_takes_any_size_with_the_top(build_meta):
    model = build_meta("MobileNetV3Small", classes=5)
    assert tuple(model.inputs[0].shape) == (None, None, None, 3)
    assert tuple(model.outputs[0].shape) == (None, 5)


def _keras_model(keras, name: str, **kwargs):
    if name == "NASNetMobile":  # Keras 3.15 refuses NASNetMobile on torch; its generic builder does not
        from keras.src.applications import nasnet

        return nasnet.NASNet(penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                             filter_multiplier=2, default_size=224, name="nasnet_mobile", **kwargs)
    return getattr(keras.applications, name)(**kwargs)


@pytest.mark.parametrize("name, side", [("ResNet50V2", 32), ("NASNetMobile", 32), ("ConvNeXtTiny", 32),
                                        ("Xception", 71), ("InceptionResNetV2", 75), ("EfficientNetV2B1", 32),
                                        ("MobileNetV3Large", 32)])
def test_outputs_match_keras_with_the_same_weights(name, side):
    """Keras' weights copied layer by layer (the same names, automatic ones included, since both
    create the layers in the same order): the same features."""
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    dn.utils.clear_session()
    kwargs = dict(weights=None, include_top=False, input_shape=(side, side, 3), pooling="avg")
    theirs = _keras_model(keras, name, **kwargs)
    ours = getattr(dn.applications, name)(**kwargs)
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (2, side, side, 3)).astype("float32")
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("name, ext", [("MobileNetV3Small", ".keras"), ("NASNetMobile", ".deepnet")])
def test_saved_model_loads_with_the_same_outputs(name, ext, tmp_path):
    """Op nodes (MobileNetV3's hard sigmoid ``relu6(x + 3) / 6``) and the cropping/padding paths of
    NASNet survive a save and load."""
    model = getattr(dn.applications, name)(include_top=False, input_shape=(32, 32, 3), pooling="avg", weights=None)
    model.save(tmp_path / f"model{ext}")
    again = dn.models.load_model(tmp_path / f"model{ext}")
    x = torch.rand(2, 32, 32, 3) * 255
    with torch.no_grad():
        torch.testing.assert_close(again(x), model(x))
