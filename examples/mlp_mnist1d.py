"""A multilayer perceptron on MNIST-1D: two hidden Dense layers of 256 units with Dropout.

Shows the plainest Keras workflow (Sequential, compile, fit, evaluate). An MLP sees the 40
values as an unordered vector, so it overfits and reaches only ~70% on the test set; compare
with cnn_mnist1d.py on the same data.

Run from the repository root: python examples/mlp_mnist1d.py
"""

from _common import train_and_evaluate

import deepnet
from deepnet import layers

if __name__ == "__main__":
    deepnet.utils.set_random_seed(0)
    model = deepnet.Sequential([
        deepnet.Input(shape=(40,)),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10),
    ])
    model.summary()
    train_and_evaluate("MLP", model, epochs=60, batch_size=128, learning_rate=3e-3, weight_decay=0.05)
