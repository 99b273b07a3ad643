"""Saving and loading: whole models (``.deepnet`` archives), weights files (safetensors),
JSON configs, export (ONNX, ``torch.export``) and the registry of serializable classes.

Files hold JSON and safetensors only: loading never unpickles, imports or evaluates anything.
The (de)serialisation functions live in :mod:`deepnet.utils.serialization` and
:mod:`deepnet.utils.registry`; they are re-exported here, also under their Keras names.

>>> dn.saving.serialize_keras_object(dn.regularizers.L2(0.5))
{'class_name': 'L2', 'config': {'l2': 0.5}}
"""

from ..utils.registry import (
    custom_object_scope,
    get_custom_objects,
    get_registered_class,
    get_registered_name,
    get_registered_object,
    register_serializable,
    registered_names,
)
from ..utils.serialization import deserialize_object, serialize_object
from . import _builtins  # noqa: F401  (registers the built-in object kinds)
from .archive import load_model, model_from_json, model_to_json, save_model
from .export import export_model
from .safe import ModelFileError
from .weights import load_weights, save_weights

#: Keras' names of the same functions.
register_keras_serializable = register_serializable
serialize_keras_object = serialize_object
deserialize_keras_object = deserialize_object

__all__ = [
    "ModelFileError", "custom_object_scope", "deserialize_keras_object", "deserialize_object",
    "export_model", "get_custom_objects", "get_registered_class", "get_registered_name",
    "get_registered_object", "load_model", "load_weights", "model_from_json", "model_to_json",
    "register_keras_serializable", "register_serializable", "registered_names",
    "save_model", "save_weights", "serialize_keras_object", "serialize_object",
]
