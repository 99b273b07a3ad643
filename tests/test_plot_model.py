"""plot_model: SVG/PNG/PDF diagrams of Sequential, functional, nested and subclassed models."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import deepnet
from deepnet.layers.base import Layer, format_shape
from deepnet.layers.core import Dense, Flatten
from deepnet.models.graph import layer_graph
from deepnet.visualization import GraphvizError, _graph, _graphviz, _raster, plot_model
from deepnet.visualization import _plot as plotting


class Plus(Layer):
    """A tiny merge layer (adds two tensors) so the tests do not depend on layers/merge.py."""

    def call(self, inputs):
        return inputs[0] + inputs[1]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


class Join(Layer):
    """Concatenates any number of 2-D tensors."""

    def call(self, inputs):
        return torch.cat(list(inputs), dim=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], sum(s[-1] for s in input_shape))


def sequential():
    return deepnet.Sequential([deepnet.Input(shape=(4, 3)), Flatten(), Dense(8, activation="relu"), Dense(2)])


def two_input_model():
    """Two inputs, a branch (features feeds two layers) and two merges."""
    a = deepnet.Input(shape=(8,), name="left_in")
    b = deepnet.Input(shape=(4,), name="right_in")
    x = Dense(16, name="features")(a)
    h = Dense(16, name="hidden")(x)
    x = Plus(name="residual")([x, h])
    y = Dense(16, name="right_proj")(b)
    z = Plus(name="merge")([x, y])
    out = Dense(3, name="head")(z)
    return deepnet.Model([a, b], out, name="two_inputs")


def residual_chain(n_blocks: int = 19):
    """Input, stem, ``n_blocks`` x (Dense, Dense, Plus with a skip), head: 3 * n_blocks + 3 layers."""
    inp = deepnet.Input(shape=(8,))
    x = Dense(8)(inp)
    for _ in range(n_blocks):
        h = Dense(8)(x)
        h = Dense(8)(h)
        x = Plus()([x, h])
    return deepnet.Model(inp, Dense(2, name="head")(x))


def n_edges(model) -> int:
    return sum(len(n.inbound) for n in layer_graph(model))


def svg_of(model, tmp_path, name="m.svg", **kwargs) -> str:
    path = plot_model(model, to_file=str(tmp_path / name), **kwargs)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    ET.fromstring(text)  # well-formed XML
    return text


def visible_text(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def svg_size(text: str) -> tuple[float, float]:
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', text)
    return float(m.group(1)), float(m.group(2))


def boxes_of(text: str) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of every layer box (its border path) in an SVG we wrote."""
    out = []
    for d in re.findall(r'<path class="border" d="([^"]+)"', text):
        nums = [float(v) for v in re.findall(r"-?[\d.]+", d)]
        xs, ys = nums[0::2], nums[1::2]
        out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def assert_no_overlap(boxes):
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


# ----------------------------------------------------------------------------- SVG content


@pytest.mark.parametrize("build", [sequential, two_input_model], ids=["sequential", "functional"])
def test_svg_has_every_layer_shape_and_edge(tmp_path, build):
    model = build()
    text = svg_of(model, tmp_path)
    nodes = layer_graph(model)
    for n in nodes:
        assert f"{n.name} ({n.type})" in text
        assert format_shape(n.output_shape) in text
        if n.type != "InputLayer":
            assert format_shape(n.input_shape) in text
    assert text.count('class="edge"') == n_edges(model)
    assert text.count('class="arrowhead"') == n_edges(model)
    assert text.count('class="node"') == len(nodes)
    edges = set(re.findall(r'data-source="([^"]+)" data-target="([^"]+)"', text))
    assert edges == {(src, n.id) for n in nodes for src in n.inbound}
    assert_no_overlap(boxes_of(text))


def test_branch_and_merge_are_drawn_as_separate_edges(tmp_path):
    text = svg_of(two_input_model(), tmp_path)
    edges = re.findall(r'data-source="([^"]+)" data-target="([^"]+)"', text)
    assert ("features", "hidden") in edges and ("features", "residual") in edges  # branch
    assert ("residual", "merge") in edges and ("right_proj", "merge") in edges  # merge
    # both inputs sit in the first rank, above everything else
    ys = {m[0]: float(m[1]) for m in re.findall(r'<g class="node" id="node-([^"]+)">.*?\n<path class="box" d="M [\d.]+ ([\d.]+)', text, re.S)}
    assert ys["left_in"] == ys["right_in"] < min(v for k, v in ys.items() if not k.endswith("_in"))


def test_svg_options_change_the_labels(tmp_path):
    model = two_input_model()
    plain = visible_text(svg_of(model, tmp_path, "a.svg", show_shapes=False, show_layer_names=False))
    assert sorted(plain) == sorted(["InputLayer", "InputLayer", "Dense", "Dense", "Dense", "Dense", "Plus", "Plus"])
    full = svg_of(model, tmp_path, "b.svg", show_dtype=True, show_trainable=True, show_params=True,
                  show_layer_activations=True)
    assert "dtype:" in full and "float32" in full and "Trainable:" in full
    assert "Params:" in full and "144" in full  # features: 8 * 16 + 16
    assert "Activation:" in full and "linear" in full


def test_svg_escapes_text(tmp_path):
    m = deepnet.Sequential([deepnet.Input(shape=(3,)), Dense(2, name="a<b>&c")])
    text = svg_of(m, tmp_path)
    assert "a&lt;b&gt;&amp;c (Dense)" in text


def test_lr_changes_the_aspect_ratio(tmp_path):
    model = sequential()
    w_tb, h_tb = svg_size(svg_of(model, tmp_path, "tb.svg"))
    w_lr, h_lr = svg_size(svg_of(model, tmp_path, "lr.svg", rankdir="LR"))
    assert h_tb > w_tb and w_lr > h_lr
    for rankdir in ("BT", "RL", "lr"):
        assert svg_of(model, tmp_path, f"{rankdir}.svg", rankdir=rankdir).count('class="edge"') == 3


@pytest.mark.parametrize("splines", ["ortho", "curved", "line"])
def test_edge_styles(tmp_path, splines):
    text = svg_of(two_input_model(), tmp_path, splines=splines)
    paths = re.findall(r'<path class="edge" d="([^"]+)"', text)
    assert len(paths) == 8
    assert any(" C " in p for p in paths) == (splines == "curved")


def test_nested_model_expanded_in_a_frame(tmp_path):
    inner_in = deepnet.Input(shape=(8,), name="inner_in")
    h = Dense(8, name="inner_a")(inner_in)
    inner = deepnet.Model(inner_in, Plus(name="inner_add")([h, Dense(8, name="inner_b")(h)]), name="block")
    a = deepnet.Input(shape=(8,), name="x")
    out = Dense(2, name="head")(Plus(name="final_add")([inner(a), a]))
    model = deepnet.Model(a, out)

    collapsed = svg_of(model, tmp_path, "c.svg")
    assert "block (Functional)" in collapsed and "inner_a" not in collapsed
    expanded = svg_of(model, tmp_path, "e.svg", expand_nested=True)
    assert expanded.count('class="frame"') == 1 and "block (Functional)" in expanded
    for name in ("inner_in", "inner_a", "inner_b", "inner_add"):
        assert f"{name} (" in expanded
    edges = set(re.findall(r'data-source="([^"]+)" data-target="([^"]+)"', expanded))
    assert ("x", "block/inner_in") in edges and ("block/inner_add", "final_add") in edges
    assert_no_overlap(boxes_of(expanded))


@pytest.mark.parametrize("rankdir", ["TB", "BT", "LR", "RL"])
def test_frame_labels_do_not_cover_boxes(tmp_path, rankdir):
    deep_in = deepnet.Input(shape=(8,), name="deep_in")
    deep = deepnet.Model(deep_in, Dense(8, name="deep_dense")(deep_in), name="a_rather_long_block_name")
    inner_in = deepnet.Input(shape=(8,), name="inner_in")
    h = Dense(8, name="inner_a")(inner_in)
    inner = deepnet.Model(inner_in, Plus(name="inner_add")([deep(h), Dense(8, name="inner_b")(h)]), name="block")
    a, b = deepnet.Input(shape=(8,), name="x"), deepnet.Input(shape=(8,), name="y")
    model = deepnet.Model([a, b], Dense(2, name="head")(Plus(name="final_add")([inner(a), b])))
    text = svg_of(model, tmp_path, expand_nested=True, rankdir=rankdir)
    assert text.count('class="frame"') == 2
    labels = re.findall(r'<text class="frame-label" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]+)<', text)
    assert sorted(t for _, _, t in labels) == ["a_rather_long_block_name (Functional)", "block (Functional)"]
    label_boxes = [(float(x), float(y) - 8, float(x) + 6.02 * len(t), float(y) + 2) for x, y, t in labels]
    assert_no_overlap(boxes_of(text) + label_boxes)


def test_subclassed_and_shared_layers(tmp_path):
    class MLP(deepnet.Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(4)
            self.out = Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = MLP()
    model(torch.zeros(2, 3))
    text = svg_of(model, tmp_path, "sub.svg")
    assert text.count('class="edge"') == 1 and "(None, 4)" in text

    shared = Dense(8, name="shared")
    i = deepnet.Input(shape=(8,))
    twice = deepnet.Model(i, shared(shared(i)))
    text = svg_of(twice, tmp_path, "shared.svg")
    assert text.count('class="edge"') == n_edges(twice) == 2  # one of them a loop


# ----------------------------------------------------------------------------- raster / pdf


def test_png_is_a_valid_image_of_sensible_size(tmp_path):
    import matplotlib.image as mpimg

    path = plot_model(two_input_model(), to_file=str(tmp_path / "m.png"))
    assert path == str(tmp_path / "m.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    assert 200 < w < 3000 and 300 < h < 5000
    assert img.shape[2] in (3, 4)
    assert np.allclose(img[0, 0, :3], 1.0)  # white background
    assert (img[..., :3] < 0.5).any()  # something dark (text and edges) was drawn
    # dpi scales the raster
    big = mpimg.imread(plot_model(two_input_model(), to_file=str(tmp_path / "big.png"), dpi=192))
    assert abs(big.shape[1] / w - 2) < 0.02


def test_pdf(tmp_path):
    path = plot_model(sequential(), to_file=str(tmp_path / "m.pdf"))
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-64:]


def test_files_are_replaced_atomically(tmp_path):
    target = tmp_path / "m.svg"
    target.write_text("old")
    plot_model(sequential(), to_file=target)  # os.PathLike accepted
    assert target.read_text().startswith("<?xml")
    assert sorted(os.listdir(tmp_path)) == ["m.svg"]  # no temporary file left behind


def test_svg_path_does_not_need_matplotlib(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("matplotlib used for .svg")

    monkeypatch.setattr(plotting, "render_matplotlib", fail)
    svg_of(sequential(), tmp_path)


# ----------------------------------------------------------------------------- size and speed


def test_sixty_layer_residual_chain_is_fast_and_readable(tmp_path):
    model = residual_chain(19)
    assert len(layer_graph(model)) == 60
    start = time.perf_counter()
    text = svg_of(model, tmp_path, "res.svg")
    png = plot_model(model, to_file=str(tmp_path / "res.png"))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"plotting a 60-layer residual chain took {elapsed:.2f} s"
    assert os.path.getsize(png) > 0
    assert text.count('class="edge"') == n_edges(model)
    boxes = boxes_of(text)
    assert len(boxes) == 60
    assert_no_overlap(boxes)
    # the figure grows with the model; the text keeps its size
    w, h = svg_size(text)
    assert h > 60 * 40 and w < 800
    assert set(re.findall(r'class="label"[^>]*font-size="([\d.]+)"', text)) == {"10"}


def test_wide_graph_layout_is_quick(tmp_path):
    i = deepnet.Input(shape=(4,))
    branches = [Dense(2, name=f"b{k}")(Dense(3)(i)) for k in range(30)]
    model = deepnet.Model(i, Join(name="join")(branches))
    start = time.perf_counter()
    text = svg_of(model, tmp_path)
    assert time.perf_counter() - start < 5.0
    assert text.count('class="edge"') == 90
    assert "30 × (None, 2)" in text  # many equal input shapes are summarised
    assert_no_overlap(boxes_of(text))


# ----------------------------------------------------------------------------- errors

BAD_CALLS = [
    (dict(to_file="model.jpg"), ValueError, r"extension '\.jpg'.*Supported extensions: \.png, \.svg, \.pdf"),
    (dict(to_file="model"), ValueError, r"no extension.*\.png, \.svg, \.pdf"),
    (dict(to_file=3), TypeError, r"`to_file`.*received 3"),
    (dict(to_file="m.svg", rankdir="XY"), ValueError, r"`rankdir`.*'TB', 'LR'.*Received: rankdir='XY'"),
    (dict(to_file="m.svg", splines="zigzag"), ValueError, r"`splines`.*Received: splines='zigzag'"),
    (dict(to_file="m.png", dpi=0), ValueError, r"`dpi`.*positive.*Received: dpi=0"),
    (dict(to_file="missing_folder/m.svg"), FileNotFoundError, r"folder .*missing_folder.* does not exist"),
    (dict(to_file="m.svg", show_everything=True), TypeError, r"show_everything"),
]


@pytest.mark.parametrize("kwargs,exc,pattern", BAD_CALLS, ids=[str(c[0]) for c in BAD_CALLS])
def test_bad_arguments(tmp_path, monkeypatch, kwargs, exc, pattern):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=pattern):
        plot_model(sequential(), **kwargs)
    assert os.listdir(tmp_path) == []


def test_unbuilt_model(tmp_path):
    with pytest.raises(ValueError, match=re.escape("plot_model needs a built model: add an Input or call model.build(...)")):
        plot_model(deepnet.Sequential([Dense(3)]), to_file=str(tmp_path / "m.png"))
    built = deepnet.Sequential([Dense(3)])
    built.build((None, 5))
    assert "(None, 3)" in svg_of(built, tmp_path)


def test_not_a_model(tmp_path):
    with pytest.raises(TypeError, match="expects a deepnet Model.*received Dense"):
        plot_model(Dense(3), to_file=str(tmp_path / "m.svg"))


# ----------------------------------------------------------------------------- layouts: Graphviz and built-in

HAS_DOT = _graphviz.find_dot() is not None


@pytest.fixture(autouse=True, params=["graphviz", "builtin"])
def layout_used(request, monkeypatch):
    """Every test runs with Graphviz's dot (when installed) and with the built-in layout, which
    ``layout="auto"`` uses when dot is not on PATH."""
    if request.param == "graphviz" and not HAS_DOT:
        pytest.skip("Graphviz's dot is not installed")
    if request.param == "builtin":
        monkeypatch.setattr(_graphviz, "find_dot", lambda: None)
    return request.param


def fake_dot(tmp_path, monkeypatch, script: str) -> None:
    """Put an executable named ``dot`` running ``script`` (sh) first on PATH."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    exe = folder / "dot"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(_graphviz, "find_dot", lambda: shutil.which("dot"))


def structure(svg: str):
    return (sorted(re.findall(r'<g class="node" id="([^"]+)"', svg)),
            sorted(re.findall(r'data-source="([^"]+)" data-target="([^"]+)"', svg)),
            sorted(visible_text(svg)))


def test_aliases():
    assert deepnet.plot_model is plot_model is deepnet.utils.plot_model
    from deepnet.utils import plot_model as from_utils

    assert from_utils is plot_model


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_graphviz_and_builtin_layouts_draw_the_same_diagram(tmp_path, monkeypatch):
    monkeypatch.setattr(_graphviz, "find_dot", lambda: shutil.which("dot"))
    model = residual_chain(3)
    for kwargs in ({}, dict(rankdir="LR", splines="curved"), dict(splines="line", show_params=True)):
        gv = svg_of(model, tmp_path, "gv.svg", layout="graphviz", **kwargs)
        builtin = svg_of(model, tmp_path, "py.svg", layout="builtin", **kwargs)
        assert structure(gv) == structure(builtin)
        assert gv != builtin  # two different layouts
        assert_no_overlap(boxes_of(gv))


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_auto_uses_graphviz_when_dot_is_installed(tmp_path, monkeypatch, layout_used):
    calls = []
    real = _graphviz.run_dot
    monkeypatch.setattr(_graphviz, "run_dot", lambda *a, **k: calls.append(a) or real(*a, **k))
    svg_of(two_input_model(), tmp_path)
    assert len(calls) == (1 if layout_used == "graphviz" else 0)
    svg_of(two_input_model(), tmp_path, layout="builtin")
    assert len(calls) == (1 if layout_used == "graphviz" else 0)


def test_dot_text_holds_no_text_of_the_model(tmp_path):
    i = deepnet.Input(shape=(3,), name='in"}; x -> y')
    model = deepnet.Model(i, Dense(2, name="a\\b\nc")(i))
    graph = _graph.collect(model, _graph.Options(True, True, False, False, False, False), expand=False)
    text = _graphviz.to_dot(graph, "TB", "ortho")
    assert "Dense" not in text and 'in"}' not in text and "x -> y" not in text and "a\\b" not in text
    assert re.findall(r"^n\d+ \[width=", text, re.M) == ["n0 [width=", "n1 [width="]


def test_missing_dot_with_layout_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(_graphviz, "find_dot", lambda: None)
    with pytest.raises(ValueError, match=r"layout='graphviz'.*`dot` executable is not on PATH.*\nhelp: install Graphviz"):
        plot_model(sequential(), to_file=str(tmp_path / "m.svg"), layout="graphviz")
    assert os.listdir(tmp_path) == []
    assert "class=\"node\"" in svg_of(sequential(), tmp_path)  # auto: the built-in layout


def test_failing_dot_falls_back_under_auto_and_raises_under_graphviz(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, 'echo "Error: something broke" >&2; exit 3')
    with pytest.warns(UserWarning, match=r"exited with status 3: Error: something broke.*built-in layout") as rec:
        text = svg_of(two_input_model(), tmp_path)
    assert rec[0].filename == __file__  # the warning points at the caller
    assert text.count('class="edge"') == n_edges(two_input_model())
    with pytest.raises(GraphvizError, match="exited with status 3"):
        plot_model(two_input_model(), to_file=str(tmp_path / "g.svg"), layout="graphviz")
    assert not (tmp_path / "g.svg").exists()


def test_dot_printing_garbage_is_an_error(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "cat > /dev/null; echo not json")
    with pytest.raises(GraphvizError, match="not a JSON layout"):
        plot_model(sequential(), to_file=str(tmp_path / "m.svg"), layout="graphviz")


def test_dot_that_hangs_times_out(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    monkeypatch.setattr(_graphviz, "TIMEOUT_S", 0.5)
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="took longer than 0.5 s"):
        svg_of(sequential(), tmp_path)
    assert time.perf_counter() - start < 10


BAD_OPTIONS = [
    (dict(layout="dot"), ValueError, r"`layout` of plot_model, expected one of 'auto', 'graphviz', 'builtin'"),
    (dict(show_shapes="no"), TypeError, r"`show_shapes` of plot_model, expected a bool.*Received: show_shapes='no'"),
    (dict(expand_nested=1), TypeError, r"`expand_nested`.*Received: expand_nested=1"),
    (dict(dpi=float("nan")), ValueError, r"`dpi`.*positive number"),
]


@pytest.mark.parametrize("kwargs,exc,pattern", BAD_OPTIONS, ids=[str(c[0]) for c in BAD_OPTIONS])
def test_bad_options(tmp_path, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        plot_model(sequential(), to_file=str(tmp_path / "m.png"), **kwargs)
    assert os.listdir(tmp_path) == []


def test_png_is_encoded_with_its_resolution(tmp_path):
    from PIL import Image

    with Image.open(plot_model(sequential(), to_file=str(tmp_path / "m.png"), dpi=150)) as img:
        assert img.mode == "RGB" and round(img.info["dpi"][0]) == 150


def test_png_too_large_is_drawn_at_a_lower_dpi(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(_raster, "MAX_PIXELS", 200_000)
    with pytest.warns(UserWarning, match=r"at dpi=300 the PNG would exceed the raster size limits, so it is drawn at dpi=\d+") as rec:
        path = plot_model(two_input_model(), to_file=str(tmp_path / "m.png"), dpi=300)
    assert rec[0].filename == __file__
    with Image.open(path) as img:
        assert img.width * img.height <= 200_000


def test_docs_example_script(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_plot_examples", os.path.join(os.path.dirname(__file__), "..", "docs", "make_plot_examples.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["plot_model_example.png", "plot_model_example.svg"]
