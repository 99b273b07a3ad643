"""A recurrent network on MNIST-1D: the 40 values are read as 20 time steps of 2 values by
two stacked GRU layers (64 units), and the last state is classified by a Dense layer.

Shows recurrent layers (GRU with return_sequences) in a Sequential model.

Run from the repository root: python examples/gru_mnist1d.py
"""

from _common import train_and_evaluate

import deepnet
from deepnet import layers

if __name__ == "__main__":
    deepnet.utils.set_random_seed(0)
    model = deepnet.Sequential([
        deepnet.Input(shape=(40,)),
        layers.Reshape((20, 2)),  # 20 time steps x 2 features
        layers.GRU(64, return_sequences=True),
        layers.GRU(64),
        layers.Dense(10),
    ])
    model.summary()
    train_and_evaluate("GRU", model, epochs=30, batch_size=64, learning_rate=5e-3)
