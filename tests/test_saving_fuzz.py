"""Fuzzing the .deepnet reader: every mutation of a valid archive either loads or raises
ModelFileError: never another exception, a hang, or code execution.

The mutation engine (``mutate``) takes a ``random.Random``; Hypothesis drives it here (bounded
for CI) and ``benchmarks/fuzz_archive.py`` drives it for many more cases.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import struct
import sys
import warnings
import zipfile

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import deepnet as dn  # noqa: E402
from deepnet import layers as L  # noqa: E402
from deepnet.saving import ModelFileError  # noqa: E402

EVIL_MODULE = "evil_fuzz_mod"
SENTINELS: list[str] = []

# strings a hostile file might use to name code; none of them may ever run
HOSTILE_STRINGS = [
    "os.system", "builtins.eval", "builtins.exec", "subprocess.Popen", "posix.system", "__import__",
    f"{EVIL_MODULE}.boom", f"{EVIL_MODULE}.Boom", EVIL_MODULE, f"Custom>{EVIL_MODULE}", "Custom>WriteSentinel",
    "test_saving_fuzz.write_sentinel", "TorchOptimizer", "TorchModuleWrapper", "Lambda", "../../etc/passwd",
    "Dense", "LSTM", "Sequential", "Model", "InputLayer", "relu", "glorot_uniform", "Adam", "mse", "float64",
    "int8", "", "\x00", "💥" * 3,
]


def write_sentinel(*args, **kwargs):  # a "registered-looking" callable that must never be called
    for path in SENTINELS:
        open(path, "w").close()


# ----------------------------------------------------------------------------- seeds


def make_seed_archives(folder) -> list[bytes]:
    """A few small valid archives: functional + Sequential, compiled and trained (optimizer state)."""
    from deepnet.utils import clear_session, set_random_seed

    clear_session()
    set_random_seed(0)
    out = []
    inp = dn.Input(shape=(5,), dtype="int64")
    x = L.Embedding(11, 4)(inp)
    x = L.GRU(3)(x)
    y = L.Dense(3, activation="relu")(x)
    z = L.Add()([x, y])
    functional = dn.Model(inp, L.Dense(2, activation="softmax")(z))
    functional.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    functional.fit(np.random.default_rng(0).integers(0, 11, (8, 5)), np.zeros(8, "int64"), epochs=1, batch_size=4,
                   verbose=0)
    seq = dn.Sequential([dn.Input(shape=(4,)), L.Dense(3), L.BatchNormalization(), L.Dropout(0.1), L.Dense(1)])
    seq.compile(optimizer=dn.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    seq.fit(np.ones((4, 4), "float32"), np.ones((4, 1), "float32"), epochs=1, batch_size=2, verbose=0)
    plain = dn.Sequential([dn.Input(shape=(2,)), L.Dense(2, activation="tanh")])
    for i, model in enumerate((functional, seq, plain)):
        path = os.path.join(folder, f"seed{i}.deepnet")
        model.save(path)
        with open(path, "rb") as f:
            out.append(f.read())
    return out


# ----------------------------------------------------------------------------- mutations


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _pack(members, rng: random.Random) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are intended here
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
            if rng.random() < 0.03:
                info.external_attr = rng.choice([0o120777, 0o040755, 0o100755]) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, 2, 3, 7, 10**9, 2**63, -(10**12), 10**40])
    if kind == 3:
        return rng.choice([0.0, -0.5, 1e-30, 1e300, float("nan"), float("inf"), -float("inf")])
    if kind in (4, 5, 6):
        return rng.choice(HOSTILE_STRINGS)
    if kind == 7:
        return [rng.choice([None, 1, 2, 3])] * rng.randrange(4)
    if kind == 8:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind == 9:
        return {"class_name": rng.choice(HOSTILE_STRINGS), "config": _random_json(rng, depth + 1)}
    if kind == 10:
        return {"__tensor__": rng.choice(["optimizer.torch.state.0.step", "nope", 3])}
    return {rng.choice(["module", "fn", "__class__", "__tuple__", "__dict__", "units", "name", "config"]):
            _random_json(rng, depth + 1)}


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _mutate_json(obj, rng: random.Random):
    obj = copy.deepcopy(obj)
    paths = list(_paths(obj))
    path = rng.choice(paths)
    if not path:
        return _random_json(rng)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    op = rng.randrange(6)
    if op == 0 and isinstance(parent, dict):
        del parent[key]
    elif op == 1 and isinstance(parent, dict):
        parent[rng.choice(["module", "registered_name", "extra", "__class__", "units"])] = _random_json(rng)
    elif op == 2:
        value = parent[key]
        for _ in range(rng.choice([2, 40, 80])):
            value = [value]
        parent[key] = value
    elif op == 3 and isinstance(parent[key], int) and not isinstance(parent[key], bool):
        parent[key] = rng.choice([parent[key] + 1, parent[key] * 1000, -parent[key], 0, 10**8])
    else:
        parent[key] = _random_json(rng)
    return obj


def _mutate_safetensors(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 8:
        return data
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return data
    names = [k for k in header if k != "__metadata__"]
    if not names:
        return data
    name = rng.choice(names)
    entry = header[name]
    op = rng.randrange(5)
    if op == 0:
        entry["shape"] = [rng.choice([0, 1, 2, 3, 10**6]) for _ in range(rng.randrange(4))]
    elif op == 1:
        entry["dtype"] = rng.choice(["F64", "F16", "I64", "U8", "BOOL", "XX"])
    elif op == 2:
        entry["data_offsets"] = [rng.randrange(50), rng.randrange(10**7)]
    elif op == 3:
        header[name.replace("/", "/x", 1)] = header.pop(name)
    else:
        del header[name]
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data[8 + n:]


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """One random mutation (sometimes two) of a valid archive."""
    data = seed
    for _ in range(1 + (rng.random() < 0.3)):
        op = rng.randrange(10)
        if op == 0:  # flip bytes anywhere
            buf = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                if buf:
                    buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
            data = bytes(buf)
            continue
        if op == 1:  # truncate
            data = data[: rng.randrange(len(data) + 1)]
            continue
        try:
            members = _members(data)
        except Exception:  # earlier mutation broke the zip: flip more bytes instead
            continue
        names = [n for n, _ in members]
        if op == 2 and members:  # drop a member
            del members[rng.randrange(len(members))]
        elif op == 3 and members:  # rename a member
            i = rng.randrange(len(members))
            members[i] = (rng.choice(["../" + names[i], names[i] + "/", "config.JSON", "x", names[(i + 1) % len(names)],
                                      "/abs/" + names[i]]), members[i][1])
        elif op == 4 and members:  # duplicate a member
            members.append(members[rng.randrange(len(members))])
        elif op == 5:  # add an unexpected member
            members.append((rng.choice(["payload.pkl", "data.pkl", "model.weights.h5", "a/../b"]), b"\x80\x04K\x01."))
        elif op in (6, 7, 8):  # mutate a JSON member
            jsons = [i for i, n in enumerate(names) if n.endswith(".json")]
            if jsons:
                i = rng.choice(jsons)
                try:
                    obj = json.loads(members[i][1])
                except ValueError:
                    continue
                members[i] = (members[i][0], json.dumps(_mutate_json(obj, rng)).encode())
        else:  # mutate a safetensors header
            sts = [i for i, n in enumerate(names) if n.endswith(".safetensors")]
            if sts:
                i = rng.choice(sts)
                members[i] = (members[i][0], _mutate_safetensors(members[i][1], rng))
        data = _pack(members, rng)
    return data


def check_one(data: bytes, path: str) -> str:
    """Load ``data`` from ``path``; return "ok" or "refused". Anything else is a failure."""
    with open(path, "wb") as f:
        f.write(data)
    try:
        dn.load_model(path)
    except ModelFileError as e:
        if str(e).find(os.path.basename(path)) < 0:
            raise AssertionError(f"ModelFileError does not name the file: {e}") from None
        return "refused"
    return "ok"


def install_sentinel_module(folder) -> str:
    """An importable module whose import (or whose functions) would create a sentinel file."""
    sentinel = os.path.join(folder, "CODE_WAS_EXECUTED")
    SENTINELS.append(sentinel)
    with open(os.path.join(folder, f"{EVIL_MODULE}.py"), "w") as f:
        f.write(f"open({sentinel!r}, 'w').close()\n"
                "def boom(*a, **k):\n    open(__file__ + '.called', 'w').close()\n"
                "class Boom:\n    def __init__(self, *a, **k):\n        boom()\n")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return sentinel


# ----------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("fuzz"))
    sentinel = install_sentinel_module(folder)
    seeds = make_seed_archives(folder)
    for i, seed in enumerate(seeds):  # the seeds themselves load
        assert check_one(seed, os.path.join(folder, f"check{i}.deepnet")) == "ok"
    yield folder, sentinel, seeds
    sys.path.remove(folder)


def test_fuzz_mutated_archives_load_or_raise_model_file_error(fuzz_env):
    folder, sentinel, seeds = fuzz_env
    outcomes = {"ok": 0, "refused": 0}

    @settings(max_examples=200, deadline=5000, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.integers(0, len(seeds) - 1), st.randoms(use_true_random=False))
    def run(index, rng):
        outcomes[check_one(mutate(seeds[index], rng), os.path.join(folder, "case.deepnet"))] += 1
        assert not os.path.exists(sentinel), "a module named by the file was imported"
        assert EVIL_MODULE not in sys.modules
        assert not os.path.exists(os.path.join(folder, f"{EVIL_MODULE}.py.called"))

    run()
    assert outcomes["refused"] > 50  # the mutations do reach the validators
