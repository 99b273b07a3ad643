"""A 1-D convolutional network on MNIST-1D: three stages of two Conv1D layers (32, 64, 128
filters, kernel 5) with BatchNormalization and ReLU, MaxPooling1D between stages, then
GlobalAveragePooling1D and a Dense classifier (the network `deepnet train` uses by default).

Shows Conv1D / BatchNormalization / pooling layers and a one-cycle learning-rate schedule
with label smoothing; it reaches ~99% on the test set.

Run from the repository root: python examples/cnn_mnist1d.py
"""

from _common import train_and_evaluate

import deepnet
from deepnet import layers


def conv_bn_relu(filters):
    return [
        layers.Conv1D(filters, 5, padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.9),
        layers.Activation("relu"),
    ]


if __name__ == "__main__":
    deepnet.utils.set_random_seed(0)
    model = deepnet.Sequential([
        deepnet.Input(shape=(40,)),
        layers.Reshape((40, 1)),  # 40 steps x 1 channel
        *conv_bn_relu(32), *conv_bn_relu(32), layers.MaxPooling1D(2),
        *conv_bn_relu(64), *conv_bn_relu(64), layers.MaxPooling1D(2),
        *conv_bn_relu(128), *conv_bn_relu(128),
        layers.GlobalAveragePooling1D(),
        layers.Dense(10),
    ])
    model.summary()
    train_and_evaluate("CNN", model, epochs=30, batch_size=128, learning_rate=5e-3, label_smoothing=0.1)
