"""deepnet.applications: parameter counts and output shapes equal to Keras' on the same (small)
input shapes, weights files, preprocessing against Keras, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")

NAMES = ["VGG16", "VGG19", "ResNet50", "MobileNetV2", "EfficientNetB0"]
CASES = [
    dict(include_top=False, input_shape=(32, 32, 3)),
    dict(include_top=True, input_shape=(35, 33, 3), classes=7, classifier_activation=None),
    dict(include_top=False, input_shape=(40, 48, 3), pooling="max"),
]


@pytest.mark.parametrize("kwargs", CASES, ids=["no-top", "top", "max-pool"])
@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_and_shapes_match_keras(name, kwargs):
    ours = getattr(dn.applications, name)(weights=None, **kwargs)
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    assert ours.count_params() == theirs.count_params()
    assert tuple(ours.outputs[0].shape) == tuple(theirs.output_shape)
    assert ours.name == theirs.name
    trainable = sum(p.numel() for p in ours.parameters() if p.requires_grad)
    assert trainable == sum(int(np.prod(w.shape)) for w in theirs.trainable_weights)


def test_mobilenet_alpha_matches_keras():
    for alpha in (0.35, 1.3):
        ours = dn.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=alpha, include_top=False)
        theirs = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=alpha, include_top=False,
                                                weights=None)
        assert ours.count_params() == theirs.count_params()


def test_resnet50_full_size_count():
    assert dn.applications.ResNet50(weights=None).count_params() == 25_636_712


def test_forward_and_one_training_step():
    model = dn.applications.MobileNetV2(input_shape=(32, 32, 3), classes=3, weights=None)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    x = dn.applications.mobilenet_v2.preprocess_input(x)
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, batch_size=4, verbose=0)
    out = model.predict(x, verbose=0)
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)


def test_weights_file_round_trip_and_imagenet_refused(tmp_path):
    model = dn.applications.VGG16(include_top=False, input_shape=(32, 32, 3))
    path = tmp_path / "vgg.weights.safetensors"
    model.save_weights(path)
    again = dn.applications.VGG16(include_top=False, input_shape=(32, 32, 3), weights=str(path))
    x = torch.rand(1, 32, 32, 3) * 255
    torch.testing.assert_close(again(x), model(x))
    with pytest.raises(ValueError, match="does not download"):
        dn.applications.ResNet50(weights="imagenet")
    with pytest.raises(ValueError, match="weights"):
        dn.applications.ResNet50(weights=str(tmp_path / "missing.h5"))


def test_input_tensor_and_bad_arguments():
    inputs = dn.Input((32, 32, 3))
    model = dn.applications.EfficientNetB0(include_top=False, input_tensor=inputs, pooling="avg")
    assert model.inputs[0] is inputs and tuple(model.outputs[0].shape) == (None, 1280)
    with pytest.raises(ValueError, match="at least 32"):
        dn.applications.VGG16(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling"):
        dn.applications.ResNet50(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="3 channels"):
        dn.applications.MobileNetV2(input_shape=(32, 32, 1))


@pytest.mark.parametrize("module", ["vgg16", "vgg19", "resnet50", "mobilenet_v2", "efficientnet"])
def test_preprocess_input_matches_keras(module):
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    ours = getattr(dn.applications, module).preprocess_input(x.copy())
    theirs = getattr(keras.applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-4)
    tensor = getattr(dn.applications, module).preprocess_input(torch.from_numpy(x.copy()))
    np.testing.assert_allclose(np.asarray(tensor), np.asarray(theirs), rtol=1e-5, atol=1e-4)
    for mode in ("torch", "tf", "caffe"):
        np.testing.assert_allclose(dn.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode),
                                   keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode),
                                   rtol=1e-5, atol=1e-4)
