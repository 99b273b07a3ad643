"""Export a model for inference outside deepnet: ONNX (``format="onnx"``) or a
``torch.export`` program (``format="torch"``, a ``.pt2`` file).

Both trace the model in inference mode (dropout off, batch-norm moving statistics) on example
inputs built from the model's input shapes, with a dynamic batch axis. ONNX export needs the
optional ``onnx`` package (and ``onnxscript`` for ``dynamo=True``); verify with ``onnxruntime``.

Security note: ``.pt2`` files written by ``torch.export.save`` contain pickled parts (sample
inputs, some constants) and ``torch.export.load`` may unpickle them: load ``.pt2`` files only
from trusted sources. deepnet writes them but never reads them.
"""

from __future__ import annotations

import inspect
import os
import re
import warnings

import torch
from torch import nn

from ..layers.base import Layer
from ..utils import nest
from ..utils.io import atomic_write

__all__ = ["export_model", "example_inputs"]

_FORMATS = ("onnx", "torch")


class _InferenceWrapper(nn.Module):
    """``forward(*inputs)`` -> flat tuple of outputs, always in inference mode."""

    def __init__(self, model, single: bool):
        super().__init__()
        self.model = model
        self.single = single

    def forward(self, *inputs):
        out = self.model(inputs[0] if self.single else list(inputs), training=False)
        return tuple(nest.flatten(out))


def _input_specs(model) -> list[tuple[tuple, torch.dtype]]:
    if model.inputs:
        return [(tuple(t.shape), t.dtype) for t in model.inputs]
    shape = getattr(model, "_build_args", None)
    shape = shape[0] if shape else getattr(model, "_build_input_shape", None)
    if shape is None:
        raise ValueError(
            f"export: the input shape of model {model.name!r} is unknown. help: give the model an Input, or call it "
            "once on a batch of data before exporting."
        )
    shapes = [shape] if all(d is None or isinstance(d, int) for d in shape) else list(shape)
    return [(tuple(s), model.dtype) for s in shapes]


def example_inputs(model, batch_size: int = 2, unknown_dim: int = 3) -> tuple[torch.Tensor, ...]:
    """Zero-filled example inputs for ``model`` (``None`` dims: ``batch_size`` for the batch axis,
    ``unknown_dim`` elsewhere); integer inputs are zeros, valid for embeddings.

    >>> from deepnet.saving.export import example_inputs
    >>> [tuple(t.shape) for t in example_inputs(dn.Sequential([dn.Input((None, 4)), dn.layers.Dense(2)]))]
    [(2, 3, 4)]
    """
    out = []
    for shape, dtype in _input_specs(model):
        full = tuple(batch_size if i == 0 else (unknown_dim if d is None else d) for i, d in enumerate(shape))
        out.append(torch.zeros(full, dtype=dtype))
    return tuple(out)


class _LayerTracker:
    """Forward hooks keeping the stack of layers being run: when tracing fails inside a layer,
    the innermost unfinished one is the culprit."""

    def __init__(self, model):
        self.stack: list = []
        self.handles = []
        for module in model.modules():
            if isinstance(module, Layer) and module is not model:
                self.handles.append(module.register_forward_pre_hook(self._enter))
                self.handles.append(module.register_forward_hook(self._leave))

    def _enter(self, module, args):
        self.stack.append(module)

    def _leave(self, module, args, output):
        if self.stack and self.stack[-1] is module:
            self.stack.pop()

    def close(self):
        for h in self.handles:
            h.remove()

    def hint(self) -> str:
        if not self.stack:
            return ""
        layer = self.stack[-1]
        return f" The failing layer is {layer.name!r} ({type(layer).__name__})."


def _layer_using_op(model, inputs, op: str) -> str:
    """Name the first layer whose computation calls the aten operator ``op`` (e.g. an operator
    the ONNX exporter does not support), found by running the model once under a dispatch mode."""
    from torch.utils._python_dispatch import TorchDispatchMode

    tracker = _LayerTracker(model)
    found: list = []

    class _Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if not found and tracker.stack and getattr(getattr(func, "_schema", None), "name", "") == op:
                found.append(tracker.stack[-1])
            return func(*args, **(kwargs or {}))

    try:
        with torch.no_grad(), _Recorder():
            model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
    except Exception:  # locating the layer is best effort: the export error is reported either way
        return ""
    finally:
        tracker.close()
    return f" The failing layer is {found[0].name!r} ({type(found[0]).__name__})." if found else ""


def _failure_hint(model, inputs, tracker: _LayerTracker, error: Exception) -> str:

    hint = tracker.hint()
    if hint:
        return hint
    match = re.search(r"(aten::\w+)", str(error))
    return _layer_using_op(model, inputs, match.group(1)) if match else ""


def export_model(model, filepath, format: str = "onnx", input_signature=None, opset_version: int = 18,
                 dynamic_batch: bool = True, dynamo: bool | None = None):
    """Export ``model`` to ``filepath``.

    Args:
        format: ``"onnx"`` or ``"torch"`` (``torch.export`` program saved with ``torch.export.save``).
        input_signature: example input tensor(s) to trace with (default: zeros of the model's
            input shapes, batch 2, unknown dims 3).
        opset_version: ONNX opset (default 18).
        dynamic_batch: make the first axis of every input and output dynamic.
        dynamo: ONNX only: ``False`` uses torch's TorchScript-based exporter, ``True`` the
            ``torch.export``-based one (needs ``onnxscript``); default (None): TorchScript-based.

    Returns the path written. Raises ValueError naming the layer when tracing fails.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.saving.export_model(model, "tiny.pt2", format="torch")
    'tiny.pt2'
    >>> torch.export.load("tiny.pt2").module()(torch.ones(4, 3))[0].shape
    torch.Size([4, 2])
    """
    if format not in _FORMATS:
        raise ValueError(f"export: `format` must be one of {_FORMATS}; received format={format!r}.")
    if not model.built:
        raise ValueError(f"export: model {model.name!r} is not built. help: give it an Input or call it on data first.")
    path = os.fspath(filepath)
    if input_signature is None:
        inputs = example_inputs(model)
    else:
        inputs = tuple(torch.as_tensor(t) for t in (input_signature if isinstance(input_signature, (list, tuple))
                                                     else [input_signature]))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    inputs = tuple(t.to(device) for t in inputs)
    wrapper = _InferenceWrapper(model, single=len(inputs) == 1)
    was_training = model.training
    model.eval()
    try:
        if format == "torch":
            return _export_torch(model, wrapper, inputs, path, dynamic_batch)
        return _export_onnx(model, wrapper, inputs, path, opset_version, dynamic_batch, dynamo)
    finally:
        model.train(was_training)


def _export_torch(model, wrapper, inputs, path: str, dynamic_batch: bool) -> str:

    dynamic = None
    if dynamic_batch:
        batch = torch.export.Dim("batch")
        dynamic = (tuple({0: batch} for _ in inputs),)
    tracker = _LayerTracker(model)
    try:
        program = torch.export.export(wrapper, inputs, dynamic_shapes=dynamic, strict=False)
    except Exception as e:  # torch raises many types when a model cannot be traced
        raise ValueError(
            f"export(format='torch'): torch.export could not trace model {model.name!r}: {type(e).__name__}: "
            f"{_first_line(e)}{_failure_hint(model, inputs, tracker, e)}"
        ) from None
    finally:
        tracker.close()
    with atomic_write(path, "wb") as f:
        torch.export.save(program, f)
    return path


def _export_onnx(model, wrapper, inputs, path: str, opset_version: int, dynamic_batch: bool, dynamo) -> str:
    try:
        import onnx  # noqa: F401  (torch.onnx needs it)
    except ImportError:
        raise ImportError("export(format='onnx') needs the `onnx` package. help: pip install onnx onnxruntime") from None

    n_out = len(wrapper(*inputs))
    input_names = [f"input_{i}" if len(inputs) > 1 else "input" for i in range(len(inputs))]
    output_names = [f"output_{i}" if n_out > 1 else "output" for i in range(n_out)]
    legacy = dynamo is not True
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tracker = _LayerTracker(model)
    try:
        with atomic_write(path, "wb") as f, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            # RNN initial states are built from the input's (dynamic) batch size, so this does not apply
            warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
            if legacy:
                axes = {n: {0: "batch"} for n in input_names + output_names} if dynamic_batch else None
                extra = {"dynamo": False} if _takes_dynamo() else {}
                torch.onnx.export(wrapper, inputs, f, opset_version=opset_version, input_names=input_names,
                                  output_names=output_names, dynamic_axes=axes, **extra)
            else:
                batch = torch.export.Dim("batch")
                dynamic = (tuple({0: batch} for _ in inputs),) if dynamic_batch else None
                program = torch.export.export(wrapper, inputs, dynamic_shapes=dynamic, strict=False)
                onnx_program = torch.onnx.export(program, inputs, dynamo=True, opset_version=opset_version,
                                                 input_names=input_names, output_names=output_names,
                                                 external_data=False)
                f.write(onnx_program.model_proto.SerializeToString())
    except ImportError:
        raise
    except Exception as e:  # the exporters raise many types for unsupported operations
        tracker.close()
        raise ValueError(
            f"export(format='onnx'): could not export model {model.name!r}: {type(e).__name__}: "
            f"{_first_line(e)}{_failure_hint(model, inputs, tracker, e)} help: try dynamo=True/False, another "
            "opset_version, or format='torch'."
        ) from None
    finally:
        tracker.close()
    return path


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else ""
    return line if line.endswith(".") else line + "."


def _takes_dynamo() -> bool:

    try:
        return "dynamo" in inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):
        return False
