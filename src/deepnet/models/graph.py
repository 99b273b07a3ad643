"""Functional-model config (graph <-> JSON-able dict) and the layer graph used by plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers.base import InputLayer, KerasTensor, Layer
from ..utils import nest
from ..utils.lookup import unknown_name_error
from ..utils.registry import get_registered_class, registered_names


def serialize_layer(layer: Layer) -> dict:
    return {"class_name": getattr(type(layer), "_registered_name", type(layer).__name__), "config": layer.get_config()}


def deserialize_layer(config: dict, custom_objects: dict | None = None) -> Layer:
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config'; received {config!r}.")
    name = config["class_name"]
    cls = get_registered_class(name, custom_objects)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise unknown_name_error("layer class", str(name), [n for n in registered_names() if ">" not in n])
    inner = config.get("config", {})
    if hasattr(cls, "from_config"):
        try:
            return cls.from_config(inner, custom_objects) if issubclass(cls, _model_cls()) else cls.from_config(inner)
        except TypeError as e:
            raise ValueError(f"Invalid config for layer class {name!r}: {e}") from e
    return cls(**inner)


def _model_cls():
    from .model import Model

    return Model


def _node_indices(model) -> dict[int, tuple[str, int]]:
    """id(node) -> (layer name, index of the node among that layer's nodes in this model)."""
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
    index = _node_indices(model)
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
    created: dict[str, Layer] = {}
    tensors: dict[tuple[str, int], Any] = {}  # (layer, node index) -> outputs
    pending: list[tuple[Layer, int, dict]] = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        created[entry.get("name", layer.name)] = layer
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0)] = layer.output_tensor
        for i, node_cfg in enumerate(entry.get("inbound_nodes", [])):
            pending.append((layer, i, node_cfg))

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
            layer, i, node_cfg = item
            if ready(node_cfg):
                args = [_walk(a, decode) for a in node_cfg.get("args", [])]
                kwargs = {k: _walk(v, decode) for k, v in node_cfg.get("kwargs", {}).items()}
                tensors[(layer.name, i)] = layer(*args, **kwargs)
                pending.remove(item)
                progressed = True
        if not progressed:
            raise ValueError(
                "Invalid functional model config: some layer calls refer to tensors that are never produced "
                f"({[p[0].name for p in pending]})."
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


# ----------------------------------------------------------------------------- plotting graph


@dataclass
class GraphNode:
    """One box of a model diagram."""

    id: str
    name: str
    type: str
    input_shape: Any
    output_shape: Any
    params: int
    inbound: list[str] = field(default_factory=list)


def layer_graph(model) -> list[GraphNode]:
    """The model's layers as diagram nodes in dependency order; ``inbound`` holds the ids of
    the nodes feeding each one (branches and merges show as several edges)."""
    from .sequential import Sequential
    from .summary import layer_output_shape, layer_type_name

    nodes: list[GraphNode] = []
    if isinstance(model, Sequential) or not getattr(model, "_functional", False):
        prev = None
        layers = model.layers
        if isinstance(model, Sequential) and model._input_layer is not None:
            layers = [model._input_layer, *layers]
        for layer in layers:
            out = layer_output_shape(model, layer)
            in_shape = nodes[-1].output_shape if nodes else getattr(layer, "batch_shape", None)
            nodes.append(GraphNode(layer.name, layer.name, layer_type_name(layer), in_shape, out,
                                   _safe_params(layer), [prev] if prev else []))
            prev = layer.name
        return nodes
    for layer in model.layers:
        inbound, in_shapes = [], []
        for node in model._nodes:
            if node.layer is layer:
                for t in node.input_tensors:
                    if t.node.layer.name not in inbound:
                        inbound.append(t.node.layer.name)
                    in_shapes.append(t.shape)
        in_shape = getattr(layer, "batch_shape", None) if isinstance(layer, InputLayer) else (in_shapes[0] if len(in_shapes) == 1 else in_shapes)
        nodes.append(GraphNode(layer.name, layer.name, layer_type_name(layer), in_shape,
                               layer_output_shape(model, layer), _safe_params(layer), inbound))
    return nodes


def _safe_params(layer) -> int:
    try:
        return layer.count_params()
    except ValueError:
        return 0
