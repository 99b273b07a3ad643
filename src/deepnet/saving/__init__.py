"""Saving and loading: whole models (``.deepnet`` archives), weights files (safetensors),
JSON configs, export (ONNX, ``torch.export``) and the registry of serializable classes.

Files hold JSON and safetensors only: loading never unpickles, imports or evaluates anything.
"""

from ..utils.registry import register_serializable
from ._safe import ModelFileError
from .archive import load_model, model_from_json, model_to_json, save_model
from .weights import load_weights, save_weights

__all__ = [
    "ModelFileError", "export_model", "load_model", "load_weights", "model_from_json", "model_to_json",
    "register_serializable", "save_model", "save_weights",
]


def export_model(model, filepath, format: str = "onnx", **kwargs):
    """Export ``model`` for inference outside deepnet (see :mod:`deepnet.saving.export`)."""
    from .export import export_model as _export

    return _export(model, filepath, format=format, **kwargs)
