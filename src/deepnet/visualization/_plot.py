"""``plot_model``: the public function, its argument checks and the choice of layout."""

from __future__ import annotations

import os
import warnings
from numbers import Real

from ..models.model import Model
from ..utils.io import atomic_write
from ..utils.validation import Boolean, Interval, Options, validate_params
from . import _graphviz
from ._graph import Options as BoxOptions
from ._graph import collect
from ._layout import layout as builtin_layout
from ._raster import render_matplotlib
from ._shapes import Drawing
from ._svg import render_svg

SUPPORTED_EXTENSIONS = (".png", ".svg", ".pdf")
RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "curved", "spline", "line", "polyline")
LAYOUTS = ("auto", "graphviz", "builtin")

_FLAG = Boolean()


@validate_params({
    "show_shapes": _FLAG, "show_layer_names": _FLAG, "show_dtype": _FLAG, "show_trainable": _FLAG,
    "rankdir": Options(RANKDIRS, ignore_case=True),
    "dpi": Interval(Real, 0, None, closed="neither", description="a positive number"),
    "expand_nested": _FLAG, "show_layer_activations": _FLAG, "show_params": _FLAG,
    "splines": Options(SPLINES, ignore_case=True),
    "layout": Options(LAYOUTS, ignore_case=True),
})
def plot_model(model, to_file="model.png", show_shapes: bool = True, show_layer_names: bool = True,
               show_dtype: bool = False, show_trainable: bool = False, rankdir: str = "TB", dpi=96,
               expand_nested: bool = False, show_layer_activations: bool = False,
               show_params: bool = False, splines: str = "ortho", layout: str = "auto") -> str:
    """Draw ``model``'s layer graph to ``to_file`` and return the path written.

    Args:
        model: a built deepnet model (Sequential, functional or subclassed-and-called).
        to_file: destination; the extension picks the format: ``.png``, ``.svg`` or ``.pdf``.
        show_shapes: print each layer's input and output shapes.
        show_layer_names: title boxes ``name (Type)`` instead of just ``Type``.
        show_dtype: print each layer's dtype.
        show_trainable: print whether each layer is trainable.
        rankdir: ``"TB"`` (top to bottom), ``"LR"`` (left to right), ``"BT"`` or ``"RL"``.
        dpi: resolution of ``.png`` output (``.svg``/``.pdf`` are vector formats).
        expand_nested: draw the layers of nested models inside a dashed frame.
        show_layer_activations: print the ``activation`` of layers that have one.
        show_params: print each layer's parameter count.
        splines: edge style: ``"ortho"`` (orthogonal, the default), ``"curved"`` or ``"line"``.
        layout: who places boxes and edges: ``"graphviz"`` (Graphviz's ``dot`` executable),
            ``"builtin"`` (deepnet's own layout, pure Python) or ``"auto"`` (the default:
            Graphviz when ``dot`` is on ``PATH``, else the built-in layout). Drawing is
            deepnet's either way.

    The file is written atomically (a temporary file in the same folder, then renamed).

    >>> import os, tempfile
    >>> model = dn.Sequential([dn.Input(shape=(4,)), dn.layers.Dense(2)])
    >>> path = dn.plot_model(model, os.path.join(tempfile.mkdtemp(), "model.svg"))
    >>> open(path).read().count('class="node"')
    2
    """
    path, ext = _check_path(to_file)
    _check_model(model)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"plot_model cannot write {path!r}: the folder {folder!r} does not exist.")

    opts = BoxOptions(show_shapes, show_layer_names, show_dtype, show_trainable, show_layer_activations,
                      show_params)
    graph = collect(model, opts, expand_nested)
    if not graph.boxes:
        raise ValueError(f"plot_model: model {model.name!r} has no layers to draw.")
    drawing = _lay_out(graph, rankdir, splines, layout)
    if ext == ".svg":
        data = render_svg(drawing, getattr(model, "name", "model")).encode("utf-8")
        with atomic_write(path) as f:
            f.write(data)
    else:
        render_matplotlib(drawing, path, ext[1:], dpi)
    return path


def _lay_out(graph, rankdir: str, splines: str, layout: str) -> Drawing:
    """The drawing from the chosen layout; with ``"auto"``, a failing ``dot`` falls back (with a warning)."""
    dot = _graphviz.find_dot() if layout != "builtin" else None
    if layout == "graphviz" and dot is None:
        raise ValueError(
            "plot_model was asked for layout='graphviz', but Graphviz's `dot` executable is not on PATH.\n"
            "help: install Graphviz (`apt-get install graphviz`, `brew install graphviz`, `conda install "
            "graphviz`), or pass layout='builtin' (or 'auto') for deepnet's own layout."
        )
    if dot is None:
        return builtin_layout(graph, rankdir, splines)
    try:
        return _graphviz.layout(graph, rankdir, splines, dot)
    except _graphviz.GraphvizError as e:
        if layout == "graphviz":
            raise
        warnings.warn(f"plot_model: {e} Drawing with deepnet's built-in layout instead.", stacklevel=4)
        return builtin_layout(graph, rankdir, splines)


def _check_path(to_file) -> tuple[str, str]:
    """The path as a string and its lower-case extension, which must be a supported one."""
    path = os.fspath(to_file) if isinstance(to_file, (str, os.PathLike)) else None
    if not isinstance(path, str) or not path:
        raise TypeError(
            f"plot_model expects `to_file` to be a non-empty path (str or os.PathLike) ending in "
            f"{', '.join(SUPPORTED_EXTENSIONS)}; received {to_file!r}."
        )
    ext = os.path.splitext(path)[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        got = f"extension {ext!r}" if ext else "no extension"
        raise ValueError(
            f"plot_model cannot write {path!r}: {got}. Supported extensions: "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (the extension picks the format)."
        )
    return path, ext


def _check_model(model) -> None:
    if not isinstance(model, Model):
        raise TypeError(
            f"plot_model expects a deepnet Model (Sequential, functional or subclassed); received "
            f"{type(model).__name__}: {model!r}."
        )
    if not model.built:
        raise ValueError(
            f"plot_model needs a built model: add an Input or call model.build(...). "
            f"Model {model.name!r} is not built yet."
        )
