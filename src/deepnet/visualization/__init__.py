"""Pictures of models: :func:`plot_model` draws a model's layer graph to an SVG, PNG or PDF file.

Boxes and edges are placed by Graphviz's ``dot`` when that executable is installed, or else by
deepnet's own layered layout (pure Python); either way deepnet draws the picture itself:
``.svg`` as text, ``.png``/``.pdf`` with matplotlib (PNG encoded by Pillow).

``deepnet.plot_model`` and ``deepnet.utils.plot_model`` (the Keras spelling) are this function.

>>> import os, tempfile
>>> from deepnet.visualization import plot_model
>>> model = dn.Sequential([dn.Input(shape=(3,)), dn.layers.Dense(1)])
>>> os.path.basename(plot_model(model, os.path.join(tempfile.mkdtemp(), "m.svg"), layout="builtin"))
'm.svg'
"""

from __future__ import annotations

from ._graphviz import GraphvizError
from ._plot import plot_model

__all__ = ["GraphvizError", "plot_model"]
