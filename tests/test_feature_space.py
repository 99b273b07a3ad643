"""deepnet.utils.FeatureSpace (Keras' keras.utils.FeatureSpace).

Keras' FeatureSpace needs TensorFlow (tf.data and TF tensors inside), which the test venv does
not have, so the encodings are checked against hand-computed values and against the
preprocessing layers themselves (whose Keras parity tests/test_preprocessing*.py check).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.utils import FeatureSpace

RAW = {
    "float_values": [0.0, 0.1, 0.2, 0.3],
    "string_values": ["zero", "one", "two", "three"],
    "int_values": [0, 1, 2, 3],
}


def _space(**kwargs):
    return FeatureSpace(features={"float_values": "float_normalized", "string_values": "string_categorical",
                                  "int_values": "integer_categorical"},
                        crosses=[("string_values", "int_values")], **kwargs)


def test_concat_matches_the_layers_in_keras_order():
    fs = _space()
    fs.adapt(RAW)
    out = fs(RAW)
    assert out.shape == (4, 1 + 5 + 5 + 32) and out.dtype == torch.float32
    x = np.asarray(RAW["float_values"], dtype="float32")
    np.testing.assert_allclose(out[:, 0].numpy(), (x - x.mean()) / x.std(), rtol=1e-5)
    ints = fs.preprocessors["int_values"](np.array([[0], [1], [2], [3]]))
    strings = fs.preprocessors["string_values"](np.array([["zero"], ["one"], ["two"], ["three"]], dtype=object))
    assert torch.equal(out[:, 1:6], torch.nn.functional.one_hot(ints[:, 0], 5).float())
    assert torch.equal(out[:, 6:11], torch.nn.functional.one_hot(strings[:, 0], 5).float())
    cross = dn.layers.HashedCrossing(32)([strings, ints])
    assert torch.equal(out[:, 11:], torch.nn.functional.one_hot(cross[:, 0], 32).float())
    assert out[:, 1:].sum(dim=1).tolist() == [3.0] * 4


def test_hand_computed_values_and_single_sample():
    fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical", "r": FeatureSpace.float_rescaled(2.0, 1.0),
                       "d": FeatureSpace.float_discretized(num_bins=3, bin_boundaries=[0.5, 1.5])})
    fs.adapt({"x": [0.0, 2.0, 4.0], "c": ["a", "b", "a"], "r": [0.0, 0.0, 0.0], "d": [0.0, 1.0, 2.0]})
    out = fs({"x": [2.0, 4.0], "c": ["a", "z"], "r": [1.0, 2.0], "d": [1.0, 9.0]})
    # sorted: c (OOV, a, b), d (3 bins), r, x
    expected = [[0, 1, 0, 0, 1, 0, 3, 0], [1, 0, 0, 0, 0, 1, 5, 1.2247449]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    single = fs({"x": 4.0, "c": "z", "r": 2.0, "d": 9.0})
    np.testing.assert_allclose(single.numpy(), expected[1], rtol=1e-6)


def test_dict_mode_int_outputs_and_hashing():
    fs = FeatureSpace(
        features={"s": FeatureSpace.string_categorical(output_mode="int"), "i": "integer_hashed",
                  "f": "float"},
        crosses=[FeatureSpace.cross(("s", "i"), crossing_dim=8, output_mode="int")],
        output_mode="dict", hashing_dim=4)
    fs.adapt({"s": ["a", "b", "b"], "i": [1, 2, 3], "f": [0.5, 1.0, 2.0]})
    out = fs({"s": ["b", "a", "q"], "i": [1, 2, 3], "f": [0.5, 1.0, 2.0]})
    assert sorted(out) == ["f", "i", "s", "s_X_i"]
    assert out["s"].squeeze(-1).tolist() == [1, 2, 0]
    assert torch.equal(out["i"], torch.nn.functional.one_hot(
        dn.layers.Hashing(4)(np.array([[1], [2], [3]]))[:, 0], 4).float())
    assert out["f"].squeeze(-1).tolist() == [0.5, 1.0, 2.0]
    assert out["s_X_i"].dtype == torch.int64 and out["s_X_i"].max() < 8


def test_adapt_on_iterables_equals_adapt_on_a_dict():
    reference = _space()
    reference.adapt(RAW)
    rows = [{k: v[i] for k, v in RAW.items()} for i in range(4)]
    for data in (rows, [(r, 0) for r in rows], [{k: np.asarray(v) for k, v in RAW.items()}],
                 torch.utils.data.DataLoader(rows, batch_size=2)):
        fs = _space()
        fs.adapt(data)
        assert torch.equal(fs(RAW), reference(RAW))


def test_save_load_and_config_round_trip(tmp_path):
    fs = _space()
    fs.adapt(RAW)
    path = tmp_path / "space.json"
    fs.save(path)
    assert b"pickle" not in path.read_bytes()
    for copy in (FeatureSpace.load(path), FeatureSpace.from_config(fs.get_config())):
        assert torch.equal(copy(RAW), fs(RAW))


def test_functional_model_on_encoded_features():
    fs = _space()
    fs.adapt(RAW)
    encoded = fs.get_encoded_features()
    out = dn.layers.Dense(1, activation="sigmoid")(encoded)
    model = dn.Model(encoded, out)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = fs(RAW)
    model.fit(x, np.array([0, 1, 0, 1], dtype="float32"), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (4, 1)
    with pytest.raises(TypeError, match="string_values"):
        fs.get_inputs()
    numeric = FeatureSpace({"a": "float"})
    assert numeric.get_inputs()["a"].shape == (None, 1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"features": {}}, ValueError, "non-empty dict"),
    ({"features": {"a": "nope"}}, ValueError, "invalid type for feature 'a'"),
    ({"features": {"a": "float"}, "output_mode": "list"}, ValueError, "output_mode"),
    ({"features": {"a": "float"}, "crosses": [("a", "b")]}, ValueError, "unknown \\['b'\\]"),
    ({"features": {"a": "float"}, "crossing_dim": 0}, ValueError, "crossing_dim"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        FeatureSpace(**kwargs)


def test_errors_before_adapt_and_on_bad_data():
    fs = _space()
    with pytest.raises(ValueError, match="adapt"):
        fs(RAW)
    with pytest.raises(TypeError, match="dict"):
        fs.adapt([1, 2, 3])
    fs.adapt(RAW)
    with pytest.raises(ValueError, match="only be called with a dict"):
        fs([1.0])
    with pytest.raises(ValueError, match="no feature"):
        fs({"float_values": [1.0]})
    bad = FeatureSpace({"s": FeatureSpace.string_categorical(output_mode="int")})
    bad.adapt({"s": ["a"]})
    with pytest.raises(ValueError, match="output_mode='dict'"):
        bad({"s": ["a"]})
