"""Sequential, functional and subclassed models built from the public API."""

import numpy as np
import pytest
import torch
from torch import nn

import deepnet as dn
from deepnet.layers import Dense, Flatten, Input, Layer, TorchModuleWrapper


def test_sequential_with_input_builds_eagerly_and_runs():
    model = dn.Sequential([Input(shape=(28, 28)), Flatten(), Dense(64, activation="relu"), Dense(10)])
    assert model.built
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1"]
    assert model.count_params() == 784 * 64 + 64 + 64 * 10 + 10
    assert model.output_shape == (None, 10)
    assert model.layers[1].output_shape == (None, 64)
    y = model(torch.randn(5, 28, 28))
    assert y.shape == (5, 10)


def test_sequential_lazy_build_on_first_call_and_numpy_input():
    model = dn.Sequential()
    model.add(Dense(4))
    model.add(Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="not built"):
        model.count_params()
    out = model(np.ones((3, 5)))  # NumPy float64 is converted to the model's float32
    assert out.dtype == torch.float32 and out.shape == (3, 2)
    assert model.built and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2


def test_sequential_build_method_and_input_shape_argument():
    m1 = dn.Sequential([Dense(3), Dense(1)])
    m1.build((None, 7))
    assert m1.count_params() == 7 * 3 + 3 + 3 + 1
    m2 = dn.Sequential([Dense(3, input_shape=(7,)), Dense(1)])
    assert m2.built and m2.count_params() == m1.count_params()


def test_sequential_pop_and_input_only_first():
    model = dn.Sequential([Input((4,)), Dense(3), Dense(2)])
    popped = model.pop()
    assert popped.units == 2
    assert model.output_shape == (None, 3)
    with pytest.raises(ValueError, match="Input can only be the first"):
        model.add(Input((4,)))


def test_plain_torch_module_in_sequential_counts_and_trains():
    model = dn.Sequential([Input((6,)), nn.Linear(6, 4), nn.ReLU(), Dense(2)])
    assert isinstance(model.layers[0], TorchModuleWrapper)
    assert model.layers[0].output_shape == (None, 4)
    assert model.count_params() == 6 * 4 + 4 + 4 * 2 + 2
    out = model(torch.randn(3, 6))
    out.sum().backward()
    assert model.layers[0].module.weight.grad is not None


def test_functional_multi_input_multi_output_and_dict_inputs():
    a = Input(shape=(4,), name="a")
    b = Input(shape=(3,), name="b")
    ha = Dense(5, name="ha")(a)
    hb = Dense(5, name="hb")(b)
    model = dn.Model([a, b], [ha, hb])
    assert [layer.name for layer in model.layers] == ["a", "b", "ha", "hb"]  # Keras' order (by depth)
    xa, xb = torch.randn(2, 4), torch.randn(2, 3)
    out1 = model([xa, xb])
    out2 = model({"a": xa, "b": xb})
    torch.testing.assert_close(out1[0], out2[0])
    assert out1[1].shape == (2, 5)
    with pytest.raises(ValueError, match="expects 2 input"):
        model([xa])
    with pytest.raises(ValueError, match="expects inputs named"):
        model({"a": xa})


def test_shared_layer_counted_once_and_applied_twice():
    shared = Dense(3, name="shared")
    a, b = Input((4,)), Input((4,))
    model = dn.Model([a, b], [shared(a), shared(b)])
    assert model.count_params() == 4 * 3 + 3
    x = torch.randn(2, 4)
    o1, o2 = model([x, x])
    torch.testing.assert_close(o1, o2)
    assert len(model.get_weights()) == 2


def test_nested_model_as_layer():
    inner = dn.Sequential([Input((4,)), Dense(3)], name="inner")
    x = Input((4,))
    outer = dn.Model(x, Dense(2)(inner(x)))
    assert outer.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    assert outer(torch.randn(5, 4)).shape == (5, 2)
    text = []
    outer.summary(print_fn=text.append)
    assert "inner (Sequential)" in text[0]


def test_graph_disconnected_and_duplicate_names():
    a, b = Input((4,)), Input((4,))
    out = Dense(2)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        dn.Model(a, out)
    x = Input((4,))
    y = Dense(2, name="same")(Dense(2, name="same")(x))
    with pytest.raises(ValueError, match="unique"):
        dn.Model(x, y)
    with pytest.raises(ValueError, match="deepnet.Input"):
        dn.Model(torch.zeros(2), out)


def test_functional_config_round_trip_gives_same_outputs():
    a = Input((4,), name="a")
    shared = Dense(3, activation="tanh")
    h = shared(a)
    out = Dense(2)(shared(Dense(4)(h)))
    model = dn.Model(a, out)
    clone = dn.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = torch.randn(3, 4)
    torch.testing.assert_close(model(x), clone(x))
    assert clone.get_config()["layers"][1]["inbound_nodes"] == model.get_config()["layers"][1]["inbound_nodes"]


def test_sequential_config_round_trip():
    model = dn.Sequential([Input((5,)), Dense(4, activation="relu"), Dense(1, use_bias=False)])
    clone = dn.Sequential.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = torch.randn(2, 5)
    torch.testing.assert_close(model(x), clone(x))


class _MLP(dn.Model):
    def __init__(self, hidden=8, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(hidden, activation="relu")
        self.out = Dense(3)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_builds_counts_and_summarises():
    model = _MLP()
    assert model.name == "_mlp"
    model.build((None, 5))
    assert model.count_params() == 5 * 8 + 8 + 8 * 3 + 3
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    text = []
    model.summary(print_fn=text.append)
    assert "(None, 8)" in text[0] and "Total params: 75" in text[0]
    assert model(torch.randn(4, 5)).shape == (4, 3)


def test_model_is_a_plain_torch_module():
    model = dn.Sequential([Input((3,)), Dense(2)])
    assert isinstance(model, nn.Module)
    params = list(model.parameters())
    assert sum(p.numel() for p in params) == model.count_params()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(16, 3), torch.randn(16, 2)
    before = nn.functional.mse_loss(model(x), y).item()
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    assert nn.functional.mse_loss(model(x), y).item() < before
    # a deepnet model inside plain PyTorch code
    wrapper = nn.Sequential(model, nn.Tanh())
    assert wrapper(x).shape == (16, 2)


def test_trainable_flag_moves_weights_between_groups():
    model = dn.Sequential([Input((3,)), Dense(4), Dense(2)])
    model.layers[0].trainable = False
    assert sum(w.numel() for w in model.trainable_weights) == 10
    assert sum(w.numel() for w in model.non_trainable_weights) == 16
    model.trainable = False
    assert model.trainable_weights == []
    model.trainable = True
    assert sum(w.numel() for w in model.trainable_weights) == 26


def test_get_set_weights_keras_layout_and_errors():
    model = dn.Sequential([Input((3,)), Dense(4)])
    kernel, bias = model.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    x = np.random.rand(2, 3).astype("float32")
    model.set_weights([np.ones((3, 4)), np.zeros(4)])
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), x.sum(1, keepdims=True).repeat(4, 1), rtol=1e-6)
    with pytest.raises(ValueError, match="expects shape"):
        model.set_weights([np.ones((4, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        model.set_weights([np.ones((3, 4))])


def test_symbolic_tensor_misuse_has_helpful_errors():
    x = Input((4,))
    with pytest.raises(TypeError, match="TorchModuleWrapper"):
        nn.Linear(4, 2)(x)
    # Python operators on KerasTensors record graph nodes (issue 14), as in Keras 3
    assert (x + x).shape == (None, 4) and (x + x).node.layer.get_config()["op"] == "add"
    wrapped = TorchModuleWrapper(nn.Linear(4, 2))(x)
    assert wrapped.shape == (None, 2)


def test_unique_names_follow_keras_numbering():
    assert [Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert dn.Sequential().name == "sequential"
    assert Input((2,)).node.layer.name == "input_layer"


def test_summary_plain_when_piped_and_counts_match(capsys):
    model = dn.Sequential([Input((10,)), Dense(5), Dense(1)], name="tiny")
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "tiny"' in out
    assert "\x1b[" not in out  # no colour codes when not a terminal
    assert "Total params: 61 (244.00 B)" in out
    assert "Trainable params: 61 (244.00 B)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out


def test_unbuilt_summary_shows_question_marks():
    model = dn.Sequential([Dense(3)])
    text = []
    model.summary(print_fn=text.append)
    assert "?" in text[0] and "unbuilt" in text[0]


def test_custom_layer_subclass_lazily_builds():
    class Scale(Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), "ones")

        def call(self, x):
            return x * self.scale

        def compute_output_shape(self, input_shape):
            return input_shape

    x = Input((3,))
    model = dn.Model(x, Scale()(x))
    assert model.count_params() == 3
    torch.testing.assert_close(model(torch.ones(2, 3)), torch.ones(2, 3))


def test_fallback_output_shape_inference_for_layers_without_compute_output_shape():
    class Twice(Layer):
        def call(self, x):
            return torch.cat([x, x], dim=-1)

    x = Input((None, 3))
    y = Twice()(x)
    assert y.shape == (None, None, 6)


def test_add_weight_takes_the_keras3_signature():
    """Keras 3 custom-layer code: shape first, name optional, initializer by dtype."""

    class Scale(dn.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1], 2))                       # positional shape
            self.b = self.add_weight(shape=(2,), initializer="zeros", trainable=True, name="b")
            self.count = self.add_weight(shape=(), dtype="int64", trainable=False)  # zeros by default
            self.s = self.add_weight(shape=(1,), initializer="ones", regularizer="l2", name="s")

        def call(self, x):
            return (x @ self.w + self.b) * self.s

    layer = Scale()
    out = layer(torch.ones(4, 3))
    assert out.shape == (4, 2)
    assert [w.shape for w in layer.get_weights()] == [(3, 2), (2,), (1,), ()]  # Keras: trainable ones first
    assert layer.count.dtype == torch.int64 and int(layer.count) == 0
    assert [s.keras_name for s in layer._weight_specs] == ["variable", "b", "variable_1", "s"]
    assert len(layer.trainable_weights) == 3 and len(layer.non_trainable_weights) == 1
    assert float(layer.s.detach()) == 1.0 and len(layer.losses) == 1
    assert not torch.all(layer.w == 0)  # glorot_uniform for float weights
    model = dn.Sequential([dn.Input(shape=(3,)), Scale()])
    assert model.count_params() == 3 * 2 + 2 + 1 + 1


def test_add_weight_keeps_the_name_first_order():
    class Old(dn.layers.Layer):
        def build(self, input_shape):
            self.add_weight("gamma", (input_shape[-1],), "ones")

        def call(self, x):
            return x * self.gamma

    layer = Old()
    assert torch.equal(layer(torch.full((2, 3), 2.0)), torch.full((2, 3), 2.0))
    with pytest.raises(TypeError, match="add_weight"):
        Old().add_weight((2,), frobnicate=1)
