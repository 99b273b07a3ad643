"""Utilities: Keras' ``keras.utils`` (data, files, images, sequences, progress bars, the
serialisation registry), seeding, session reset, shape and byte formatting, model plotting."""

from __future__ import annotations

from .audio_datasets import audio_dataset_from_directory
from .config_object import Config
from .data_utils import (
    BatchedDataset,
    PyDataset,
    SampleDataset,
    Sequence,
    pack_x_y_sample_weight,
    split_dataset,
    unpack_x_y_sample_weight,
)
from .directory_datasets import image_dataset_from_directory, text_dataset_from_directory
from .dtypes import standardize_dtype
from .files import cache_root, get_file, hash_file
from .formatting import format_bytes, format_shape
from .images import array_to_img, img_to_array, load_img, save_img
from .interactive_logging import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from .naming import clear_session
from .numerical import normalize, to_categorical
from .progbar import Progbar
from .registry import (
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_serializable,
)
from .seeding import set_random_seed
from .sequences import pad_sequences
from .serialization import deserialize_object, serialize_object
from .symbolic import is_symbolic
from .timeseries import timeseries_dataset_from_array

#: Keras' names of the same functions (``keras.utils`` spells them this way).
register_keras_serializable = register_serializable
serialize_keras_object = serialize_object
deserialize_keras_object = deserialize_object
CustomObjectScope = custom_object_scope
is_keras_tensor = is_symbolic

__all__ = [
    "BatchedDataset", "Config", "CustomObjectScope", "Progbar", "PyDataset", "SampleDataset", "Sequence", "array_to_img",
    "audio_dataset_from_directory",
    "cache_root", "clear_session", "custom_object_scope", "deserialize_keras_object", "format_bytes",
    "FeatureSpace", "disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled",
    "format_shape", "get_custom_objects", "get_file", "get_registered_name", "get_registered_object",
    "get_source_inputs", "hash_file", "image_dataset_from_directory", "img_to_array", "is_keras_tensor",
    "load_img", "model_to_dot", "normalize", "pack_x_y_sample_weight", "pad_sequences", "plot_model",
    "register_keras_serializable", "save_img", "serialize_keras_object", "set_random_seed", "split_dataset",
    "standardize_dtype", "text_dataset_from_directory", "timeseries_dataset_from_array", "to_categorical",
    "unpack_x_y_sample_weight",
]


def get_source_inputs(tensor) -> list:
    """The ``Input`` tensors a symbolic tensor of a functional graph is computed from (Keras).

    >>> a, b = dn.Input((2,)), dn.Input((2,))
    >>> y = dn.layers.Dense(1)(a)
    >>> dn.utils.get_source_inputs(y)[0] is a
    True
    """
    found, seen, todo = [], set(), [tensor]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        parents = list(getattr(getattr(t, "node", None), "input_tensors", None) or ())
        if not parents:
            found.append(t)
        todo.extend(reversed(parents))
    return found


def __getattr__(name: str):
    # ``deepnet.utils.plot_model`` is the Keras spelling (keras.utils.plot_model) of
    # ``deepnet.plot_model``, which lives in deepnet.visualization, a package above utils: it is
    # imported on first access, the one upward import allowed (see docs/architecture.md).
    if name == "plot_model":
        from ..visualization import plot_model

        return plot_model
    # ``keras.utils.FeatureSpace`` is built from preprocessing layers (deepnet.layers, level 4).
    if name == "FeatureSpace":
        from ..layers.feature_space import FeatureSpace

        return FeatureSpace
    if name == "model_to_dot":
        from ..visualization.dot import model_to_dot

        return model_to_dot
    raise AttributeError(f"module 'deepnet.utils' has no attribute {name!r}")
