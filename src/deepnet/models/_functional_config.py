"""Functional-model config: a layer graph <-> a JSON-able dict (Keras' functional config format)."""

from __future__ import annotations

from typing import Any

from ..layers.base import InputLayer, KerasTensor, Layer
from ..utils import nest
from ..utils.serialization import deserialize_layer, serialize_layer

__all__ = ["functional_config", "functional_from_config", "node_indices"]


def node_indices(model) -> dict[int, tuple[str, int]]:
    """id(node) -> (layer name, index of the node among that layer's nodes in this model).

    >>> from deepnet.models.graph import node_indices
    >>> x = dn.Input((3,), name="x")
    >>> model = dn.Model(x, dn.layers.Dense(2, name="d")(x))
    >>> sorted(node_indices(model).values())
    [('d', 0), ('x', 0)]
    """
    counts: dict[str, int] = {}
    out = {}
    for node in model._nodes:
        name = node.layer.name
        out[id(node)] = (name, counts.get(name, 0))
        counts[name] = counts.get(name, 0) + 1
    return out


def _tensor_ref(t: KerasTensor, index: dict) -> list:
    name, node_index = index[id(t.node)]
    return [name, node_index, t.index]


def functional_config(model) -> dict:
    """The Keras functional config of a graph model: its layers with their inbound nodes,
    and the tensor references of the inputs and outputs (JSON-able).

    >>> from deepnet.models.graph import functional_config
    >>> x = dn.Input((3,), name="x")
    >>> config = functional_config(dn.Model(x, dn.layers.Dense(2, name="d")(x)))
    >>> [layer["name"] for layer in config["layers"]], config["output_layers"]
    (['x', 'd'], ['d', 0, 0])
    """
    index = node_indices(model)
    encode = lambda t: {"__keras_tensor__": _tensor_ref(t, index)} if isinstance(t, KerasTensor) else t  # noqa: E731
    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": nest.map_structure(encode, list(n.call_args)), "kwargs": nest.map_structure(encode, n.call_kwargs)}
            for n in model._nodes if n.layer is layer and not isinstance(layer, InputLayer)
        ]
        layers.append(entry)
    ref = lambda t: _tensor_ref(t, index)  # noqa: E731
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": nest.map_structure(ref, model._input_struct) if not isinstance(model._input_struct, KerasTensor) else ref(model._input_struct),
        "output_layers": nest.map_structure(ref, model._output_struct) if not isinstance(model._output_struct, KerasTensor) else ref(model._output_struct),
    }


def _is_ref(x) -> bool:
    return isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and isinstance(x[1], int)


def functional_from_config(cls, config: dict, custom_objects: dict | None = None):
    """Rebuild a graph model of class ``cls`` from :func:`functional_config` output (fresh
    weights); layer classes resolve through the registry and ``custom_objects``.

    >>> from deepnet.models.graph import functional_config, functional_from_config
    >>> x = dn.Input((3,))
    >>> model = dn.Model(x, dn.layers.Dense(2)(x))
    >>> functional_from_config(dn.Model, functional_config(model)).count_params()
    8
    """
    created: dict[str, Layer] = {}
    tensors: dict[tuple[str, int], Any] = {}  # (layer, node index) -> outputs
    pending: list[tuple[Layer, int, dict]] = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        # Tensors are keyed by the name the config gives (Keras): a custom layer whose
        # get_config() omits `name` comes back with a new automatic name.
        key = entry.get("name") or entry.get("config", {}).get("name") or layer.name
        created[key] = layer
        if isinstance(layer, InputLayer):
            tensors[(key, 0)] = layer.output_tensor
        for i, node_cfg in enumerate(entry.get("inbound_nodes", [])):
            pending.append((layer, key, i, node_cfg))

    def decode(x):
        if isinstance(x, dict) and "__keras_tensor__" in x:
            name, node_index, t_index = x["__keras_tensor__"]
            out = tensors[(name, node_index)]
            return nest.flatten(out)[t_index] if not isinstance(out, KerasTensor) else out
        return x

    def ready(node_cfg) -> bool:
        return all((r[0], r[1]) in tensors for r in _refs(node_cfg))

    while pending:
        progressed = False
        for item in list(pending):
            layer, key, i, node_cfg = item
            if ready(node_cfg):
                args = [_walk(a, decode) for a in node_cfg.get("args", [])]
                kwargs = {k: _walk(v, decode) for k, v in node_cfg.get("kwargs", {}).items()}
                tensors[(key, i)] = layer(*args, **kwargs)
                pending.remove(item)
                progressed = True
        if not progressed:
            raise ValueError(
                "Invalid functional model config: some layer calls refer to tensors that are never produced "
                f"({[p[1] for p in pending]})."
            )

    def lookup(ref):
        out = tensors[(ref[0], ref[1])]
        return out if isinstance(out, KerasTensor) else nest.flatten(out)[ref[2]]

    def build_struct(s):
        if _is_ref(s):
            return lookup(s)
        if isinstance(s, dict):
            return {k: build_struct(v) for k, v in s.items()}
        return [build_struct(v) for v in s]

    inputs = build_struct(config["input_layers"])
    outputs = build_struct(config["output_layers"])
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _walk(x, fn):
    if isinstance(x, dict) and "__keras_tensor__" in x:
        return fn(x)
    if isinstance(x, list):
        return [_walk(v, fn) for v in x]
    if isinstance(x, dict):
        return {k: _walk(v, fn) for k, v in x.items()}
    return x


def _refs(x) -> list:
    if isinstance(x, dict):
        if "__keras_tensor__" in x:
            return [x["__keras_tensor__"]]
        return [r for v in x.values() for r in _refs(v)]
    if isinstance(x, list):
        return [r for v in x for r in _refs(v)]
    return []
