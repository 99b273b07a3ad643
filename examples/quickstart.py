"""Quick start: the Keras tutorial CNN built and summarised, then a small CNN trained on
MNIST-1D (generated offline) with early stopping, test accuracy and the learning-curve verdict.

Run: python examples/quickstart.py
"""

import deepnet as dn
from deepnet.layers import (
    BatchNormalization,
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    Input,
    MaxPooling1D,
    MaxPooling2D,
)

# 1. The Keras tutorial model: same code, same summary (Total params: 4,571,018).
model = dn.Sequential()
model.add(Input(shape=(256, 256, 3)))
model.add(Conv2D(256, (3, 3), activation="relu", padding="same"))
model.add(MaxPooling2D(2, 2))
model.add(Conv2D(128, (3, 3), activation="relu", padding="same"))
model.add(MaxPooling2D(2, 2))
model.add(Conv2D(64, (3, 3), activation="relu", padding="same"))
model.add(MaxPooling2D(2, 2))
model.add(Flatten())
model.add(Dense(64, activation="relu"))
model.add(Dense(10))
model.summary()

# 2. Train a small CNN on MNIST-1D.
dn.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = dn.datasets.load_mnist1d()
x_train, x_test = x_train[..., None], x_test[..., None]
cnn = dn.Sequential([
    Input(shape=(40, 1)),
    Conv1D(32, 5, padding="same", activation="relu"), BatchNormalization(), MaxPooling1D(2),
    Conv1D(64, 3, padding="same", activation="relu"), BatchNormalization(), MaxPooling1D(2),
    Conv1D(128, 3, padding="same", activation="relu"), BatchNormalization(),
    GlobalAveragePooling1D(), Dense(10),
])
cnn.summary()
cnn.compile(optimizer=dn.optimizers.AdamW(learning_rate=3e-3),
            loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
history = cnn.fit(x_train, y_train, batch_size=64, epochs=30, validation_split=0.1,
                  callbacks=[dn.callbacks.EarlyStopping(monitor="val_accuracy", patience=6, restore_best_weights=True)])
result = cnn.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(f"Test accuracy: {result['accuracy']:.4f}")
print(dn.diagnose.learning_curves(history))
