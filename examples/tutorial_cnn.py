"""The CNN of the Keras image-classification tutorial, for 256x256 RGB images and 10 classes.

Shows that the Keras code carries over unchanged: the model is built with Sequential.add and
its summary matches Keras (Total params: 4,571,018). Nothing is trained.

Run from the repository root: python examples/tutorial_cnn.py
"""

import deepnet
from deepnet import layers

model = deepnet.Sequential()
model.add(deepnet.Input(shape=(256, 256, 3)))
model.add(layers.Conv2D(256, (3, 3), activation="relu", padding="same"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu", padding="same"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu", padding="same"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10))
model.summary()
