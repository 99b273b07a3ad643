"""Safe reading and writing of deepnet archives: validated zip members, bounded JSON and a
tagged JSON codec for nested state (optimizer, RNG, callbacks) whose tensors go to safetensors.

Nothing here ever unpickles, imports or evaluates anything read from a file. Shared by the
model file format (:mod:`deepnet.saving.archive`) and backups
(:mod:`deepnet.training.backup`).
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Iterable
from typing import Any

import torch

from ..utils.io import atomic_write

__all__ = [
    "GiB", "MiB", "ModelFileError", "decode_state", "dump_json", "encode_state", "parse_json",
    "read_archive", "safetensors_header", "tensors_from_bytes", "tensors_to_bytes", "write_archive",
]

MiB = 1 << 20
GiB = 1 << 30

#: Most entries a central directory may list (deepnet archives have at most 5).
MAX_ENTRIES = 16
#: A DEFLATE member may expand to at most this ratio of its compressed size (plus 1 MiB).
MAX_DEFLATE_RATIO = 100
#: Deepest JSON nesting accepted (functional configs use about 10 levels).
MAX_JSON_DEPTH = 64
#: Safetensors header (JSON) size limit, as in the safetensors library.
MAX_SAFETENSORS_HEADER = 100 * MiB

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


class ModelFileError(ValueError):
    """A model file, backup or JSON config is unreadable, corrupt, unsafe or does not match
    the model it describes. The message names the file and what is wrong.

    >>> _ = open("bad.deepnet", "wb").write(b"not a zip archive")
    >>> try:
    ...     dn.saving.load_model("bad.deepnet")
    ... except dn.saving.ModelFileError as e:
    ...     print("bad.deepnet" in str(e))
    True
    """


# ----------------------------------------------------------------------------- JSON


def _nan_token(token: str):
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[token]


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _check_depth(obj: Any, limit: int) -> None:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise ValueError(f"nesting deeper than {limit} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def parse_json(data: bytes | str, where: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON strictly (UTF-8, no duplicate keys, bounded nesting); ModelFileError otherwise.

    >>> from deepnet.saving.safe import parse_json
    >>> parse_json(b'{"units": 2}', "config.json")
    {'units': 2}
    """
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_nan_token)
        _check_depth(value, max_depth)
    except RecursionError:
        raise ModelFileError(f"{where}: JSON nested too deeply (limit {max_depth} levels).") from None
    except (UnicodeDecodeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise ModelFileError(f"{where}: invalid JSON ({e}).") from None
    return value


def dump_json(obj: Any, indent: int | None = 1) -> bytes:
    """``obj`` as UTF-8 JSON bytes (``indent=None``: compact); NaN and infinities are kept.

    >>> from deepnet.saving.safe import dump_json
    >>> dump_json({"units": 2}, indent=None)
    b'{"units":2}'
    """
    return json.dumps(obj, indent=indent, allow_nan=True, separators=None if indent else (",", ":")).encode("utf-8")


# ----------------------------------------------------------------------------- state codec

_TAGS = ("__tensor__", "__tuple__", "__dict__")


def encode_state(obj: Any, tensors: dict[str, torch.Tensor], prefix: str) -> Any:
    """JSON-able form of nested state; tensors are moved into ``tensors`` (CPU, contiguous)
    under keys starting with ``prefix`` and replaced by ``{"__tensor__": key}``.

    >>> from deepnet.saving.safe import encode_state
    >>> tensors = {}
    >>> encode_state({"step": 3, "m": torch.ones(2)}, tensors, "opt/"), list(tensors)
    ({'step': 3, 'm': {'__tensor__': 'opt/.m'}}, ['opt/.m'])
    """

    def enc(x, path):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x)
        if isinstance(x, torch.Tensor):
            key = f"{prefix}{path}"
            tensors[key] = x.detach().cpu().clone().contiguous()
            return {"__tensor__": key}
        if hasattr(x, "dtype") and hasattr(x, "item") and getattr(x, "shape", None) == ():  # numpy scalar
            return enc(x.item(), path)
        if isinstance(x, tuple):
            return {"__tuple__": [enc(v, f"{path}.{i}") for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [enc(v, f"{path}.{i}") for i, v in enumerate(x)]
        if isinstance(x, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in x):
                return {k: enc(v, f"{path}.{k}") for k, v in x.items()}
            items = []
            for k, v in x.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"cannot save state: dict key {k!r} at {path or '<root>'} is not a str or int")
                items.append([k, enc(v, f"{path}.{k}")])
            return {"__dict__": items}
        raise TypeError(
            f"cannot save state: value of type {type(x).__name__} at {path or '<root>'} is not JSON data or a tensor"
        )

    return enc(obj, "")


def decode_state(obj: Any, tensors: dict[str, torch.Tensor], where: str, used: set | None = None) -> Any:
    """Inverse of :func:`encode_state`; unknown tags or missing tensors raise ModelFileError.

    >>> from deepnet.saving.safe import decode_state, encode_state
    >>> tensors = {}
    >>> decode_state(encode_state({"m": torch.ones(2)}, tensors, "opt/"), tensors, "state.json")
    {'m': tensor([1., 1.])}
    """
    used = set() if used is None else used

    def dec(x):
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        tagged = [k for k in x if k.startswith("__")]
        if not tagged:
            return {k: dec(v) for k, v in x.items()}
        if len(x) != 1 or tagged[0] not in _TAGS:
            raise ModelFileError(f"{where}: unknown entry {sorted(x)[:3]} in saved state.")
        tag, value = tagged[0], x[tagged[0]]
        if tag == "__tensor__":
            if not isinstance(value, str) or value not in tensors:
                raise ModelFileError(f"{where}: saved state refers to a missing tensor {value!r}.")
            if value in used:
                raise ModelFileError(f"{where}: tensor {value!r} is referenced twice.")
            used.add(value)
            return tensors[value]
        if tag == "__tuple__":
            if not isinstance(value, list):
                raise ModelFileError(f"{where}: malformed tuple in saved state.")
            return tuple(dec(v) for v in value)
        if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int)) and not isinstance(p[0], bool)
            for p in value
        ):
            raise ModelFileError(f"{where}: malformed mapping in saved state.")
        out = {}
        for k, v in value:
            if k in out:
                raise ModelFileError(f"{where}: duplicate key {k!r} in saved state.")
            out[k] = dec(v)
        return out

    return dec(obj)


# ----------------------------------------------------------------------------- safetensors


def tensors_to_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """``tensors`` (moved to CPU, contiguous) as safetensors bytes, with optional ``metadata``.

    >>> from deepnet.saving.safe import tensors_from_bytes, tensors_to_bytes
    >>> tensors_from_bytes(tensors_to_bytes({"w": torch.ones(2)}), "w.safetensors")
    {'w': tensor([1., 1.])}
    """
    from safetensors.torch import save

    return save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata=metadata)


def safetensors_header(data: bytes, where: str) -> dict:
    """The parsed header of a safetensors blob: ``{name: {"dtype", "shape", "data_offsets"}}``.

    >>> from deepnet.saving.safe import safetensors_header, tensors_to_bytes
    >>> safetensors_header(tensors_to_bytes({"w": torch.ones(2, 3)}), "w.safetensors")["w"]["shape"]
    [2, 3]
    """
    if len(data) < 8:
        raise ModelFileError(f"{where}: truncated safetensors data ({len(data)} bytes).")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_SAFETENSORS_HEADER or 8 + n > len(data):
        raise ModelFileError(f"{where}: corrupt safetensors header (declared size {n}, data size {len(data)}).")
    header = parse_json(data[8:8 + n], where, max_depth=4)
    if not isinstance(header, dict):
        raise ModelFileError(f"{where}: corrupt safetensors header (not a JSON object).")
    header.pop("__metadata__", None)
    for name, info in header.items():
        if not (isinstance(info, dict) and isinstance(info.get("dtype"), str) and isinstance(info.get("shape"), list)
                and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in info["shape"])):
            raise ModelFileError(f"{where}: corrupt safetensors entry {name!r}.")
    return header


def tensors_from_bytes(data: bytes, where: str) -> dict[str, torch.Tensor]:
    """The tensors of safetensors bytes, header checked first; corrupt data raises
    ModelFileError naming ``where``.

    >>> from deepnet.saving.safe import ModelFileError, tensors_from_bytes
    >>> try:
    ...     tensors_from_bytes(b"garbage", "w.safetensors")
    ... except ModelFileError as e:
    ...     print(e)
    w.safetensors: truncated safetensors data (7 bytes).
    """
    from safetensors.torch import load

    safetensors_header(data, where)
    try:
        return load(data)
    except Exception as e:  # safetensors raises several types (SafetensorError, ValueError...) on corrupt data
        raise ModelFileError(f"{where}: corrupt safetensors data ({type(e).__name__}: {e}).") from None


# ----------------------------------------------------------------------------- zip archives


def write_archive(path, members: Iterable[tuple[str, bytes, bool]]) -> None:
    """Write a zip archive atomically; ``members`` are ``(name, data, compress)``. Entries get
    a fixed timestamp and mode 0644 so equal content gives equal bytes.

    >>> from deepnet.saving.safe import read_archive, write_archive
    >>> write_archive("a.zip", [("config.json", b"{}", True)])
    >>> read_archive("a.zip", {"config.json"}, set(), {"config.json": 100}, kind="example archive")
    {'config.json': b'{}'}
    """
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w", allowZip64=True) as zf:
            for name, data, compress in members:
                info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                info.external_attr = 0o100644 << 16
                zf.writestr(info, data, compresslevel=6 if compress else None)


def _sniff(head: bytes) -> str:
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return " It looks like a Python pickle (torch.save / pickle.dump output): deepnet never loads pickles."
    if head[:4] == b"\x89HDF":
        return " It looks like an HDF5 file (a Keras 2 .h5 model): deepnet cannot read it."
    if len(head) >= 9 and head[8:9] == b"{":
        return " It looks like a safetensors weights file: load it with model.load_weights(path)."
    if head[:1] in (b"{", b"["):
        return " It looks like JSON: use deepnet.models.model_from_json(text) for configs."
    return ""


def _eocd_entries(f, size: int) -> int | None:
    """Entry count from the end-of-central-directory record (None when not found)."""
    tail = min(size, 65557)
    f.seek(size - tail)
    buf = f.read(tail)
    pos = buf.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(buf):
        return None
    return struct.unpack("<H", buf[pos + 10:pos + 12])[0]


def _zip_hint(names: list[str]) -> str:
    if any(n.endswith(".pkl") or n.endswith("/data.pkl") for n in names):
        return " It looks like a torch.save archive (a pickle): deepnet never loads pickles."
    if "model.weights.h5" in names:
        return " It looks like a Keras 3 .keras file: name it with the .keras suffix, which load_model reads as Keras' format."
    return ""


def read_archive(path, required: set[str], optional: set[str], limits: dict[str, int],
                 kind: str) -> dict[str, bytes]:
    """Validate the zip at ``path`` and read its members.

    Exactly the ``required`` members and any of the ``optional`` ones may be present (no
    directories, links, duplicates, encryption or unusual compression); each member's size is
    capped by ``limits[name]`` and deflated members by :data:`MAX_DEFLATE_RATIO`.

    >>> from deepnet.saving.safe import ModelFileError, read_archive, write_archive
    >>> write_archive("a.zip", [("config.json", b"{}", True), ("extra.bin", b"", False)])
    >>> try:
    ...     read_archive("a.zip", {"config.json"}, set(), {"config.json": 100}, kind="example archive")
    ... except ModelFileError:
    ...     print("refused")
    refused
    """
    where = repr(os.fspath(path))
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"No such {kind}: {where}.") from None
    except IsADirectoryError:
        raise ModelFileError(f"{where} is a directory, not a {kind}.") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise ModelFileError(f"{where} is empty (0 bytes): not a {kind}.")
        head = f.read(16)
        if head[:2] != b"PK":
            raise ModelFileError(f"{where} is not a {kind} (not a zip archive).{_sniff(head)}")
        entries = _eocd_entries(f, size)
        if entries is not None and entries != 0xFFFF and entries > MAX_ENTRIES:
            raise ModelFileError(f"{where}: the archive lists {entries} entries; a {kind} has at most {MAX_ENTRIES}.")
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except Exception as e:  # BadZipFile, NotImplementedError (unknown zip version), struct.error, ...
            raise ModelFileError(f"{where} is truncated or corrupt: not a readable {kind} ({e}).") from None
        with zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if len(infos) > MAX_ENTRIES:
                raise ModelFileError(f"{where}: the archive has {len(infos)} entries; a {kind} has at most {MAX_ENTRIES}.")
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ModelFileError(f"{where}: duplicate archive members {dupes}.")
            for info in infos:
                _check_info(info, where, kind, required | optional, limits, names)
            missing = sorted(required - set(names))
            if missing:
                raise ModelFileError(f"{where}: missing archive member(s) {missing}; a {kind} has {sorted(required)}."
                                     f"{_zip_hint(names)}")
            return {info.filename: _read_info(zf, info, where) for info in infos}


def _check_info(info: zipfile.ZipInfo, where: str, kind: str, allowed: set[str], limits: dict[str, int],
                names: list[str]) -> None:
    name = info.filename
    if name not in allowed:
        detail = "a directory" if name.endswith("/") else (
            "a path outside the archive" if name.startswith("/") or ".." in name.split("/") else "not part of the format")
        raise ModelFileError(
            f"{where}: unexpected archive member {name!r} ({detail}); a {kind} holds only {sorted(allowed)}."
            f"{_zip_hint(names)}"
        )
    mode = (info.external_attr >> 16) & 0o170000
    if mode == 0o120000:
        raise ModelFileError(f"{where}: archive member {name!r} is a symbolic link; refused.")
    if mode not in (0, 0o100000):
        raise ModelFileError(f"{where}: archive member {name!r} is not a regular file; refused.")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{where}: archive member {name!r} is encrypted; refused.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"{where}: archive member {name!r} uses unsupported compression {info.compress_type}.")
    limit = limits[name]
    if info.file_size > limit:
        raise ModelFileError(
            f"{where}: archive member {name!r} is {info.file_size} bytes uncompressed; the limit is {limit} bytes."
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise ModelFileError(f"{where}: archive member {name!r} has inconsistent sizes.")
    if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > MiB + MAX_DEFLATE_RATIO * info.compress_size:
        raise ModelFileError(
            f"{where}: archive member {name!r} expands {info.file_size} bytes from {info.compress_size} "
            f"(more than {MAX_DEFLATE_RATIO}x): refused as a possible zip bomb."
        )


def _read_info(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    try:
        with zf.open(info) as member:
            data = member.read(info.file_size + 1)
    except Exception as e:  # BadZipFile (bad CRC), zlib.error, EOFError...: corrupt member data
        raise ModelFileError(f"{where}: archive member {info.filename!r} is corrupt ({type(e).__name__}: {e}).") from None
    if len(data) != info.file_size:
        raise ModelFileError(
            f"{where}: archive member {info.filename!r} holds {len(data)} bytes but declares {info.file_size}."
        )
    return data
