import pytest

from deepnet.layers import Activation, Dense, Flatten
from harness import run_layer_test


@pytest.mark.parametrize(
    "cls, kwargs, input_shape, out_shape, trainable",
    [
        (Dense, {"units": 3}, (4,), (None, 3), 15),
        (Dense, {"units": 3, "use_bias": False, "activation": "relu"}, (5, 4), (None, 5, 3), 12),
        (Activation, {"activation": "tanh"}, (4,), (None, 4), 0),
        (Flatten, {}, (2, 3, 4), (None, 24), 0),
    ],
)
def test_core_layers(cls, kwargs, input_shape, out_shape, trainable):
    run_layer_test(cls, kwargs, input_shape, out_shape, expected_trainable=trainable, expected_non_trainable=0)
