"""`import deepnet as keras`: Keras 3's root namespace, keras.config, keras.tree, Variable, Operation."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")

#: Keras root names deepnet leaves out on purpose (mirrored in docs/keras_compat_notes.md).
ABSENT = {
    "Function": "a graph of ops without a Model; build a dn.Model(inputs, outputs) instead",
    "Quantizer": "quantization is not implemented",
    "quantizers": "quantization is not implemented",
    "RematScope": "per-layer rematerialisation policies; use dn.remat(f) on the function or layer",
    "StatelessScope": "JAX-style functional variable updates; torch updates variables in place",
    "SymbolicScope": "Keras-internal; deepnet traces symbolic tensors without a scope",
    "distillation": "Keras 3.12+ knowledge-distillation API, not implemented",
    "dtype_policies": "quantized policies are not implemented; the float policies are dn.mixed_precision",
    "export": "ExportArchive (TF SavedModel); use dn.saving's ONNX / torch.export",
    "legacy": "Keras 2 APIs",
    "preprocessing": "legacy module; its functions are in dn.utils",
    "src": "Keras' private implementation package",
    "version": "dn.version is the module; use dn.__version__",
    "wrappers": "scikit-learn wrappers, not implemented",
}


def _public(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_")}


def test_root_names_present_or_deliberately_absent():
    missing = _public(keras) - _public(dn) - set(ABSENT)
    assert not missing, f"Keras root names neither in deepnet nor in ABSENT: {sorted(missing)}"
    assert not set(ABSENT) & _public(dn) - {"version"}, "a name listed as absent exists now: update ABSENT"


def test_config_and_tree_cover_keras():
    assert _public(keras.config) <= _public(dn.config)
    assert _public(keras.tree) <= _public(dn.tree)


def test_import_deepnet_stays_lazy():
    import subprocess
    import sys

    code = ("import sys, deepnet; print(sorted(m for m in ('deepnet.config', 'deepnet.tree', 'deepnet.compat', "
            "'deepnet.losses', 'deepnet.metrics', 'deepnet.optimizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


Point = collections.namedtuple("Point", "x y")
STRUCTURES = [
    {"b": [1, 2], "a": (3, None)},
    [1, (2, {"z": 3, "c": [4]})],
    Point(1, [2, 3]),
    5,
    (),
]


@pytest.mark.parametrize("structure", STRUCTURES, ids=range(len(STRUCTURES)))
def test_tree_matches_keras(structure):
    assert dn.tree.flatten(structure) == keras.tree.flatten(structure)
    assert dn.tree.flatten_with_path(structure) == keras.tree.flatten_with_path(structure)
    assert dn.tree.is_nested(structure) == keras.tree.is_nested(structure)
    n = len(keras.tree.flatten(structure))
    assert dn.tree.pack_sequence_as(structure, list(range(n))) == keras.tree.pack_sequence_as(structure, list(range(n)))
    assert dn.tree.lists_to_tuples(structure) == keras.tree.lists_to_tuples(structure)
    double = lambda v: None if v is None else v * 2  # noqa: E731
    assert dn.tree.map_structure(double, structure) == keras.tree.map_structure(double, structure)


def test_tree_errors():
    with pytest.raises(ValueError, match="differ"):
        dn.tree.assert_same_structure([1, 2], {"a": 1, "b": 2})
    with pytest.raises(ValueError, match="leaves"):
        dn.tree.pack_sequence_as([0, 0], [1])


def test_config_shares_state_with_backend_and_mixed_precision():
    dn.config.set_epsilon(1e-4)
    try:
        assert dn.backend.epsilon() == 1e-4
    finally:
        dn.config.set_epsilon(1e-7)
    dn.config.set_dtype_policy("mixed_bfloat16")
    try:
        assert dn.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert isinstance(dn.config.dtype_policy(), dn.DTypePolicy)
    finally:
        dn.config.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="PyTorch only"):
        dn.config.set_backend("jax")
    with pytest.raises(ValueError, match="max_epochs"):
        dn.config.set_max_epochs(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dn.config.enable_unsafe_deserialization()
    assert "never loads code" in str(caught[0].message)


def test_variable_constructor_like_keras():
    v = dn.Variable(initializer="glorot_uniform", shape=(3, 4), name="w")
    assert isinstance(v, dn.Variable) and isinstance(v, torch.nn.Parameter)
    assert v.shape == (3, 4) and v.trainable and v.name == "w"
    assert dn.utils.standardize_dtype(v.dtype) == keras.Variable("glorot_uniform", shape=(3, 4)).dtype
    s = dn.Variable(np.arange(3.0), trainable=False)
    assert not s.trainable and s.numpy().tolist() == [0.0, 1.0, 2.0]
    s.assign_add(np.ones(3))
    assert s.numpy().tolist() == keras.Variable(np.arange(3.0) + 1).numpy().tolist()
    z = dn.Variable(dn.initializers.Zeros(), shape=(2,), dtype="float64")
    assert z.dtype == torch.float64
    with dn.name_scope("outer"), dn.name_scope("inner"):
        assert dn.Variable(1.0, name="t").path == "outer/inner/t"
    layer = dn.layers.Dense(2)
    layer.build((None, 3))
    assert isinstance(layer.kernel, dn.Variable)
    with pytest.raises(ValueError, match="needs a `shape`"):
        dn.Variable("zeros")
    with pytest.raises(ValueError, match="unknown initializer"):
        dn.Variable("no_such_init", shape=(2,))


@dn.saving.register_keras_serializable(package="NamespaceTest")
class Scale(dn.Operation):
    def call(self, x):
        return x * 3.0 + 1.0


@dn.saving.register_keras_serializable(package="NamespaceTest")
class FirstHalf(dn.Operation):
    def call(self, x):
        return x[..., : x.shape[-1] // 2]

    def compute_output_spec(self, x):
        return dn.KerasTensor((*x.shape[:-1], x.shape[-1] // 2), dtype=x.dtype)


def test_operation_subclass_eager_symbolic_and_saved(tmp_path):
    assert Scale()(torch.ones(2)).tolist() == [4.0, 4.0]
    inputs = dn.Input((4,))
    x = FirstHalf()(Scale()(inputs))
    assert x.shape == (None, 2)
    model = dn.Model(inputs, dn.layers.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(data, data[:, :1], epochs=1, verbose=0)
    path = tmp_path / "op.deepnet"
    model.save(path)
    loaded = dn.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-6)


def test_device_and_remat():
    with dn.device("cpu"):
        assert torch.ones(1).device.type == "cpu"
    layer = dn.layers.Dense(2)
    x = torch.ones(4, 3, requires_grad=True)
    dn.remat(layer)(x).sum().backward()
    assert x.grad is not None and layer.kernel.grad is not None
    with pytest.raises(TypeError, match="callable"):
        dn.remat(3)


def test_base_classes_are_the_packages():
    assert dn.Layer is dn.layers.Layer and dn.Loss is dn.losses.Loss
    assert dn.Metric is dn.metrics.Metric and dn.Optimizer is dn.optimizers.Optimizer
    assert dn.Initializer is dn.initializers.Initializer and dn.Regularizer is dn.regularizers.Regularizer
    assert dn.FloatDTypePolicy is dn.DTypePolicy is dn.mixed_precision.DTypePolicy
