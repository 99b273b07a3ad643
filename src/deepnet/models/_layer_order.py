"""The order in which a functional model lists its layers: Keras' order (by depth in the graph,
from the inputs to the outputs; within one depth, by first visit of a depth-first walk from the
outputs), so ``model.layers[i]``, ``summary()`` rows and the layer paths of Keras weights files
match Keras for branched graphs too."""

from __future__ import annotations

from typing import Any

__all__ = ["keras_layer_order"]


def _walk(outputs: list) -> tuple[list, dict[int, int]]:
    """Depth-first walk from ``outputs``: the nodes in post-order (inputs first) and each
    layer's first-visit (pre-order) index, keyed by ``id(layer)``."""
    post: list = []
    visit: dict[int, int] = {}
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[Any, int]] = [(out.node, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                if id(node) in done:
                    continue
                visit.setdefault(id(node.layer), len(visit))
            parents = node.input_tensors
            if i < len(parents):
                stack.append((node, i + 1))
                if id(parents[i].node) not in done:
                    stack.append((parents[i].node, 0))
                continue
            if id(node) not in done:
                done.add(id(node))
                post.append(node)
    return post, visit


def _layer_depths(post: list) -> tuple[dict[int, int], dict[int, Any]]:
    """Each layer's depth (distance to the outputs, the largest over its calls) as Keras
    counts it, walking the nodes from the outputs back to the inputs."""
    in_graph = {id(n) for n in post}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Any] = {}
    for node in reversed(post):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for t in node.input_tensors:
            if id(t.node) in in_graph:
                node_depth[id(t.node)] = max(depth + 1, node_depth.get(id(t.node), 0))
    return layer_depth, layers


def keras_layer_order(inputs: list, outputs: list) -> list:
    """The layers of the graph from ``inputs`` to ``outputs`` in Keras' ``model.layers`` order.

    >>> from deepnet.models._layer_order import keras_layer_order
    >>> x = dn.Input((3,), name="x")
    >>> a = dn.layers.Dense(2, name="a")(x)
    >>> b = dn.layers.Dense(2, name="b")(dn.layers.Dense(2, name="c")(x))
    >>> [layer.name for layer in keras_layer_order([x], [dn.layers.Add(name="add")([a, b])])]
    ['x', 'c', 'a', 'b', 'add']
    """
    post, visit = _walk(outputs)
    depth, layers = _layer_depths(post)
    for t in inputs:  # an input no output depends on still belongs to the model (depth 0)
        if id(t.node.layer) not in depth:
            depth[id(t.node.layer)] = 0
            visit[id(t.node.layer)] = -1
            layers[id(t.node.layer)] = t.node.layer
    return [layers[k] for k in sorted(depth, key=lambda k: (-depth[k], visit[k]))]
