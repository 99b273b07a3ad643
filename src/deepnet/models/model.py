"""``Model``: the functional API (a graph of layer calls) and the base for subclassed models."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..layers.base import (
    InputLayer,
    KerasTensor,
    Layer,
    Node,
    accepted_kwargs,
    collect_shapes,
    filter_kwargs,
    format_shape,
    map_shapes,
)
from ..training.api import TrainingAPI
from ..utils import nest, symbolic
from ..utils.lazy import lazy_import
from ..utils.naming import to_snake_case, unique_name
from ..utils.registry import register_builtin
from ._layer_order import keras_layer_order

# saving is imported on first save/load (utils.lazy), so that `import deepnet` stays fast; so
# are the summary and the functional config code (first summary() / get_config()).
_summary = lazy_import("deepnet.models.summary")
_functional_config = lazy_import("deepnet.models._functional_config")
_archive = lazy_import("deepnet.saving.archive")
_export = lazy_import("deepnet.saving.export")
_weights = lazy_import("deepnet.saving.weights")
_distribution = lazy_import("deepnet.distribution")

__all__ = ["Model", "model_from_json"]


def _to_tensor(x: Any, dtype: torch.dtype | None = None) -> Any:
    """NumPy arrays (and Python lists of numbers) become tensors; floats take ``dtype``."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
        if t.is_floating_point() and dtype is not None:
            t = t.to(dtype)
        return t
    return x


def adjust_input_rank(x: Any, ref_shape: tuple) -> Any:
    """Keras' trailing-axis rule: a tensor one axis short of its Input's shape, whose last
    axis is 1, gets that axis added; one with an extra last axis of size 1 loses it.

    >>> from deepnet.models.model import adjust_input_rank
    >>> tuple(adjust_input_rank(torch.zeros(2, 28, 28), (None, 28, 28, 1)).shape)
    (2, 28, 28, 1)
    """
    if not isinstance(x, torch.Tensor) or x.dim() == len(ref_shape):
        return x
    if x.dim() == len(ref_shape) - 1 and ref_shape[-1] == 1:
        return x.unsqueeze(-1)
    if x.dim() == len(ref_shape) + 1 and x.shape[-1] == 1:
        return x.squeeze(-1)
    return x


class Model(TrainingAPI, Layer):
    """A model: a graph of layers built with the functional API, or a subclass with ``call``.

    Functional::

        inputs = deepnet.Input(shape=(784,))
        x = Dense(64, activation="relu")(inputs)
        outputs = Dense(10)(x)
        model = deepnet.Model(inputs, outputs)

    Subclassing::

        class MLP(deepnet.Model):
            def __init__(self):
                super().__init__()
                self.hidden = Dense(64, activation="relu")
                self.out = Dense(10)

            def call(self, x):
                return self.out(self.hidden(x))

    >>> inputs = dn.Input((3,))
    >>> model = dn.Model(inputs, dn.layers.Dense(2)(inputs))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> model.predict(np.ones((4, 3), "float32"), verbose=0).shape
    (4, 2)
    """

    def __init__(self, inputs=None, outputs=None, name: str | None = None, trainable: bool = True, **kwargs):
        if (inputs is None) != (outputs is None):
            raise ValueError(
                "Model(inputs, outputs) needs both `inputs` and `outputs` for the functional API "
                "(or neither, when subclassing Model). "
                f"Received inputs={'None' if inputs is None else '...'}, outputs={'None' if outputs is None else '...'}."
            )
        functional = inputs is not None
        if name is None:
            base = "functional" if functional or type(self) is Model else to_snake_case(type(self).__name__)
            name = unique_name(base)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._functional = functional
        self._traced_shapes: dict[str, Any] = {}
        if functional:
            self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ functional graph
    def _init_graph(self, inputs, outputs) -> None:
        self._input_struct = inputs
        self._output_struct = outputs
        flat_in = nest.flatten(inputs)
        flat_out = nest.flatten(outputs)
        if not flat_in or not flat_out:
            raise ValueError(f"Model needs at least one input and one output; received {len(flat_in)} input(s) and "
                             f"{len(flat_out)} output(s). help: Model(inputs=x, outputs=y) with x = deepnet.Input(...).")
        for t in flat_in:
            if not isinstance(t, KerasTensor) or not isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    "Model inputs must be tensors returned by deepnet.Input(...); "
                    f"received {t!r}. help: start the graph with x = deepnet.Input(shape=...)."
                )
        for t in flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"Model outputs must be symbolic tensors produced by calling layers on deepnet.Input; received {t!r}."
                )
        self._input_tensors: list[KerasTensor] = flat_in
        self._output_tensors: list[KerasTensor] = flat_out
        self._nodes = self._topological_nodes(flat_out)
        provided = {id(t) for t in flat_in}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer) and id(node.outputs) not in provided:
                users = [n.layer.name for n in self._nodes if any(t is node.outputs for t in n.input_tensors)]
                raise ValueError(
                    f"Graph disconnected: cannot obtain the value of input {node.layer.name!r} "
                    f"(needed by layer(s) {users}). The inputs given to Model were "
                    f"{[t.node.layer.name for t in flat_in]}. help: add it to `inputs`."
                )
        layers: list[Layer] = []
        for node in self._nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        self._register_layers(layers)  # torch registration (parameter order) stays as before
        self._graph_layers = keras_layer_order(flat_in, flat_out)
        self._compute_nodes = [n for n in self._nodes if not isinstance(n.layer, InputLayer)]
        self._plans = [self._plan(n) for n in self._compute_nodes]
        self.built = True

    @staticmethod
    def _topological_nodes(outputs: list[KerasTensor]) -> list[Node]:
        """Nodes reaching ``outputs`` in dependency order (iterative DFS: deep nets are fine)."""
        order: list[Node] = []
        state: dict[int, int] = {}  # 1 = on stack, 2 = done
        stack: list[tuple[Node, bool]] = [(t.node, False) for t in reversed(outputs)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if expanded:
                state[key] = 2
                order.append(node)
                continue
            if state.get(key) == 2:
                continue
            state[key] = 1
            stack.append((node, True))
            for t in reversed(node.input_tensors):
                seen_state = state.get(id(t.node))
                if seen_state == 1:
                    raise ValueError(
                        f"The layer graph has a cycle through layer {t.node.layer.name!r}. help: a layer's output "
                        "cannot feed back into its own inputs; check lists reused between layer calls."
                    )
                if seen_state != 2:
                    stack.append((t.node, False))
        seen, unique = set(), []
        for n in order:
            if id(n) not in seen:
                seen.add(id(n))
                unique.append(n)
        return unique

    def _register_layers(self, layers: list[Layer]) -> None:
        names: dict[str, Layer] = {}
        for layer in layers:
            if layer.name in names and names[layer.name] is not layer:
                raise ValueError(
                    f"All layer names in a model must be unique; the name {layer.name!r} is used by two "
                    "different layers. help: pass distinct `name=` arguments."
                )
            names[layer.name] = layer
            self._add_layer_module(layer)

    def _add_layer_module(self, layer: nn.Module) -> None:
        """Register ``layer`` as a submodule under its name, or, where the name is an attribute
        of the model (``half``, ``train``, ``inputs``: torch/Model methods that Keras names do
        not avoid), under ``name_`` (underscores added until free); ``get_layer`` and the
        Keras names still use the layer's name."""
        name = layer.name
        if "." in name or not name:
            raise ValueError(f"Layer name {name!r} cannot contain '.' or be empty. help: rename the layer.")
        for key, module in self._modules.items():
            if module is layer:
                return
            if getattr(module, "name", key) == name:
                raise ValueError(f"Model {self.name!r} already has a layer named {name!r}.")
        key = name
        while hasattr(type(self), key) or key in self.__dict__ or key in self._modules:
            key += "_"
        self.add_module(key, layer)

    @staticmethod
    def _plan(node: Node):
        accepts, has_var = accepted_kwargs(type(node.layer).call) if isinstance(node.layer, Layer) else (frozenset(), True)
        pass_training = "training" in accepts or has_var
        simple = (
            len(node.call_args) == 1 and not node.call_kwargs and isinstance(node.call_args[0], KerasTensor)
        )
        return node, simple, pass_training

    def _run_graph(self, inputs, training=None):
        values: dict[int, Any] = {}
        flat = self._match_inputs(inputs)
        for kt, v in zip(self._input_tensors, flat):
            values[id(kt)] = v
        get = lambda t: values[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
        for node, simple, pass_training in self._plans:
            kwargs = {"training": training} if (training is not None and pass_training) else {}
            if simple:
                out = node.layer(values[id(node.call_args[0])], **kwargs)
            else:
                args = nest.map_structure(get, node.call_args)
                kw = nest.map_structure(get, node.call_kwargs)
                if kwargs and "training" not in kw:
                    kw.update(kwargs)
                out = node.layer(*args, **kw)
            if isinstance(node.outputs, KerasTensor):
                values[id(node.outputs)] = out
            else:
                for kt, o in zip(nest.flatten(node.outputs), nest.flatten(out)):
                    values[id(kt)] = o
        return nest.map_structure(get, self._output_struct)

    def _match_inputs(self, inputs) -> list:
        n = len(self._input_tensors)
        if isinstance(inputs, dict):
            names = [t.node.layer.name for t in self._input_tensors]
            if isinstance(self._input_struct, dict):
                keys = list(self._input_struct)
                missing = [k for k in keys if k not in inputs]
                if missing:
                    raise ValueError(f"Model {self.name!r} is missing inputs {missing}; received keys {sorted(inputs)}.")
                flat = [inputs[k] for k in keys]
            else:
                missing = [k for k in names if k not in inputs]
                if missing:
                    raise ValueError(
                        f"Model {self.name!r} expects inputs named {names}; received keys {sorted(inputs)}."
                    )
                flat = [inputs[k] for k in names]
        else:
            flat = nest.flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != n:
            raise ValueError(
                f"Model {self.name!r} expects {n} input(s) "
                f"({', '.join(format_shape(t.shape) for t in self._input_tensors)}); received {len(flat)}."
            )
        return [adjust_input_rank(_to_tensor(x, t.dtype if t.dtype.is_floating_point else None), t.shape)
                for x, t in zip(flat, self._input_tensors)]

    # ------------------------------------------------------------------ nn.Module / Layer API
    def call(self, inputs, training=None, mask=None):
        if self._functional:
            return self._run_graph(inputs, training)
        raise NotImplementedError(
            f"{type(self).__name__} has no graph: pass inputs/outputs to Model(...) or override call()."
        )

    def _forward_info(self):
        # A graph passes on only a `training` given to the model; without one, each layer runs in
        # its own mode (Keras: a layer's own default applies, so augmentation layers augment).
        info = super()._forward_info()
        if self._runs_graph():
            self._fwd_info = info = (*info[:2], None)
        return info

    def _runs_graph(self) -> bool:
        return self._functional and type(self).call is Model.call

    def forward(self, *args, **kwargs):
        if not self._functional and not self.built and args:
            args = (nest.map_structure(lambda x: _to_tensor(x, self.dtype), args[0]), *args[1:])
        return super().forward(*args, **kwargs)

    def _build_shapes(self, args: tuple, kwargs: dict) -> tuple:
        first = args[0] if args else None
        if isinstance(first, dict) and first and all(isinstance(t, torch.Tensor) for t in first.values()):
            return ({k: (None, *t.shape[1:]) for k, t in first.items()},)  # a subclass called on a dict
        return super()._build_shapes(args, kwargs)

    def build(self, input_shape=None, *more):
        """Build a subclassed model by running it once on zeros of ``input_shape``."""
        if self._functional:
            return
        if input_shape is None:
            raise ValueError(f"{type(self).__name__}.build() needs an `input_shape`, e.g. build((None, 784)).")
        self._build_input_shape = input_shape
        self._build_args = (input_shape,)
        self._trace_shapes(input_shape)

    def _trace_shapes(self, input_shape) -> None:
        """Run the model once on zeros and remember each direct sublayer's output shape."""
        shapes: dict[str, Any] = {}
        hooks = []
        for layer in self.layers:
            def hook(mod, _inp, out, _name=layer.name):
                shapes[_name] = nest.map_structure(
                    lambda t: (None, *tuple(t.shape[1:])) if isinstance(t, torch.Tensor) else t, out
                )
            hooks.append(layer.register_forward_hook(hook))
        self.built = True
        was_training = self.training
        try:
            self.eval()
            dummy = map_shapes(lambda s: torch.zeros(tuple(2 if d is None else d for d in s), dtype=self.dtype), input_shape)
            with torch.no_grad(), symbolic.shape_inference(self):  # builds weights, changes no state
                self.call(dummy)
        finally:
            self.train(was_training)
            for h in hooks:
                h.remove()
        self._traced_shapes = shapes

    def compute_output_shape(self, *shapes, **kwargs):
        if not self._functional:
            return super().compute_output_shape(*shapes, **kwargs)
        values: dict[int, Any] = {}
        flat = collect_shapes(shapes)
        for kt, s in zip(self._input_tensors, flat):
            values[id(kt)] = s
        get = lambda t: values[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
        for node in self._compute_nodes:
            args = nest.map_structure(get, node.call_args)
            kw = nest.map_structure(get, node.call_kwargs)
            out = node.layer.compute_output_shape(*args, **filter_kwargs(node.layer.compute_output_shape, kw))
            outs = [out] if isinstance(node.outputs, KerasTensor) else collect_shapes(out)
            for kt, o in zip(nest.flatten(node.outputs), outs):
                values[id(kt)] = o
        return nest.map_structure(get, self._output_struct)

    # ------------------------------------------------------------------ introspection
    @property
    def layers(self) -> list[Layer]:
        """The model's layers (input layers included for functional models, like Keras)."""
        if self._functional:
            return list(self._graph_layers)
        return [m for m in self.children() if isinstance(m, Layer)]

    def _weight_entries(self):
        """Functional models list weights layer by layer in ``layers`` order (Keras' graph
        order), so ``weights``/``get_weights``/``set_weights`` line up with Keras for branched
        graphs; the optimizer keeps torch's registration order (``parameters()``)."""
        entries = super()._weight_entries()
        if not self._functional:
            return entries
        rank = {}
        for i, layer in enumerate(self._graph_layers):
            for t in layer.weights:
                rank.setdefault(id(t), i)
        last = len(self._graph_layers)
        return sorted(entries, key=lambda e: rank.get(id(e[0]), last))  # stable within a layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if (name is None) == (index is None):
            raise ValueError(f"get_layer: pass exactly one of `name` or `index`; received name={name!r}, index={index!r}.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Model {self.name!r} has {len(layers)} layers; received index={index}.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r} in model {self.name!r}. Layers: {[layer.name for layer in layers]}.")

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors) if self._functional else []

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors) if self._functional else []

    @property
    def input(self):
        if self._functional:
            return self._input_struct
        return super().input

    @property
    def output(self):
        if self._functional:
            return self._output_struct
        return super().output

    @property
    def input_shape(self):
        return map_shapes(lambda s: s, nest.map_structure(lambda t: t.shape, self.input))

    @property
    def output_shape(self):
        """The output shape with ``None`` for the batch axis; a list of them for several outputs
        (Keras: one shape when the model has one output, whatever its structure).

        >>> inputs = dn.Input((3,))
        >>> dn.Model(inputs, [dn.layers.Dense(2)(inputs), dn.layers.Dense(4)(inputs)]).output_shape
        [(None, 2), (None, 4)]
        """
        if not self._functional:
            return super().output_shape
        shapes = [tuple(t.shape) for t in nest.flatten(self._output_struct)]
        return shapes[0] if len(shapes) == 1 else shapes

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"Model {self.name!r} is not built yet, so it has no weights to count. "
                "help: start it with an Input(shape=...) layer, call model.build(input_shape), or call "
                "the model on a batch of data."
            )
        return super().count_params()

    def summary(self, line_length: int | None = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        _summary.print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                               expand_nested=expand_nested, show_trainable=show_trainable)

    # ------------------------------------------------------------------ files
    def save_weights(self, filepath) -> None:
        """Save all weights to a ``.safetensors`` file (atomic write). In a distributed run
        every process calls it; rank 0 writes (sharded weights gathered) and the others wait."""
        _distribution.write_on_main(self, lambda: _weights.save_weights(self, filepath))

    def load_weights(self, filepath) -> None:
        """Load weights from a ``.safetensors`` file written by :meth:`save_weights`."""
        _weights.load_weights(self, filepath)

    # --- saving (issue 4) ---
    def save(self, filepath, overwrite: bool = True) -> None:
        """Save the whole model (architecture, weights, compile config, optimizer state) to a
        ``.deepnet`` file, atomically; reload it with ``deepnet.load_model(filepath)``. In a
        distributed run every process calls it; rank 0 writes (FSDP2-sharded weights gathered
        into a normal file) and the others return once the file is complete."""
        _distribution.write_on_main(self, lambda: _archive.save_model(self, filepath, overwrite=overwrite))

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON (``json.dumps`` keyword arguments are passed on); rebuild it
        with ``deepnet.models.model_from_json(text)``."""
        return _archive.model_to_json(self, **kwargs)

    def export(self, filepath, format: str = "onnx", **kwargs):
        """Export for inference: ``format="onnx"`` (needs ``onnx``; dynamic batch axis) or
        ``format="torch"`` (a ``torch.export`` program, ``.pt2``). See ``docs/saving.md``."""
        return _export.export_model(self, filepath, format=format, **kwargs)
    # --- end saving (issue 4) ---

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        if not self._functional:
            return {"name": self.name, "trainable": self.trainable}
        return _functional_config.functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        if "layers" not in config:
            return cls(**config)
        return _functional_config.functional_from_config(cls, config, custom_objects)


register_builtin(Model)  # configs of nested models name this class


def model_from_json(json_string, custom_objects: dict | None = None):
    """Rebuild a model (fresh weights) from ``model.to_json()``; a thin wrapper over
    :func:`deepnet.saving.model_from_json` (nothing in the text is executed).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.models.model_from_json(model.to_json()).count_params()
    8
    """
    return _archive.model_from_json(json_string, custom_objects)
