"""Keras op nodes of a functional graph <-> deepnet ``Operation`` layers.

Keras 3 records ``x + y``, ``x * 0.5`` or ``ops.mean(x, axis=1)`` on KerasTensors as instances
of its ``Operation`` classes and writes each as ``{"module": "keras.src.ops.numpy", "class_name":
"Mean", "config": {"name", "axis", "keepdims"}, "inbound_nodes": [{"args": [x], "kwargs": {}}]}``:
the class' constructor arguments in the config, its call arguments (tensors and constants) in
the node. deepnet records the same call as one ``Operation`` layer whose config names the op
(``"op": "mean"``) and holds every argument, tensors as ``{"__tensor__": i}``. The table of
:mod:`._keras_ops_table` (derived from Keras' ops modules by a test) says, for each op, Keras'
class and which arguments go where; ops resolve by that table only, never by importing the
``module`` a file names.
"""

from __future__ import annotations

import inspect

from ..utils.lazy import lazy_import
from ._keras_ops_table import KERAS_OPS
from .safe import ModelFileError

ops = lazy_import("deepnet.ops")

__all__ = ["from_keras_op", "is_keras_op", "to_keras_op"]

_BY_CLASS = {(module, cls): name for name, (module, cls, _, _) in sorted(KERAS_OPS.items(), reverse=True)}
_PREFIX = "keras.src.ops."


def is_keras_op(entry) -> bool:
    """Whether a Keras config entry is an op node (module ``keras.src.ops.*``), not a layer.

    >>> from deepnet.saving._keras_ops import is_keras_op
    >>> is_keras_op({"module": "keras.src.ops.numpy", "class_name": "Add"})
    True
    """
    return isinstance(entry, dict) and str(entry.get("module") or "").startswith(_PREFIX)


# ----------------------------------------------------------------------------- reading


class _Reader:
    """Keras' serialised constants -> deepnet's ``Operation`` argument encoding, collecting the
    tensor references in order (``{"__tensor__": i}`` stands for ``refs[i]``)."""

    def __init__(self, where: str, label: str):
        self.where, self.label, self.refs = where, label, []

    def __call__(self, value):  # noqa: C901 -- one branch per Keras tag
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        tag, config = value.get("class_name"), value.get("config")
        if not (isinstance(tag, str) and "config" in value):
            return {"__dict__": {str(k): self(v) for k, v in value.items()}}
        if tag == "__keras_tensor__":
            self.refs.append({"__keras_tensor__": list(config["keras_history"])})
            return {"__tensor__": len(self.refs) - 1}
        if tag == "__slice__":
            return {"__slice__": [self(config.get(k)) for k in ("start", "stop", "step")]}
        if tag == "__ellipsis__":
            return {"__ellipsis__": True}
        if tag == "__tuple__":
            return {"__tuple__": [self(v) for v in config["value"]]}
        if tag in ("__numpy__", "__tensor__"):
            return {"__array__": config["value"], "dtype": config["dtype"]}
        if tag in ("DTypePolicy", "FloatDTypePolicy"):
            return config["name"]
        raise ModelFileError(f"{self.where}: {self.label} has an argument of Keras class {tag!r:.60}, which an op "
                             "node of deepnet cannot hold. help: compute it in a registered custom layer.")


def _keras_values(entry: dict, node: dict, spec: tuple, read: _Reader) -> dict:
    """Every argument of the op by name: the constructor's from the config, the call's from the node."""
    _, cls, init, call = spec
    values = {}
    for key, value in entry.get("config", {}).items():
        if key in init:
            values[key] = read(value)
        elif key not in ("name", "trainable", "dtype") and value is not None:
            raise ModelFileError(f"{read.where}: {read.label} ({cls}) has the argument {key}={value!r:.60}, which "
                                 "Keras' op function does not take. help: re-save the model with Keras 3.15.")
    args = list(node.get("args", []))
    if len(args) > len(call) and not (call and call[-1].startswith("*")):
        raise ModelFileError(f"{read.where}: {read.label} ({cls}) is called with {len(args)} arguments; Keras' "
                             f"{cls}.call takes {len(call)} ({', '.join(call)}).")
    for name in call:
        if args and name.startswith("*"):  # the rest, e.g. einsum's *operands
            values[name[1:]], args = [read(a) for a in args], []
        elif args:
            values[name] = read(args.pop(0))
    values.update({k: read(v) for k, v in node.get("kwargs", {}).items()})
    return values


def _as_call(op: str, values: dict, where: str, label: str) -> dict:
    """Arguments by name -> ``{"args", "kwargs"}`` for deepnet's op (positional while they are)."""
    params = inspect.signature(getattr(ops, op)).parameters
    unknown = sorted(set(values) - set(params))
    if unknown:
        raise ModelFileError(f"{where}: {label} passes {unknown} to ops.{op}, which deepnet's op does not take.")
    args, kwargs = [], {}
    for name, param in params.items():
        if name not in values:
            continue
        positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        if param.kind is param.VAR_POSITIONAL and not kwargs:
            args.extend(values[name])
        elif positional and not kwargs and len(args) == list(params).index(name):
            args.append(values[name])
        else:
            kwargs[name] = values[name]
    return {"args": args, "kwargs": kwargs}


def _key_as_tuple(arguments: dict) -> None:
    """Keras' JSON keeps ``x[:, 0]``'s key tuple as a list; an index with slices is a tuple."""
    args = arguments["args"]
    if len(args) > 1 and isinstance(args[1], list) and any(isinstance(k, dict) or k is None for k in args[1]):
        args[1] = {"__tuple__": args[1]}


def from_keras_op(entry: dict, where: str, path: str) -> dict:
    """A Keras op node of ``config.json`` as a deepnet ``Operation`` layer entry.

    >>> from deepnet.saving._keras_ops import from_keras_op
    >>> t = {"class_name": "__keras_tensor__", "config": {"shape": [None, 2], "dtype": "float32",
    ...      "keras_history": ["dense", 0, 0]}}
    >>> entry = {"module": "keras.src.ops.numpy", "class_name": "Multiply", "config": {"name": "multiply"},
    ...          "name": "multiply", "inbound_nodes": [{"args": [t, 0.5], "kwargs": {}}]}
    >>> out = from_keras_op(entry, "config.json", "model.layers[2]")
    >>> out["config"]["op"], out["config"]["arguments"], out["inbound_nodes"][0]["args"]
    ('multiply', {'args': [{'__tensor__': 0}, 0.5], 'kwargs': {}}, [{'__keras_tensor__': ['dense', 0, 0]}])
    """
    name = entry.get("name") or entry.get("config", {}).get("name")
    label = f"op node {name!r} ({path}, {entry.get('class_name')})"
    module = str(entry.get("module"))[len(_PREFIX):]
    op = _BY_CLASS.get((module, entry.get("class_name")))
    if op is None or op not in ops.__all__:
        raise ModelFileError(
            f"{where}: {label} is the Keras op {entry.get('module')}.{entry.get('class_name')}, which deepnet cannot "
            "map to one of its ops. help: wrap the computation in a registered custom layer in Keras and deepnet.")
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1 or not isinstance(nodes[0], dict):
        raise ModelFileError(f"{where}: {label} must have exactly one inbound node in Keras 3's form; it has "
                             f"{len(nodes)}. help: re-save the model with Keras 3.")
    read = _Reader(where, label)
    arguments = _as_call(op, _keras_values(entry, nodes[0], KERAS_OPS[op], read), where, label)
    if op == "get_item":
        _key_as_tuple(arguments)
    if not read.refs:
        raise ModelFileError(f"{where}: {label} has no tensor input, so it cannot be a graph node.")
    inputs = read.refs[0] if len(read.refs) == 1 else read.refs
    return {"class_name": "Operation", "config": {"name": name, "op": op, "arguments": arguments}, "name": name,
            "inbound_nodes": [{"args": [inputs], "kwargs": {}}]}


# ----------------------------------------------------------------------------- writing


class _Writer:
    """deepnet's ``Operation`` argument encoding -> Keras' serialised constants and tensors."""

    def __init__(self, inputs: list, shapes):
        self.inputs, self.shapes = inputs, shapes

    def __call__(self, value):  # noqa: C901 -- one branch per deepnet tag
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tensor__" in value:
            ref = self.inputs[value["__tensor__"]]["__keras_tensor__"]
            shape, dtype = self.shapes(ref)
            return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": dtype, "keras_history": ref}}
        if "__tuple__" in value:
            return [self(v) for v in value["__tuple__"]]
        if "__slice__" in value:
            return {"class_name": "__slice__",
                    "config": dict(zip(("start", "stop", "step"), (self(v) for v in value["__slice__"])))}
        if "__ellipsis__" in value:
            return {"class_name": "__ellipsis__", "config": {}}
        if "__dtype__" in value:
            return value["__dtype__"]
        if "__array__" in value:
            return {"class_name": "__numpy__", "config": {"value": value["__array__"], "dtype": value["dtype"]}}
        if "__dict__" in value:
            return {k: self(v) for k, v in value["__dict__"].items()}
        return {k: self(v) for k, v in value.items()}


def to_keras_op(layer: dict, shapes) -> dict:
    """A deepnet ``Operation`` layer entry (with its inbound nodes) as Keras' op node.

    >>> from deepnet.saving._keras_ops import to_keras_op
    >>> layer = {"class_name": "Operation", "name": "mean", "config": {"name": "mean", "op": "mean",
    ...          "arguments": {"args": [{"__tensor__": 0}], "kwargs": {"axis": 1}}},
    ...          "inbound_nodes": [{"args": [{"__keras_tensor__": ["d", 0, 0]}], "kwargs": {}}]}
    >>> out = to_keras_op(layer, lambda ref: ([None, 4, 3], "float32"))
    >>> out["class_name"], out["config"], out["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    ('Mean', {'name': 'mean', 'axis': 1}, ['d', 0, 0])
    """
    config, name = layer["config"], layer.get("name") or layer["config"].get("name")
    op = config["op"]
    if op not in KERAS_OPS:
        raise ValueError(
            f"Saving as a Keras file: the graph node {name!r} calls ops.{op}, which has no Keras Operation class, so "
            "Keras 3 could not load it. help: save as .deepnet, or compute it in a registered custom layer.")
    module, cls, init, call = KERAS_OPS[op]
    nodes = layer.get("inbound_nodes") or [{"args": [[]]}]
    inputs = nodes[0]["args"][0]
    write = _Writer([inputs] if isinstance(inputs, dict) else list(inputs), shapes)
    arguments = config.get("arguments", {})
    bound = inspect.signature(getattr(ops, op)).bind_partial(*arguments.get("args", []),
                                                             **arguments.get("kwargs", {})).arguments
    extra = sorted(set(bound) - {p.lstrip("*") for p in init + call})
    if extra:
        raise ValueError(f"Saving as a Keras file: the graph node {name!r} passes {extra} to ops.{op}, which Keras' "
                         f"{cls} does not take. help: save as .deepnet, or leave these arguments out.")
    args, kwargs, gap = [], {}, False
    for param in call:  # positional up to the first argument left out, by name after it
        gap = gap or param.lstrip("*") not in bound
        if param.startswith("*") and not gap:
            args.extend(write(list(bound[param[1:]])))
        elif param in bound and gap:
            kwargs[param] = write(bound[param])
        elif param in bound:
            args.append(write(bound[param]))
    return {"module": _PREFIX + module, "class_name": cls,
            "config": {"name": name, **{k: write(bound[k]) for k in init if k in bound}},
            "registered_name": cls, "name": name, "inbound_nodes": [{"args": args, "kwargs": kwargs}]}
