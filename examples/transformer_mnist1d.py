"""A small transformer on MNIST-1D, built with the functional API.

A strided Conv1D cuts the signal into 10 overlapping patches of 8 values (stride 4) and
embeds each as a 64-dimensional token; learned position embeddings are added; two pre-norm
encoder blocks (MultiHeadAttention + MLP, with residual connections) follow; the tokens are
averaged and classified.

Shows the functional API (deepnet.Input / deepnet.Model, layers.Add), MultiHeadAttention,
LayerNormalization, and a custom layer (PositionEmbedding) that creates its weight with
``add_weight`` in ``build``.

Run from the repository root: python examples/transformer_mnist1d.py
"""

from _common import train_and_evaluate

import deepnet
from deepnet import layers


class PositionEmbedding(layers.Layer):
    """Adds a learned vector to each position of a (batch, steps, dim) input."""

    def build(self, input_shape):
        self.embeddings = self.add_weight(name="embeddings", shape=(input_shape[1], input_shape[2]),
                                          initializer="zeros")

    def call(self, inputs):
        return inputs + self.embeddings


def encoder_block(x, dim, heads, mlp_dim):
    h = layers.LayerNormalization()(x)
    h = layers.MultiHeadAttention(heads, dim // heads)(h, h)
    x = layers.Add()([x, h])
    h = layers.LayerNormalization()(x)
    h = layers.Dense(mlp_dim, activation="gelu")(h)
    h = layers.Dense(dim)(h)
    return layers.Add()([x, h])


def build_model(dim=64, depth=2, heads=4):
    inputs = deepnet.Input(shape=(40,))
    x = layers.Reshape((40, 1))(inputs)
    x = layers.Conv1D(dim, 8, strides=4, padding="same")(x)  # (10, dim): one token per patch
    x = PositionEmbedding()(x)
    for _ in range(depth):
        x = encoder_block(x, dim, heads, 2 * dim)
    x = layers.LayerNormalization()(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(10)(x)
    return deepnet.Model(inputs, outputs, name="transformer")


if __name__ == "__main__":
    deepnet.utils.set_random_seed(0)
    model = build_model()
    model.summary()
    train_and_evaluate("Transformer", model, epochs=40, batch_size=128, learning_rate=3e-3,
                       weight_decay=0.05, label_smoothing=0.1)
