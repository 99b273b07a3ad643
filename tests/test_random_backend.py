"""deepnet.random (Keras' signatures, seeding rules) and deepnet.backend (Keras' values)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")

DRAWS = {
    "normal": lambda seed: dn.random.normal((3, 4), seed=seed),
    "uniform": lambda seed: dn.random.uniform((3, 4), -1, 1, seed=seed),
    "truncated_normal": lambda seed: dn.random.truncated_normal((3, 4), seed=seed),
    "randint": lambda seed: dn.random.randint((3, 4), 0, 100, seed=seed),
    "categorical": lambda seed: dn.random.categorical(torch.zeros(3, 5), 4, seed=seed),
    "dropout": lambda seed: dn.random.dropout(torch.ones(3, 4), 0.5, seed=seed),
    "shuffle": lambda seed: dn.random.shuffle(torch.arange(12), seed=seed),
    "gamma": lambda seed: dn.random.gamma((3, 4), 2.0, seed=seed),
    "beta": lambda seed: dn.random.beta((3, 4), 2.0, 3.0, seed=seed),
    "binomial": lambda seed: dn.random.binomial((3, 4), 10, 0.5, seed=seed),
}


def test_names_and_signatures_match_keras():
    assert set(dn.random.__all__) == {n for n in dir(keras.random) if not n.startswith("_")}
    for name in dn.random.__all__:
        if name == "SeedGenerator":
            continue
        ours = list(inspect.signature(getattr(dn.random, name)).parameters)
        theirs = list(inspect.signature(getattr(keras.random, name)).parameters)
        assert ours == theirs, name


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_seeding_rules(name):
    draw = DRAWS[name]
    assert torch.equal(draw(3), draw(3))  # an int seed: the same draw every call
    gen = dn.random.SeedGenerator(5)
    first, second = draw(gen), draw(gen)
    assert torch.equal(first, draw(dn.random.SeedGenerator(5)))  # reproducible from its seed
    if name not in ("binomial",):
        assert not torch.equal(first, second)  # stateful: a new draw each call
    dn.utils.set_random_seed(11)
    a = draw(None)
    dn.utils.set_random_seed(11)
    assert torch.equal(a, draw(None))  # the global generator, seeded by set_random_seed


def test_seeded_draws_leave_the_global_generator_alone():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    dn.random.normal((5,), seed=1)
    assert torch.equal(torch.rand(2), expected)


def test_distributions_and_dtypes():
    x = dn.random.normal((20000,), mean=2.0, stddev=3.0, seed=0)
    assert x.dtype == torch.float32 and abs(float(x.mean()) - 2) < 0.1 and abs(float(x.std()) - 3) < 0.1
    assert dn.random.randint((4,), 0, 5, seed=0).dtype == torch.int32
    assert dn.random.uniform((2,), dtype="float64", seed=0).dtype == torch.float64
    assert dn.random.categorical(torch.zeros(2, 3), 5, seed=0).shape == (2, 5)
    t = dn.random.truncated_normal((5000,), stddev=2.0, seed=0)
    assert float(t.abs().max()) <= 4.0
    d = dn.random.dropout(torch.ones(1000, 8), 0.25, noise_shape=(None, 1), seed=0)
    assert set(torch.unique(d).tolist()) <= {0.0, torch.tensor(1 / 0.75).item()}
    assert bool((d == d[:, :1]).all())  # one draw per row
    assert abs(float(dn.random.gamma((20000,), 3.0, seed=0).mean()) - 3.0) < 0.1
    assert abs(float(dn.random.beta((20000,), 2.0, 2.0, seed=0).mean()) - 0.5) < 0.02
    assert abs(float(dn.random.binomial((20000,), 10, 0.3, seed=0).mean()) - 3.0) < 0.1


def test_seed_generator_state_is_saved_with_a_layer():
    class Noisy(dn.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = dn.random.SeedGenerator(3)

        def call(self, x):
            return x + dn.random.normal(tuple(x.shape), seed=self.seed_generator)

    layer = Noisy()
    layer(torch.zeros(1, 2))
    state = {k: v.clone() for k, v in layer.state_dict().items()}
    assert any(k.endswith("seed_generator.state") for k in state)
    expected = layer(torch.zeros(1, 2))
    fresh = Noisy()
    fresh.load_state_dict(state)
    assert torch.equal(fresh(torch.zeros(1, 2)), expected)
    assert dn.random.SeedGenerator.from_config(layer.seed_generator.get_config()).seed == 3


def test_bad_seeds():
    with pytest.raises(ValueError, match="seed"):
        dn.random.normal((2,), seed=-1)
    with pytest.raises(ValueError, match="seed"):
        dn.random.SeedGenerator(seed="a")


def test_backend_matches_keras():
    b = dn.backend
    assert set(b.__all__) == {n for n in dir(keras.backend) if not n.startswith("_")}
    assert b.backend() == "torch"
    assert (b.epsilon(), b.floatx(), b.image_data_format()) == (
        keras.backend.epsilon(), keras.backend.floatx(), keras.backend.image_data_format())
    for dtype in [int, float, bool, "int", torch.float16, np.float64, "bfloat16", None, "uint8", torch.int64,
                  np.dtype("int32"), np.dtype("int64"), "string", str]:
        assert b.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype), dtype
    pairs = [("int32", "float16"), ("int64", "float32"), ("uint8", "int8"), ("float32",), (int, "int8"),
             (float, "int32"), ("bool", "int8"), ("uint32", "int64"), ("bfloat16", "float16"),
             ("float64", "int8"), ("int16", "int32"), (), ("bool",), ("uint64", "int64"), ("int64",),
             ("float16", "int64"), ("uint16", "int8")]
    for args in pairs:
        assert b.result_type(*args) == keras.backend.result_type(*args), args
    for dtype in ["float16", "bfloat16", "int8", "uint16", "bool", torch.float32]:
        assert b.is_float_dtype(dtype) == keras.backend.is_float_dtype(dtype)
        assert b.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)


def test_backend_setters_and_session():
    b = dn.backend
    try:
        b.set_floatx("float64")
        assert b.floatx() == "float64" and dn.random.normal((1,), seed=0).dtype == torch.float64
        b.set_epsilon(1e-3)
        assert b.epsilon() == 1e-3
        b.set_image_data_format("channels_first")
        assert b.image_data_format() == "channels_first"
        with pytest.raises(ValueError, match="set_floatx"):
            b.set_floatx("int32")
        with pytest.raises(ValueError, match="data_format"):
            b.set_image_data_format("nhwc")
    finally:
        b.set_floatx("float32")
        b.set_epsilon(1e-7)
        b.set_image_data_format("channels_last")
    b.clear_session()
    assert b.get_uid("p") == 1 and b.get_uid("p") == 2
    assert dn.layers.Dense(1).name == "dense"
    b.clear_session()
    assert b.get_uid("p") == 1 and dn.layers.Dense(1).name == "dense"
    assert b.is_keras_tensor(dn.Input((2,)))
