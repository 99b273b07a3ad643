"""Regenerate the pictures of docs/plotting.md (docs/images/plot_model_example.{png,svg}).

    python docs/make_plot_examples.py [OUTPUT_FOLDER]

The pictures use the built-in layout, so they do not depend on whether Graphviz is installed.

The example is a small functional model with two inputs, a residual branch and two merges.
"""

from __future__ import annotations

import os
import sys

import deepnet as dn
from deepnet.layers import Add, Concatenate, Dense, Dropout, Flatten, Input

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "images")


def example_model() -> dn.Model:
    dn.utils.clear_session()
    image = Input(shape=(28, 28), name="image")
    meta = Input(shape=(4,), name="meta")
    x = Flatten(name="flatten")(image)
    x = Dense(64, activation="relu", name="features")(x)
    h = Dense(64, activation="relu", name="hidden")(x)
    h = Dropout(0.2, name="dropout")(h)
    x = Add(name="residual")([x, h])
    m = Dense(16, activation="relu", name="meta_proj")(meta)
    x = Concatenate(name="merge")([x, m])
    outputs = Dense(10, activation="softmax", name="classifier")(x)
    return dn.Model([image, meta], outputs, name="two_inputs")


def main(out: str = OUT) -> None:
    os.makedirs(out, exist_ok=True)
    model = example_model()
    for ext in ("png", "svg"):
        path = dn.plot_model(model, os.path.join(out, f"plot_model_example.{ext}"), show_params=True,
                             layout="builtin")
        print("wrote", path)


if __name__ == "__main__":
    main(*sys.argv[1:2])
