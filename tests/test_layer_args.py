"""Bad-argument tables generated from the constraints each layer declares (utils.validation).

For every public layer class: every constructor argument must have a declared constraint
(a meta-test fails when a new argument is not declared), and every value a constraint
rejects (wrong type, out of range, unknown option, "no" for a bool, NaN/inf...) must make
the constructor raise ValueError/TypeError naming the layer and the argument.
"""

from __future__ import annotations

import inspect

import pytest
import torch

import deepnet.layers as L
from deepnet.utils.validation import constraints_of

# The smallest valid arguments of the layers that have required ones.
REQUIRED = {
    "Activation": {"activation": "relu"},
    "Bidirectional": {"layer": lambda: L.LSTM(2)},
    "Dense": {"units": 2},
    "Dot": {"axes": 1},
    "Dropout": {"rate": 0.5},
    "Embedding": {"input_dim": 5, "output_dim": 2},
    "GRU": {"units": 2},
    "GaussianDropout": {"rate": 0.5},
    "GaussianNoise": {"stddev": 0.1},
    "InputLayer": {"shape": (2,)},
    "LSTM": {"units": 2},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 2},
    "Permute": {"dims": (1,)},
    "RepeatVector": {"n": 2},
    "Reshape": {"target_shape": (2,)},
    "SimpleRNN": {"units": 2},
    "SpatialDropout1D": {"rate": 0.5},
    "SpatialDropout2D": {"rate": 0.5},
    "TorchModuleWrapper": {"module": lambda: torch.nn.Identity()},
    "RandomBrightness": {"factor": 0.1},
    "RandomRoll1D": {"max_shift": 2},
    "RandomContrast": {"factor": 0.1},
    "RandomCrop": {"height": 2, "width": 2},
    "RandomRotation": {"factor": 0.1},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1},
    "RandomZoom": {"height_factor": 0.1},
    "CenterCrop": {"height": 2, "width": 2},
    "Rescaling": {"scale": 0.5},
    "Resizing": {"height": 2, "width": 2},
    "Conv1D": {"filters": 2, "kernel_size": 3},
    "Conv1DTranspose": {"filters": 2, "kernel_size": 3},
    "Conv2D": {"filters": 2, "kernel_size": 3},
    "Conv2DTranspose": {"filters": 2, "kernel_size": 3},
    "DepthwiseConv1D": {"kernel_size": 3},
    "DepthwiseConv2D": {"kernel_size": 3},
    "SeparableConv1D": {"filters": 2, "kernel_size": 3},
    "SeparableConv2D": {"filters": 2, "kernel_size": 3},
    "AveragePooling1D": {"pool_size": 2},
    "AveragePooling2D": {"pool_size": 2},
    # part B of issue 14 (3-D layers, adaptive pooling, RNN and cells, ConvLSTM)
    "AveragePooling3D": {"pool_size": 2},
    "Conv3D": {"filters": 2, "kernel_size": 3},
    "Conv3DTranspose": {"filters": 2, "kernel_size": 3},
    "SpatialDropout3D": {"rate": 0.5},
    **{f"Adaptive{k}Pooling{r}D": {"output_size": 2} for k in ("Average", "Max") for r in (1, 2, 3)},
    "RNN": {"cell": L.SimpleRNNCell(2)},
    "StackedRNNCells": {"cells": [L.SimpleRNNCell(2)]},
    **{name: {"units": 2} for name in ("SimpleRNNCell", "LSTMCell", "GRUCell")},
    **{f"ConvLSTM{r}D": {"filters": 2, "kernel_size": 3} for r in (1, 2, 3)},
    # part C of issue 14 (categorical and text preprocessing)
    "CategoryEncoding": {"num_tokens": 3}, "Hashing": {"num_bins": 3}, "HashedCrossing": {"num_bins": 3},
    "Discretization": {"bin_boundaries": [0.0]}, "Pipeline": {"layers": []},
    # part A of issue 14 (activations, wrappers, core extras, EinsumDense, attention, embeddings)
    "AlphaDropout": {"rate": 0.5},
    "Lambda": {"function": abs},
    "SpectralNormalization": {"layer": lambda: L.Dense(2)},
    "TimeDistributed": {"layer": lambda: L.Dense(2)},
    "Wrapper": {"layer": lambda: L.Dense(2)},
    "EinsumDense": {"equation": "ab,bc->ac", "output_shape": 2},
    "GroupedQueryAttention": {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1},
    "ReversibleEmbedding": {"input_dim": 5, "output_dim": 2},
    # part D of issue 14 (image augmentation)
    **{name: {"factor": 0.5} for name in ("RandomColorDegeneration", "RandomHue", "RandomSaturation",
                                          "RandomSharpness")},
    "RandomPosterization": {"factor": 4}, "MaxNumBoundingBoxes": {"max_number": 2},
}

LAYERS = sorted(  # Keras' aliases (MaxPool2D is MaxPooling2D) are checked under the class's own name
    (name for name in L.__all__ if isinstance(getattr(L, name), type) and issubclass(getattr(L, name), L.Layer)
     and getattr(L, name).__name__ == name),
)


def _arguments(cls) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _required(name: str) -> dict:
    return {k: v() if callable(v) and not isinstance(v, type) and k in ("layer", "module") else v
            for k, v in REQUIRED.get(name, {}).items()}


def test_required_table_covers_every_layer():
    for name in LAYERS:
        cls = getattr(L, name)
        params = inspect.signature(cls.__init__).parameters.values()
        needed = {p.name for p in params if p.default is p.empty and p.name != "self"
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        assert needed <= set(REQUIRED.get(name, {})), f"{name}: add its required arguments to REQUIRED"


@pytest.mark.parametrize("name", LAYERS)
def test_every_constructor_argument_has_a_constraint(name):
    cls = getattr(L, name)
    undeclared = [a for a in _arguments(cls) if a not in constraints_of(cls)]
    assert not undeclared, (
        f"{name}: constructor argument(s) {undeclared} have no declared constraint. help: add them to "
        f"the @validate_params({{...}}) of {name}.__init__ (see deepnet.layers._checks for the shared ones)."
    )


def _cases():
    base = set(constraints_of(L.Layer))
    for name in LAYERS:
        cls = getattr(L, name)
        for argument, constraint in constraints_of(cls).items():
            if constraint is None or (argument not in _arguments(cls) and argument not in base):
                continue  # e.g. AdditiveAttention fixes Attention's score_mode
            examples = constraint.invalid_examples()
            if argument in base and name not in ("Layer", "Dense"):
                examples = examples[:1]  # the base arguments: every value on Layer and Dense, one elsewhere
            for i, value in enumerate(examples):
                yield pytest.param(name, argument, value, id=f"{name}-{argument}-{i}")


@pytest.mark.parametrize("name, argument, value", list(_cases()))
def test_rejected_values_raise_naming_layer_and_argument(name, argument, value):
    cls = getattr(L, name)
    kwargs = {**_required(name), argument: value}
    with pytest.raises((TypeError, ValueError)) as info:
        cls(**kwargs)
    message = str(info.value)
    assert name in message and f"`{argument}`" in message, message


def test_bool_arguments_behave_the_same_everywhere():
    for cls, kwargs in ((L.Dense, {"units": 2, "use_bias": "no"}), (L.Conv2D, {"filters": 2, "kernel_size": 3, "use_bias": "no"}),
                        (L.LSTM, {"units": 2, "return_sequences": "no"}), (L.Attention, {"use_scale": "no"})):
        with pytest.raises(TypeError, match=r"expected a bool \(True or False\). Received: \w+='no'"):
            cls(**kwargs)


def test_data_format_is_case_insensitive_everywhere():
    for cls, kwargs in ((L.Flatten, {}), (L.Conv2D, {"filters": 2, "kernel_size": 3}), (L.MaxPooling2D, {}),
                        (L.GlobalAveragePooling2D, {})):
        assert cls(data_format="Channels_First", **kwargs).data_format == "channels_first"
        assert cls(**kwargs).data_format == "channels_last"


def test_activity_regularizer_is_applied_once_by_layer():
    for layer, x in ((L.Dense(3, activity_regularizer="l2"), torch.ones(4, 2)),
                     (L.Conv1D(2, 2, activity_regularizer="l1"), torch.ones(4, 5, 3)),
                     (L.Activation("relu", activity_regularizer="l2"), torch.ones(4, 3))):
        y = layer(x)
        expected = layer.activity_regularizer(y) / y.shape[0]
        assert len(layer.losses) == len([w for w in layer._weight_specs if w.regularizer]) + 1
        torch.testing.assert_close(layer.losses[-1], expected)
        assert layer.get_config()["activity_regularizer"] is not None


@pytest.mark.parametrize("cls, shapes, mask_shapes, pattern", [
    (L.Add, [(2, 3, 4), (2, 4)], [(2, 3), (2,)], r"Add 'add\w*' received masks of different shapes \[\(2, 3\), \(2,\)\]"),
    (L.Minimum, [(2, 2, 4), (2, 4)], [(2, 2), (2,)], r"Minimum 'minimum\w*' received masks of different shapes"),
    (L.Multiply, [(2, 2, 4), (2, 4)], [(2, 2), (2,)], r"inputs of shapes \[\(2, 2, 4\), \(2, 4\)\]"),
    (L.Add, [(2, 3, 4), (2, 3, 4)], [(2, 3), (2, 5)], r"mask of shape \(2, 5\) for an input of shape \(2, 3, 4\)"),
    (L.Concatenate, [(2, 3, 4), (2, 3, 4)], [(2, 3), (2, 5)], r"Concatenate .* mask of shape \(2, 5\)"),
])
def test_merge_layers_reject_masks_that_do_not_fit(cls, shapes, mask_shapes, pattern):
    xs = [torch.ones(s) for s in shapes]
    masks = [torch.ones(s, dtype=torch.bool) for s in mask_shapes]
    with pytest.raises(ValueError, match=pattern):
        cls()(xs, mask=masks)


def test_merge_layers_accept_fitting_masks():
    xs = [torch.ones(2, 3, 4), torch.ones(2, 3, 4)]
    masks = [torch.ones(2, 3, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool)]
    assert L.Add()(xs, mask=masks).shape == (2, 3, 4)
    assert L.Concatenate(axis=1)(xs, mask=[masks[0], None]).shape == (2, 6, 4)
    assert L.Minimum()([torch.ones(2, 3, 4), torch.ones(2, 4)], mask=[masks[0], None]).shape == (2, 3, 4)
