"""Keras-style ``model.summary()``: same columns, same numbers and byte units as Keras 3
(``17.44 MB``: powers of 1024, labelled as Keras labels them)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

from ..layers.base import InputLayer, KerasTensor, TorchModuleWrapper, format_shape
from ..utils import nest
from ..utils.formatting import format_bytes
from ..utils.registry import get_registered_class
from ..utils.validation import Boolean, Integral, Interval, NoneOr, check
from ..utils.validation import Callable as _CallableArg
from ._functional_config import node_indices


def readable_size(num_bytes: float) -> str:
    """A byte count as Keras' summary prints it: powers of 1024, two decimals, Keras' unit
    labels (``KB``, ``MB``, ...; :func:`~deepnet.utils.formatting.format_bytes` gives the same
    number with IEC labels, as ``deepnet.diagnose`` prints it).

    >>> from deepnet.models.summary import readable_size
    >>> readable_size(1536), readable_size(18284072)
    ('1.50 KB', '17.44 MB')
    """
    value, unit = format_bytes(num_bytes).split(" ")
    return f"{value} {unit.replace('i', '')}"


def _is_model(obj, class_name: str = "Model") -> bool:
    """``isinstance(obj, Model / Sequential)``, the classes looked up by their registered names
    (this module is imported by ``model.py``, so it cannot import the model classes)."""
    cls = get_registered_class(class_name, kind="layer")
    return cls is not None and isinstance(obj, cls)


def layer_type_name(layer) -> str:
    """The "(type)" shown for a layer in a summary or diagram.

    >>> layer_type_name(dn.layers.Dense(2)), layer_type_name(dn.Sequential())
    ('Dense', 'Sequential')
    """
    if _is_model(layer, "Sequential"):
        return "Sequential"
    if _is_model(layer) and layer._functional and type(layer) is get_registered_class("Model"):
        return "Functional"
    if isinstance(layer, TorchModuleWrapper):
        return f"TorchModuleWrapper[{type(layer.module).__name__}]"
    return type(layer).__name__


def _shapes(outputs) -> Any:
    shapes = nest.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, outputs)
    return shapes


def _sequential_nodes(model) -> dict[int, Any]:
    """For a Sequential: id(layer) -> the node this model created for it."""
    out = {}
    if model._input_layer is None:
        return out
    prev = model._input_layer.output_tensor
    for layer in model._stack:
        node = next((n for n in layer._inbound_nodes if n.input_tensors and n.input_tensors[0] is prev), None)
        if node is None:
            break
        out[id(layer)] = node
        prev = nest.flatten(node.outputs)[0]
    return out


def layer_output_shape(model, layer) -> Any:
    """Output shape of ``layer`` inside ``model`` (``None`` when unknown).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> layer_output_shape(model, model.layers[0])
    (None, 2)
    """
    if _is_model(model, "Sequential"):
        if layer is model._input_layer:
            return layer.batch_shape
        node = _sequential_nodes(model).get(id(layer))
        return _shapes(node.outputs) if node is not None else None
    if getattr(model, "_functional", False):
        node = next((n for n in model._nodes if n.layer is layer), None)
        return _shapes(node.outputs) if node is not None else None
    return model._traced_shapes.get(layer.name)


def _connections(model, layer) -> str:
    if isinstance(layer, InputLayer):
        return "-"
    index = node_indices(model)
    refs = []
    for node in model._nodes:
        if node.layer is layer:
            for t in node.input_tensors:
                name, node_index = index[id(t.node)]
                refs.append(f"{name}[{node_index}][{t.index}]")
    return ", ".join(refs) or "-"


def _param_count(layer) -> str:
    try:
        return f"{layer.count_params():,}"
    except ValueError:
        return "0 (unbuilt)"


def _rows(model, expand_nested: bool, show_trainable: bool, connected: bool, prefix: str = "") -> list[list[str]]:
    layers = list(model.layers)
    if _is_model(model, "Sequential"):
        layers = [lyr for lyr in layers if not isinstance(lyr, InputLayer)]
    rows = []
    for layer in layers:
        shape = layer_output_shape(model, layer)
        row = [f"{prefix}{layer.name} ({layer_type_name(layer)})", "?" if shape is None else format_shape(shape), _param_count(layer)]
        if connected:
            row.append(_connections(model, layer))
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append(row)
        if expand_nested and _is_model(layer):
            rows.extend(_rows(layer, expand_nested, show_trainable, connected, prefix + " └ "))
    return rows


def _weight_totals(model) -> tuple[int, int, int, int]:
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    t_count = sum(w.numel() for w in trainable)
    n_count = sum(w.numel() for w in non_trainable)
    t_bytes = sum(w.numel() * w.element_size() for w in trainable)
    n_bytes = sum(w.numel() * w.element_size() for w in non_trainable)
    return t_count, n_count, t_bytes, n_bytes


def render_summary(model, line_length: int | None = None, positions=None, expand_nested: bool = False,
                   show_trainable: bool = False, color: bool = False) -> str:
    """The text of ``model.summary()`` (with ANSI colours when ``color``), as Keras lays it out.

    >>> from deepnet.models.summary import render_summary
    >>> text = render_summary(dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)]))
    >>> print(text.splitlines()[-3])
     Total params: 8 (32.00 B)
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    connected = getattr(model, "_functional", False) and not _is_model(model, "Sequential")
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    if show_trainable:
        headers.append("Trainable")
    line_length = line_length or (108 if connected else 80)
    if positions is None:
        positions = [0.3, 0.55, 0.67, 1.0] if connected else [0.45, 0.76, 1.0]
    if show_trainable:
        positions = [p * 0.9 for p in positions] + [1.0]
    positions = [p if p > 1 else int(p * line_length) for p in positions]
    widths = [b - a - 3 for a, b in zip([0, *positions[:-1]], positions)]

    table = Table(box=box.HEAVY_HEAD, show_lines=True, header_style="bold" if color else "", pad_edge=True)
    for i, (h, w) in enumerate(zip(headers, widths)):
        table.add_column(h, width=max(w, 8), justify="right" if h in ("Param #",) else "left",
                         no_wrap=False, overflow="fold", style=("cyan" if color and i == 0 else None))
    for row in _rows(model, expand_nested, show_trainable, connected):
        table.add_row(*row)

    buf = io.StringIO()
    console = Console(file=buf, width=max(line_length, sum(max(w, 8) + 3 for w in widths) + 1),
                      force_terminal=color, color_system="standard" if color else None, highlight=False)
    console.print(f'Model: "{model.name}"', style="bold" if color else None)
    console.print(table)
    t_count, n_count, t_bytes, n_bytes = _weight_totals(model) if model.built else (0, 0, 0, 0)
    console.print(f" Total params: {t_count + n_count:,} ({readable_size(t_bytes + n_bytes)})", style="bold" if color else None)
    console.print(f" Trainable params: {t_count:,} ({readable_size(t_bytes)})")
    console.print(f" Non-trainable params: {n_count:,} ({readable_size(n_bytes)})")
    return buf.getvalue().rstrip("\n")


def _check_summary_args(line_length, positions, print_fn, expand_nested, show_trainable) -> None:
    check("summary", "line_length", line_length, NoneOr(Interval(Integral, 1, None)))
    check("summary", "print_fn", print_fn, NoneOr(_CallableArg()))
    check("summary", "expand_nested", expand_nested, Boolean())
    check("summary", "show_trainable", show_trainable, Boolean())
    if positions is not None and not (
            isinstance(positions, (list, tuple)) and positions
            and all(isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0 for p in positions)
            and all(a < b for a, b in zip(positions, positions[1:]))):
        raise ValueError("Received an invalid value for `positions` of summary, expected an increasing list of "
                         f"column ends (fractions of line_length, or characters). Received: positions={positions!r}")


def print_summary(model, line_length=None, positions=None, print_fn: Callable[..., Any] | None = None,
                  expand_nested=False, show_trainable=False) -> None:
    """Print the summary: coloured on a terminal, plain text when piped or with ``print_fn``.

    >>> from deepnet.models.summary import print_summary
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)], name="tiny")
    >>> print_summary(model, print_fn=lambda text: print(text.splitlines()[0]))
    Model: "tiny"
    """
    _check_summary_args(line_length, positions, print_fn, expand_nested, show_trainable)
    color = print_fn is None and sys.stdout.isatty()
    text = render_summary(model, line_length, positions, expand_nested, show_trainable, color=color)
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


__all__ = ["layer_output_shape", "layer_type_name", "print_summary", "readable_size", "render_summary"]
