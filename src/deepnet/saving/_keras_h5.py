"""Keras 3's HDF5 weights layout (``model.weights.h5`` in a ``.keras`` file, ``*.weights.h5``).

Keras stores each layer's own variables as datasets ``<path>/vars/0``, ``vars/1``... where the
path follows the object tree: a graph model's layers under ``layers/<snake_case class name>``
(``dense``, ``dense_1``... counted per class in the order of ``model.layers``), a layer's
sublayers under their attribute names (``cell`` of an RNN, ``forward_layer`` of a
``Bidirectional``, ``query_dense`` of ``MultiHeadAttention``). deepnet keeps every layer's
weights in Keras' order and layout (``get_weights``), so this module only needs, for each
layer, the dataset path of each of its weights: :func:`layer_paths`.
"""

from __future__ import annotations

from ..layers.base import InputLayer, Layer
from ..utils.naming import to_snake_case
from ..utils.registry import get_registered_name
from ._architecture import is_model
from ._keras_config import keras_class_of
from .safe import ModelFileError

__all__ = ["layer_paths", "model_layer_paths", "read_h5_weights", "sublayer_paths", "write_h5_weights"]

_RNN = {"LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}
_ATTENTION_PARTS = ("query_dense", "key_dense", "value_dense", "output_dense")
# Datasets Keras writes twice: SpectralNormalization tracks the wrapped kernel as its own variable
# too (own vars: [kernel, vector_u]). alias -> the dataset it repeats (relative to the layer).
_ALIASES = {"SpectralNormalization": (("vars/0", "layer/vars/0"),)}


def _vars(prefix: str, count: int) -> list[str]:
    return [_join(prefix, f"vars/{i}") for i in range(count)]


def _class(layer, names: dict | None = None) -> str:
    """Keras' class name of ``layer``: the one its ``.keras`` config names when known (``names``:
    layer name -> class name), else the one deepnet registered it under."""
    if names and layer.name in names:
        return names[layer.name]
    return keras_class_of(get_registered_name(layer))


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name  # Keras visits private attributes last


def _container_paths(layer, prefix: str, names) -> list[tuple[Layer, str]]:
    """Sublayers held in list/tuple/dict attributes: ``<attr>/<snake class>[_k]`` (Keras' rule)."""
    out = []
    for attr in sorted(a for a in vars(layer) if not a.startswith("_")):  # not torch's _modules...
        value = vars(layer)[attr]
        items = list(value.values()) if isinstance(value, dict) else value
        if isinstance(items, (list, tuple)) and any(isinstance(v, Layer) for v in items):
            out += _numbered(items, _join(prefix, attr), names)
    return out


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _numbered(items, prefix: str, names) -> list[tuple[Layer, str]]:
    """``<prefix>/<snake class>[_k]`` for the layers of a list (Keras' container naming)."""
    used: dict[str, int] = {}
    out = []
    for item in items:
        if isinstance(item, Layer):
            key = to_snake_case(_class(item, names))
            used[key] = used.get(key, -1) + 1
            out.append((item, _join(prefix, key if used[key] == 0 else f"{key}_{used[key]}")))
    return out


def _sublayers(layer, prefix: str, names) -> list[tuple[Layer, str]]:
    """Each sublayer of ``layer`` with its group path: list attributes first (deepnet also
    registers their items as numbered torch children, which Keras does not have), then the
    sublayers held in attributes, visited in Keras' order (sorted, private names last). In a
    subclassed model Keras' ``layers`` property (every sublayer) is one of those attributes."""
    out = _container_paths(layer, prefix, names)
    seen = {id(child) for child, _ in out}
    direct = [(attr, child) for attr, child in layer.named_children() if isinstance(child, Layer)]
    groups = [(attr, [(child, _join(prefix, attr))]) for attr, child in direct]
    if is_model(layer):
        groups.append(("layers", _numbered([c for _, c in direct], _join(prefix, "layers"), names)))
    for _, members in sorted(groups, key=lambda g: _name_key(g[0])):
        for child, path in members:
            if id(child) not in seen:
                seen.add(id(child))
                out.append((child, path))
    return out


def _graph_layers(model) -> list:
    """The layers Keras' ``model.layers`` lists (not op nodes, not a Sequential's Input)."""
    layers = [lay for lay in model.layers if isinstance(lay, Layer) and get_registered_name(lay) != "Operation"]
    if _class(model) == "Sequential":
        layers = [lay for lay in layers if not isinstance(lay, InputLayer)]
    return layers


def model_layer_paths(model, prefix: str, names: dict | None = None) -> list[tuple[Layer, str]]:
    """``(layer, group path)`` of each layer of a graph model, named as Keras names them.

    >>> from deepnet.saving._keras_h5 import model_layer_paths
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2), dn.layers.Dense(1)])
    >>> [path for _, path in model_layer_paths(model, "")]
    ['layers/dense', 'layers/dense_1']
    """
    used: dict[str, int] = {}
    out = []
    for layer in _graph_layers(model):
        key = to_snake_case(_class(layer, names))
        used[key] = used.get(key, -1) + 1
        name = key if used[key] == 0 else f"{key}_{used[key]}"
        out.append((layer, f"{prefix}/layers/{name}".lstrip("/")))
    return out


def sublayer_paths(layer, prefix: str, names: dict | None = None) -> list[tuple[Layer, str]]:
    """``(sublayer, path)`` of the layers directly inside ``layer`` (a graph model's layers, a
    layer's sublayers), with Keras' paths.

    >>> from deepnet.saving._keras_h5 import sublayer_paths
    >>> [path for _, path in sublayer_paths(dn.layers.Bidirectional(dn.layers.LSTM(2)), "layers/bidirectional")]
    ['layers/bidirectional/backward_layer', 'layers/bidirectional/forward_layer']
    """
    return model_layer_paths(layer, prefix, names) if _is_graph(layer) else _sublayers(layer, prefix, names)


def _is_graph(layer) -> bool:
    return _class(layer) in ("Sequential", "Functional") and hasattr(layer, "layers")


def layer_paths(layer, prefix: str, names: dict | None = None) -> list[str]:
    """The HDF5 dataset path of each weight of ``layer`` (in ``layer.get_weights()`` order).

    >>> from deepnet.saving._keras_h5 import layer_paths
    >>> lstm = dn.layers.LSTM(2)
    >>> _ = lstm(torch.ones(1, 4, 3))
    >>> layer_paths(lstm, "layers/lstm")
    ['layers/lstm/cell/vars/0', 'layers/lstm/cell/vars/1', 'layers/lstm/cell/vars/2']
    """
    cls = _class(layer, names)
    count = len(layer.weights)
    if _is_graph(layer):
        return [p for sub, path in model_layer_paths(layer, prefix, names) for p in layer_paths(sub, path, names)]
    if cls in _RNN:
        return _vars(_join(prefix, "cell"), count)
    if cls == "SpectralNormalization":
        inner = layer_paths(layer.layer, _join(prefix, "layer"), names)
        return inner[:1] + [_join(prefix, "vars/1")] + inner[1:]  # Keras' order: kernel, vector_u, bias
    if cls == "MultiHeadAttention":
        per = 2 if getattr(layer, "use_bias", True) else 1
        return [p for part in _ATTENTION_PARTS for p in _vars(_join(prefix, part), per)]
    children = _sublayers(layer, prefix, names)
    if not children:
        return _vars(prefix, count)
    own = [t for t, _ in layer._own_weights()]
    where = {id(t): path for t, path in zip(own, _vars(prefix, len(own)))}
    for child, path in children:
        for t, p in zip(child.weights, layer_paths(child, path, names)):
            where.setdefault(id(t), p)
    return [where.get(id(t), _join(prefix, f"vars/{i}")) for i, t in enumerate(layer.weights)]


def _all_paths(model, names: dict | None = None) -> list[tuple[Layer, str, list[str]]]:
    """``(layer, group, dataset paths)`` of every layer holding weights (the model itself when
    it is not a graph)."""
    if _is_graph(model):
        return [(layer, path, layer_paths(layer, path, names)) for layer, path in model_layer_paths(model, "", names)]
    return [(model, "", layer_paths(model, "", names))]


def _datasets(h5) -> dict[str, object]:
    found: dict[str, object] = {}

    def visit(name, obj):
        if hasattr(obj, "shape") and not name.startswith("optimizer/"):
            found[name] = obj

    h5.visititems(visit)
    return found


def read_h5_weights(model, h5, where: str, names: dict | None = None) -> None:
    """Load every weight of ``model`` from an open ``h5py.File`` in Keras' layout; the file's
    datasets and the model's weights must match one to one (paths, shapes), else nothing is
    changed and :class:`ModelFileError` says what differs. ``names`` maps layer names to the
    Keras class names a ``.keras`` config gives them (the groups are named after those)."""
    stored = _datasets(h5)
    plan, expected = [], set()
    for layer, _, paths in _all_paths(model, names):
        current = layer.get_weights()
        for path, value in zip(paths, current):
            expected.add(path)
            if path not in stored:
                raise ModelFileError(
                    f"{where}: no weight {path!r} for layer {layer.name!r}; the file was saved from a different "
                    f"architecture (it holds {len(stored)} weights: {sorted(stored)[:6]}...)."
                )
            if tuple(stored[path].shape) != tuple(value.shape):
                raise ModelFileError(
                    f"{where}: weight {path!r} of layer {layer.name!r} has shape {tuple(stored[path].shape)}; the "
                    f"model expects {tuple(value.shape)}."
                )
        plan.append((layer, paths))
    for layer, group, _ in _all_paths(model, names):
        expected.update(f"{group}/{alias}".lstrip("/") for alias, _ in _ALIASES.get(_class(layer, names), ()))
    extra = sorted(set(stored) - expected)
    if extra:
        raise ModelFileError(f"{where}: the file holds weights the model does not have: {extra[:6]}.")
    for layer, paths in plan:
        if paths:
            layer.set_weights([stored[p][()] for p in paths])


def _group(h5, path: str, name: str | None):
    group = h5.require_group(path) if path else h5
    if name is not None:
        group.attrs["name"] = name
    return group


def write_h5_weights(model, h5) -> None:
    """Write every weight of ``model`` into an open, writable ``h5py.File`` in Keras' layout
    (also the empty ``vars`` groups Keras writes for layers without weights)."""
    _group(h5, "vars", model.name)
    if _is_graph(model):
        _group(h5, "layers", None)
    for layer, group, paths in _all_paths(model):
        if layer is not model:
            _group(h5, f"{group}/vars", layer.name)
        for path, value in zip(paths, layer.get_weights()):
            h5.create_dataset(path, data=value)
        for alias, source in _ALIASES.get(_class(layer), ()):
            h5.create_dataset(f"{group}/{alias}".lstrip("/"), data=h5[f"{group}/{source}".lstrip("/")][()])
