"""Write docs/keras_compat.md: Keras 3's public namespaces against deepnet's, name by name.

    .venv/bin/python docs/make_keras_compat.py

Keras (a test-only dependency) is imported with the torch backend; each table is generated from
its namespace. A Keras name deepnet lacks is listed with the reason in ``ABSENT`` (or "not yet").
The ops section comes from docs/_compat_ops.py. tests/test_keras_compat_doc.py checks the page is
current and that every Keras layer class is present or listed with a reason.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is imported anywhere

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "keras_compat.md"

NAMESPACES = ["layers", "utils", "random", "backend", "datasets", "applications", "models", "callbacks",
              "optimizers", "losses", "metrics"]

OTHER_BACKEND = "deliberately absent: wraps a model of another backend (JAX/Flax, TensorFlow SavedModel)"
ABSENT: dict[tuple[str, str], str] = {
    ("layers", "FlaxLayer"): OTHER_BACKEND,
    ("layers", "JaxLayer"): OTHER_BACKEND,
    ("layers", "TFSMLayer"): OTHER_BACKEND,
    # helper OPTCB (issue 14: optimizers, callbacks, utils)
    ("callbacks", "OrbaxCheckpoint"): "deliberately absent: writes JAX/Orbax checkpoints; use ModelCheckpoint "
    "or BackupAndRestore",
    ("callbacks", "SwapEMAWeights"): "not yet: needs `use_ema` (EMA weights) in deepnet optimizers, which accept "
    "use_ema=False only",
    ("optimizers", "MultiOptimizer"): "not yet: one optimizer per variable group through the engine's single "
    "optimizer; use a custom train_step with two optimizers",
    ("optimizers", "OptimizerMap"): "not yet (goes with MultiOptimizer)",
    ("optimizers", "legacy"): "deliberately absent: Keras 2 optimizers (TensorFlow only)",
    ("utils", "legacy"): "deliberately absent: Keras 2 (TensorFlow) serialization helpers",
    ("utils", "bounding_boxes"): "not yet: bounding-box format conversions for the image augmentation layers",
    ("utils", "model_to_dot"): "not yet: `plot_model` draws the graph (matplotlib) without pydot",
    ("utils", "FeatureSpace"): "not yet: use Normalization, StringLookup/IntegerLookup, HashedCrossing and "
    "Concatenate",
    ("utils", "audio_dataset_from_directory"): "not yet",
}

# Known differences, collected from the helpers' notes (docs pages and their reports).
DIFFERENCES = [
    "RNN(cell) runs the cell step by step in PyTorch; `unroll` is stored but changes nothing. "
    "SimpleRNN/LSTM/GRU keep their fused cuDNN paths.",
    "Stateful RNN/ConvLSTM keep their final states as detached tensors (`layer.states`), not variables; "
    "the batch size is checked on the second batch.",
    "ConvLSTM: a mask finer than (batch, time) is reduced to a time mask.",
    "Cell dropout: one mask per sequence for inputs and one for the recurrent state; random streams "
    "differ from Keras'.",
    "`sparse=True` and `ragged=True` are refused (no sparse/ragged tensors; Keras' torch backend "
    "refuses them too).",
    "StringLookup/IntegerLookup/TextVectorization store the adapted vocabulary and IDF weights in the "
    "layer config (Keras: an asset file); a callable standardize/split cannot be saved.",
    "Text preprocessing layers run on strings outside the model graph and return torch tensors (as "
    "Keras without TensorFlow).",
    "A model file holding a `Lambda` refuses to load (Keras' safe_mode), naming the layer.",
    # helper LOSSMET (issue 14: losses and metrics)
    "IoU metrics keep a float32 confusion matrix (Keras: int32 by default, which truncates "
    "fractional sample weights to 0); equal to Keras with `dtype=\"float32\"`.",
    "CategoricalGeneralizedCrossEntropy: labels of shape (N, 1) are squeezed (Keras 3.15 broadcasts "
    "them into an (N, N) result).",
    # helper EXFIX (issue 14: keras.io examples)
    "A layer named like an attribute of `Model` or `torch.nn.Module` (`half`, `train`, `eval`, `inputs`, "
    "...) keeps its Keras name (`get_layer`, summary, configs); its torch submodule key, and so its "
    "`state_dict` prefix, gets a trailing `_`.",
]


def _public(module) -> set[str]:
    names = getattr(module, "__all__", None) or dir(module)
    return {n for n in names if not n.startswith("_")}


def namespace_rows(ns: str) -> list[tuple[str, bool, str]]:
    """(name, present in deepnet, note) for every public name of ``keras.<ns>``."""
    keras_ns = importlib.import_module(f"keras.{ns}")
    try:
        ours = importlib.import_module(f"deepnet.{ns}")
    except ImportError:
        ours = None
    rows = []
    for name in sorted(n for n in dir(keras_ns) if not n.startswith("_")):
        present = ours is not None and hasattr(ours, name)
        note = "" if present else ABSENT.get((ns, name), "not yet")
        rows.append((name, present, note))
    return rows


def layer_classes() -> list[str]:
    """Every layer class Keras exports from keras.layers."""
    import keras

    return sorted(n for n in dir(keras.layers) if isinstance(getattr(keras.layers, n), type)
                  and issubclass(getattr(keras.layers, n), keras.layers.Layer))


def _section(ns: str) -> list[str]:
    rows = namespace_rows(ns)
    present = sum(p for _, p, _ in rows)
    lines = [f"## `keras.{ns}` ({present}/{len(rows)}, {100 * present / max(1, len(rows)):.1f}%)", "",
             "| name | in deepnet | note |", "|---|---|---|"]
    lines += [f"| `{name}` | {'yes' if p else 'no'} | {note} |" for name, p, note in rows]
    return lines + [""]


def render() -> str:
    import keras

    sys.path.insert(0, str(DOCS))
    try:
        compat_ops = importlib.import_module("_compat_ops")
    finally:
        sys.path.remove(str(DOCS))
    lines = ["# Keras compatibility", "",
             f"Generated by `docs/make_keras_compat.py` from Keras {keras.__version__}'s namespaces "
             "(torch backend); do not edit by hand.", "",
             "Running real keras.io programs: `tests/keras_examples/` (opt-in: "
             "`DEEPNET_KERAS_EXAMPLES=1 .venv/bin/python -m pytest -q tests/keras_examples`, see its README).",
             "", "What maps where in Keras' root namespace and `keras.config`, the names left out on purpose "
             "and notes on custom training: [keras_compat_notes.md](keras_compat_notes.md).",
             "", "## Coverage", "", "| namespace | present | names | coverage |", "|---|---|---|---|"]
    for ns in NAMESPACES:
        rows = namespace_rows(ns)
        present = sum(p for _, p, _ in rows)
        lines.append(f"| `keras.{ns}` | {present} | {len(rows)} | {100 * present / max(1, len(rows)):.1f}% |")
    lines += ["", "## Known differences", ""] + [f"- {d}" for d in DIFFERENCES] + [""]
    lines += compat_ops.ops_section().splitlines() + [""]
    for ns in NAMESPACES:
        lines += _section(ns)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
