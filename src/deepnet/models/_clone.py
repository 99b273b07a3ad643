"""``clone_model``: the same architecture with new layers (fresh weights), as Keras does."""

from __future__ import annotations

from ..layers import InputLayer, KerasTensor
from ..utils import nest
from .model import Model
from .sequential import Sequential

__all__ = ["clone_model"]


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def _clone_input(layer, given):
    if given is not None:
        return given
    return InputLayer.from_config(layer.get_config()).output_tensor


def _clone_sequential(model, input_tensors, clone_function):
    clone = Sequential(name=model.name)
    if input_tensors is not None:
        given = nest.flatten(input_tensors)
        if len(given) != 1 or not isinstance(given[0], KerasTensor):
            raise ValueError("clone_model of a Sequential takes one `input_tensors` tensor (from deepnet.Input); "
                             f"received {input_tensors!r}.")
        clone.add(given[0].node.layer)
    elif model._input_layer is not None:
        clone.add(InputLayer.from_config(model._input_layer.get_config()))
    for layer in model.layers:
        clone.add(clone_function(layer))
    return clone


def _clone_functional(model, input_tensors, clone_function, call_function):
    given = [None] * len(model.inputs) if input_tensors is None else nest.flatten(input_tensors)
    if len(given) != len(model.inputs):
        raise ValueError(f"clone_model: the model has {len(model.inputs)} input(s) but `input_tensors` holds "
                         f"{len(given)}.")
    new = {id(t): _clone_input(t.node.layer, g) for t, g in zip(model.inputs, given)}
    layers = {}
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        if id(node.layer) not in layers:
            layers[id(node.layer)] = clone_function(node.layer)
        swap = lambda v: new[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
        args = nest.map_structure(swap, node.call_args)
        kwargs = nest.map_structure(swap, node.call_kwargs)
        layer = layers[id(node.layer)]
        outputs = call_function(layer, *args, **kwargs) if call_function else layer(*args, **kwargs)
        for old, fresh in zip(nest.flatten(node.outputs), nest.flatten(outputs)):
            new[id(old)] = fresh
    swap = lambda v: new[id(v)]  # noqa: E731
    return Model(nest.map_structure(swap, model._input_struct), nest.map_structure(swap, model._output_struct),
                 name=model.name)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model of the same architecture: every layer re-created from its config (fresh
    weights; copy them with ``clone.set_weights(model.get_weights())``).

    ``clone_function(layer)`` makes each new layer (default: ``from_config(get_config())``);
    ``input_tensors`` feeds the clone from given ``deepnet.Input`` tensors; for functional models
    ``call_function(layer, *args, **kwargs)`` replaces each layer call. ``recursive=True`` also
    rebuilds nested functional/Sequential models layer by layer. Subclassed models cannot be
    cloned (their graph is code), as in Keras.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> clone = dn.models.clone_model(model)
    >>> clone.count_params(), clone.layers[0] is model.layers[0]
    (8, False)
    """
    if kwargs:
        raise TypeError(f"clone_model got unexpected keyword arguments {sorted(kwargs)}.")
    base = clone_function or _default_clone
    if recursive:
        def clone_function(layer):
            if isinstance(layer, Sequential) or (isinstance(layer, Model) and layer._functional):
                return clone_model(layer, clone_function=base, call_function=call_function, recursive=True)
            return base(layer)
    else:
        clone_function = base
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if isinstance(model, Model) and model._functional:
        return _clone_functional(model, input_tensors, clone_function, call_function)
    raise ValueError(f"clone_model expects a Sequential or functional Model; received {type(model).__name__} "
                     f"{getattr(model, 'name', '')!r}, a subclassed model whose graph is code. help: build a new "
                     "instance of its class instead.")
