"""Regenerate tests/applications_keras_counts.json: Keras' parameter counts, output shapes and
model names of every ``keras.applications`` architecture (``weights=None``), read by
tests/test_applications_more.py (building the large Keras models takes minutes, so the numbers
are stored; the test rebuilds a sample in Keras live).

Run: ``.venv/bin/python tests/make_applications_counts.py`` (Keras with any backend).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

OUT = Path(__file__).resolve().parent / "applications_keras_counts.json"

#: Each architecture's smallest accepted input side (Keras' ``min_size``) for the no-top cases.
MIN_SIDE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
ARCHITECTURES = (  # the slow, large ones last
    "VGG16 VGG19 ResNet50 ResNet101 ResNet152 ResNet50V2 ResNet101V2 ResNet152V2 DenseNet121 DenseNet169 "
    "DenseNet201 InceptionV3 InceptionResNetV2 Xception MobileNet MobileNetV2 MobileNetV3Small MobileNetV3Large "
    "NASNetMobile NASNetLarge EfficientNetB0 EfficientNetB1 EfficientNetB2 EfficientNetB3 EfficientNetB4 "
    "EfficientNetB5 EfficientNetB6 EfficientNetB7 EfficientNetV2B0 EfficientNetV2B1 EfficientNetV2B2 "
    "EfficientNetV2B3 EfficientNetV2S EfficientNetV2M EfficientNetV2L ConvNeXtTiny ConvNeXtSmall ConvNeXtBase "
    "ConvNeXtLarge ConvNeXtXLarge").split()
#: Extra argument sets: (architecture, kwargs) built without the top on the small input.
VARIANTS = (
    ("MobileNet", {"alpha": 0.5, "depth_multiplier": 2}),
    ("MobileNetV3Small", {"alpha": 0.75, "minimalistic": True}),
    ("MobileNetV3Large", {"include_preprocessing": False, "minimalistic": True}),
    ("MobileNetV3Large", {"alpha": 0.75}),
    ("ConvNeXtTiny", {"include_preprocessing": False}),
    ("EfficientNetV2B0", {"include_preprocessing": False}),
)


def case_id(name: str, kwargs: dict) -> str:
    return name + "".join(f",{k}={v}" for k, v in sorted(kwargs.items()))


def build(name: str, **kwargs):
    """Keras' model ``name``; NASNetMobile, which Keras refuses on the torch backend (a runtime
    bug, not a layout one), is built through the generic ``NASNet`` with NASNetMobile's settings."""
    if name == "NASNetMobile" and keras.backend.backend() == "torch":
        from keras.src.applications import nasnet

        if not kwargs.get("include_top", True) and kwargs.get("input_shape") is None:
            kwargs["input_shape"] = (224, 224, 3)
        return nasnet.NASNet(penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                             filter_multiplier=2, default_size=224, name="nasnet_mobile", **kwargs)
    return getattr(keras.applications, name)(**kwargs)


def describe(model) -> dict:
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {"params": int(model.count_params()), "trainable": trainable,
            "output_shape": list(model.output_shape), "name": model.name}


def small_case(name: str, kwargs: dict) -> dict:
    side = MIN_SIDE.get(name, 32)
    model = build(name, weights=None, include_top=False, input_shape=(side, side, 3), **kwargs)
    return {"input_shape": [side, side, 3], **describe(model)}


def main(names) -> None:
    data = json.loads(OUT.read_text()) if OUT.exists() else {"keras_version": keras.__version__}
    data["keras_version"] = keras.__version__
    for name, kwargs in VARIANTS:
        if name in names:
            data.setdefault("variants", {})[case_id(name, kwargs)] = {"kwargs": kwargs, **small_case(name, kwargs)}
    for name in names:
        data.setdefault("no_top", {})[name] = small_case(name, {})
        data.setdefault("top", {})[name] = describe(build(name, weights=None))
        keras.backend.clear_session()
        print(name, data["top"][name]["params"], flush=True)
        OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")  # after each: big ones take minutes


if __name__ == "__main__":
    main(sys.argv[1:] or ARCHITECTURES)
