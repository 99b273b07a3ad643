"""Keras' ``model_to_dot``: a model's layer graph as Graphviz DOT (a ``pydot.Dot`` when pydot is
installed, else the DOT text with pydot's ``to_string()``)."""

from __future__ import annotations

from ..utils.validation import Boolean, Options, validate_params
from ._graph import Options as BoxOptions
from ._graph import collect

__all__ = ["model_to_dot"]

_FLAG = Boolean()


class _DotText(str):
    """DOT source text; ``to_string()`` returns it, as ``pydot.Dot.to_string`` does."""

    def to_string(self) -> str:
        return str(self)


def _quote(lines: list[str]) -> str:
    escaped = [t.replace("\\", "\\\\").replace('"', '\\"') for t in lines]
    return '"' + "\\n".join(escaped) + '"'


def _dot_text(graph, rankdir: str, dpi) -> str:
    """The DOT text of a collected graph: one labelled box per layer, its edges, nested models
    as clusters are flattened (their boxes keep their titles)."""
    index = {b.id: i for i, b in enumerate(graph.boxes)}
    lines = ["digraph G {", f"graph [rankdir={rankdir}, dpi={dpi}];", "node [shape=box];"]
    for i, b in enumerate(graph.boxes):
        lines.append(f"n{i} [label={_quote([b.title, *b.lines])}];")
    lines += [f"n{index[s]} -> n{index[d]};" for s, d in graph.edges]
    return "\n".join(lines + ["}"]) + "\n"


@validate_params({"show_shapes": _FLAG, "show_dtype": _FLAG, "show_layer_names": _FLAG,
                  "rankdir": Options(("TB", "LR", "BT", "RL"), ignore_case=True), "expand_nested": _FLAG,
                  "dpi": None, "subgraph": _FLAG, "show_layer_activations": _FLAG, "show_trainable": _FLAG,
                  "model": None})
def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False):
    """The layer graph of ``model`` in Graphviz DOT (Keras' ``keras.utils.model_to_dot``): a
    ``pydot.Dot`` when ``pydot`` is importable, otherwise the DOT text (a ``str`` with
    ``to_string()``). ``subgraph`` is accepted for Keras compatibility and changes nothing.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2, name="out")])
    >>> text = dn.utils.model_to_dot(model).to_string()
    >>> text.startswith("digraph G {"), "out (Dense)" in text
    (True, True)
    """
    opts = BoxOptions(show_shapes, show_layer_names, show_dtype, show_trainable, show_layer_activations, False)
    text = _dot_text(collect(model, opts, expand_nested), rankdir.upper(), dpi)
    try:
        import pydot
    except ImportError:
        return _DotText(text)
    return pydot.graph_from_dot_data(text)[0]
