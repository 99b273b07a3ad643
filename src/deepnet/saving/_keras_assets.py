"""The ``assets/`` folder of a ``.keras`` archive: vocabularies of the lookup layers.

Keras writes the vocabulary a ``StringLookup``, ``IntegerLookup`` or ``TextVectorization``
learned with ``adapt`` as ``assets/<path>/vocabulary.txt`` (one term a line, the mask and OOV
tokens first; ``<path>`` is the layer's path in the weights file, e.g. ``layers/string_lookup``,
and a ``TextVectorization``'s inner lookup layer has its own copy under ``_lookup_layer``) and
leaves ``vocabulary`` empty in the config; a vocabulary given to the constructor stays in the
config. deepnet's layers keep the vocabulary in their config: reading sets it from the asset,
writing moves it to the asset (Keras' layout for an adapted layer). Only ``vocabulary.txt``
files under ``assets/`` are read, as text; nothing is executed.
"""

from __future__ import annotations

import os
import tempfile

from ._keras_h5 import model_layer_paths, sublayer_paths
from .safe import MiB, ModelFileError

__all__ = ["ASSET_LIMIT", "asset_members", "read_assets", "read_custom_assets", "unclaimed_assets",
           "write_assets", "write_custom_assets"]

#: The largest vocabulary file read from a ``.keras`` archive.
ASSET_LIMIT = 256 * MiB
_PREFIX, _FILE = "assets/", "vocabulary.txt"


def asset_members(names) -> set[str]:
    """The archive members that are assets (files under ``assets/`` with a plain relative path:
    vocabularies, and what custom layers' ``save_assets`` wrote); any other member stays
    unexpected (and is refused by the reader).

    >>> from deepnet.saving._keras_assets import asset_members
    >>> sorted(asset_members(["config.json", "assets/layers/string_lookup/vocabulary.txt", "assets/../x"]))
    ['assets/layers/string_lookup/vocabulary.txt']
    """
    return {n for n in names if n.startswith(_PREFIX)
            and not any(part in ("", ".", "..") for part in n.split("/"))}


def _has_vocabulary(layer) -> bool:
    return hasattr(layer, "set_vocabulary") and hasattr(layer, "get_vocabulary")


def _saves_assets(layer) -> bool:
    return callable(getattr(layer, "save_assets", None))


def _loads_assets(layer) -> bool:
    return callable(getattr(layer, "load_assets", None))


def _vocabulary_layers(model, names=None, want=_has_vocabulary) -> list[tuple[object, str]]:
    """``(layer, path)`` of every layer for which ``want(layer)`` (default: every layer with a
    vocabulary), parents before their sublayers."""
    out, stack = [], list(reversed(model_layer_paths(model, "", names) if hasattr(model, "layers") else []))
    while stack:
        layer, path = stack.pop()
        if want(layer):
            out.append((layer, path))
        stack.extend(reversed(sublayer_paths(layer, path, names)))
    return out


def read_assets(model, assets: dict[str, bytes], where: str, names=None) -> None:
    """Set the vocabulary of each lookup layer that has none from its ``vocabulary.txt``."""
    for layer, path in _vocabulary_layers(model, names):
        data = assets.get(f"{_PREFIX}{path}/{_FILE}")
        if data is None or layer.get_vocabulary(include_special_tokens=False):
            continue
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise ModelFileError(f"{where}: {_PREFIX}{path}/{_FILE} is not UTF-8 text ({e}).") from None
        while lines and lines[-1] == "":
            lines.pop()
        try:
            layer.set_vocabulary(lines)
        except ValueError as e:
            raise ModelFileError(f"{where}: the vocabulary of layer {layer.name!r} ({_PREFIX}{path}/{_FILE}) does "
                                 f"not fit it: {e}") from None


def _config_entries(config: dict) -> dict[str, dict]:
    """Layer name -> its config dict, for every layer of the graphs in a Keras config."""
    out, stack = {}, [config]
    while stack:
        entry = stack.pop()
        inner = entry.get("config") if isinstance(entry, dict) else None
        if isinstance(inner, dict):
            out.setdefault(str(inner.get("name")), inner)
            stack.extend(e for e in inner.get("layers", []) if isinstance(inner.get("layers"), list))
    return out


def write_assets(model, config: dict) -> list[tuple[str, bytes]]:
    """``(member name, bytes)`` of the vocabulary assets of ``model``; the vocabularies they
    hold are left out of ``config`` (Keras' config), as Keras does for an adapted layer. Layers
    in ``tf_idf`` mode keep theirs in the config (Keras needs the IDF weights with them).

    >>> from deepnet.saving._keras_assets import write_assets
    >>> model = dn.Sequential([dn.Input((1,), dtype="int64"), dn.layers.IntegerLookup(vocabulary=[7, 3])])
    >>> config = {"config": {"layers": [{"config": {"name": model.layers[0].name, "vocabulary": [7, 3]}}]}}
    >>> write_assets(model, config), config["config"]["layers"][0]["config"]["vocabulary"]
    ([('assets/layers/integer_lookup/vocabulary.txt', b'-1\\n7\\n3')], None)
    """
    entries = _config_entries(config)
    out = []
    for layer, path in _vocabulary_layers(model):
        entry = entries.get(layer.name)
        if getattr(layer, "output_mode", None) == "tf_idf":
            continue
        vocabulary = layer.get_vocabulary(include_special_tokens=True)
        if not layer.get_vocabulary(include_special_tokens=False):
            continue
        out.append((f"{_PREFIX}{path}/{_FILE}", "\n".join(str(t) for t in vocabulary).encode("utf-8")))
        if entry is not None and entry.get("vocabulary") is not None:
            entry["vocabulary"] = None
    return out


def write_custom_assets(model) -> list[tuple[str, bytes]]:
    """``(member name, bytes)`` of the files each custom layer's ``save_assets(dir)`` writes
    (Keras' hook), under ``assets/<layer path>/``."""
    out = []
    for layer, path in _vocabulary_layers(model, want=_saves_assets):
        with tempfile.TemporaryDirectory() as tmp:
            layer.save_assets(tmp)
            for root, dirs, files in os.walk(tmp):
                dirs.sort()
                for file in sorted(files):
                    full = os.path.join(root, file)
                    rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        out.append((f"{_PREFIX}{path}/{rel}", f.read()))
    return out


def unclaimed_assets(model, assets, names=None) -> list[str]:
    """The asset members no layer of ``model`` reads: neither a lookup layer's
    ``vocabulary.txt`` nor a file under the folder of a layer with a ``load_assets`` hook (the
    loader refuses them, as it refuses any other unexpected member).

    >>> from deepnet.saving._keras_assets import unclaimed_assets
    >>> model = dn.Sequential([dn.Input((1,), dtype="int64"), dn.layers.IntegerLookup(vocabulary=[7, 3])])
    >>> unclaimed_assets(model, ["assets/layers/integer_lookup/vocabulary.txt", "assets/layers/integer_lookup/x.py"])
    ['assets/layers/integer_lookup/x.py']
    """
    vocabularies = {f"{_PREFIX}{path}/{_FILE}" for _, path in _vocabulary_layers(model, names)}
    folders = tuple(f"{_PREFIX}{path}/" for _, path in _vocabulary_layers(model, names, _loads_assets))
    return sorted(a for a in assets if a not in vocabularies and not a.startswith(folders or ("\0",)))


def read_custom_assets(model, assets: dict[str, bytes], names=None) -> None:
    """Call each custom layer's ``load_assets(dir)`` (Keras' hook) with a folder holding the
    files saved under ``assets/<layer path>/`` (member names checked by :func:`asset_members`)."""
    for layer, path in _vocabulary_layers(model, names, _loads_assets):
        prefix = f"{_PREFIX}{path}/"
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in assets.items():
                if name.startswith(prefix):
                    target = os.path.join(tmp, *name[len(prefix):].split("/"))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(data)
            layer.load_assets(tmp)
