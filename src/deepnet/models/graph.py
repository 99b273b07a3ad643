"""The layer graph of a model as diagram nodes (used by ``plot_model``), and the functional-model
config functions (re-exported from :mod:`deepnet.models._functional_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers.base import InputLayer
from ..utils.serialization import deserialize_layer, serialize_layer
from ._functional_config import functional_config, functional_from_config, node_indices
from .sequential import Sequential
from .summary import layer_output_shape, layer_type_name

__all__ = [
    "GraphNode", "deserialize_layer", "functional_config", "functional_from_config", "layer_graph",
    "node_indices", "serialize_layer",
]

# ----------------------------------------------------------------------------- plotting graph


@dataclass
class GraphNode:
    """One box of a model diagram.

    >>> from deepnet.models.graph import GraphNode
    >>> GraphNode("1", "dense", "Dense", (None, 3), (None, 2), params=8).inbound
    []
    """

    id: str
    name: str
    type: str
    input_shape: Any
    output_shape: Any
    params: int
    inbound: list[str] = field(default_factory=list)


def layer_graph(model) -> list[GraphNode]:
    """The model's layers as diagram nodes in dependency order; ``inbound`` holds the ids of
    the nodes feeding each one (branches and merges show as several edges).

    >>> from deepnet.models.graph import layer_graph
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2, name="d")])
    >>> [(node.name, node.type, node.params) for node in layer_graph(model)]
    [('input_layer', 'InputLayer', 0), ('d', 'Dense', 8)]
    """
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
