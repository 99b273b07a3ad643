"""Configs are data: a config that names code (``[model] factory``) is refused by every command
unless the user opts in with ``--allow-code`` (``allow_code=True`` in Python); ``deepnet check``
never calls a factory; the config's folder is never put on ``sys.path``."""

import sys

import pytest

from test_cli import assert_one_line_error, run_main, write

pytest.importorskip("click")
pytest.importorskip("pydantic")

from deepnet.cli._config import load_config  # noqa: E402
from deepnet.cli._errors import ConfigError  # noqa: E402

EVIL = """\
[data]
name = "digits"
limit = 20
[model]
factory = "os:system"
args = {{command = "echo pwned > {marker}"}}
[fit]
epochs = 1
"""

FACTORY_FILE = """\
import pathlib

import deepnet

pathlib.Path({imported!r}).write_text("imported")


def mlp(input_shape, num_classes):
    pathlib.Path({called!r}).write_text("called")
    return deepnet.Sequential([deepnet.Input(shape=input_shape), deepnet.layers.Flatten(),
                               deepnet.layers.Dense(num_classes)])
"""

FILE_CONFIG = """\
[data]
name = "digits"
limit = 40
[model]
factory = "models.py:mlp"
[fit]
epochs = 1
validation_split = 0
"""

COMMANDS = [("check",), ("train", "-q"), ("summary",), ("plot", "-o", "m.svg"), ("diagnose", "--no-report")]


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / "pwned.txt"
    write(tmp_path, "evil.toml", EVIL.format(marker=marker))
    return tmp_path, marker


@pytest.fixture
def factory_file(tmp_path):
    imported, called = tmp_path / "imported.txt", tmp_path / "called.txt"
    write(tmp_path, "models.py", FACTORY_FILE.format(imported=str(imported), called=str(called)))
    write(tmp_path, "exp.toml", FILE_CONFIG)
    return tmp_path, imported, called


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_no_command_runs_a_factory_without_the_opt_in(evil, command):
    folder, marker = evil
    path_before = list(sys.path)
    code, out, err = run_main(*command, "evil.toml", cwd=folder)
    assert_one_line_error(code, out, err, "evil.toml, line 5: model.factory", "names code", "'os:system'",
                          "--allow-code")
    assert not marker.exists() and not (folder / "runs").exists() and not (folder / "m.svg").exists()
    assert sys.path == path_before


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_factory_file_is_not_even_imported_without_the_opt_in(factory_file, command):
    folder, imported, called = factory_file
    code, out, err = run_main(*command, "exp.toml", cwd=folder)
    assert_one_line_error(code, out, err, "names code", str(folder / "models.py"), "'mlp'", "--allow-code")
    assert not imported.exists() and not called.exists() and not (folder / "runs").exists()


def test_check_never_calls_the_factory(factory_file, evil):
    folder, imported, called = factory_file
    code, out, err = run_main("check", "--allow-code", "exp.toml", cwd=folder)
    assert code == 0, err
    assert "models.py:mlp exists" in out and "does not call it" in out
    assert imported.exists() and not called.exists()
    folder, marker = evil
    code, out, err = run_main("check", "--allow-code", "evil.toml", cwd=folder)
    assert code == 0, err
    assert not marker.exists()


def test_check_with_the_opt_in_finds_a_missing_function(factory_file):
    folder, _, called = factory_file
    write(folder, "exp.toml", FILE_CONFIG.replace("models.py:mlp", "models.py:mpl"))
    assert_one_line_error(*run_main("check", "--allow-code", "exp.toml", cwd=folder), "line 5", "model.factory",
                          "has no function 'mpl'", "Did you mean 'mlp'?")
    write(folder, "exp.toml", FILE_CONFIG.replace("models.py:mlp", "nothere.py:mlp"))
    assert_one_line_error(*run_main("check", "--allow-code", "exp.toml", cwd=folder), "line 5",
                          f"{folder / 'nothere.py'} does not exist")
    assert not called.exists()


def test_with_the_opt_in_a_factory_file_is_loaded_by_path_and_sys_path_is_untouched(factory_file):
    folder, imported, called = factory_file
    path_before, modules_before = list(sys.path), set(sys.modules)
    code, out, err = run_main("summary", "--allow-code", "exp.toml", cwd=folder)
    assert code == 0, err
    assert "Total params: 650" in out and imported.exists() and called.exists()
    assert sys.path == path_before
    assert "models" not in set(sys.modules) - modules_before


def test_a_module_factory_never_finds_a_file_next_to_the_config(tmp_path):
    """`colorsys:rgb_to_hsv` is the standard library's module even when the config's folder
    has a colorsys.py: the folder is not put on sys.path."""
    sys.modules.pop("colorsys", None)
    marker = tmp_path / "shadowed.txt"
    write(tmp_path, "colorsys.py", f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n")
    write(tmp_path, "models.py", "def mlp():\n    pass\n")
    config = str(tmp_path / "exp.toml")
    write(tmp_path, "exp.toml", FILE_CONFIG.replace("models.py:mlp", "colorsys:rgb_to_hsv"))
    code, out, err = run_main("check", "--allow-code", config, cwd=tmp_path.parent)
    assert code == 0, err
    assert not marker.exists()
    write(tmp_path, "exp.toml", FILE_CONFIG.replace("models.py:mlp", "models:mlp"))
    assert_one_line_error(*run_main("check", "--allow-code", config, cwd=tmp_path.parent),
                          "cannot import the model factory module 'models'", 'factory = "models.py:..."')


@pytest.mark.parametrize("reference, fragment", [
    ("models.py:", "expected \"module:function\""),
    ("models.py:1st", "'1st' is not a Python function name"),
    ("my models:build", "'my models' is not a module name"),
    ("folder/models.txt:build", "must be a .py file"),
    ("os.system", "expected \"module:function\""),
])
def test_malformed_references_are_config_errors(tmp_path, reference, fragment):
    write(tmp_path, "exp.toml", FILE_CONFIG.replace("models.py:mlp", reference))
    for allow in ((), ("--allow-code",)):
        assert_one_line_error(*run_main("check", *allow, "exp.toml", cwd=tmp_path), "line 5", "model.factory",
                              fragment)


def test_python_api_needs_allow_code(factory_file):
    folder, imported, called = factory_file
    with pytest.raises(ConfigError, match=r"names code.*allow_code=True"):
        load_config(str(folder / "exp.toml"))
    loaded = load_config(str(folder / "exp.toml"), allow_code=True)
    assert loaded.allow_code and not imported.exists()
    with pytest.raises(TypeError, match=r"`allow_code`.*Received: allow_code='yes'"):
        load_config(str(folder / "exp.toml"), allow_code="yes")


def test_python_api_build_model_refuses_code_not_allowed(factory_file):
    """Turning `allow_code` off after loading still stops the one place that imports code."""
    from deepnet.cli._build import build_model

    folder, imported, called = factory_file
    loaded = load_config(str(folder / "exp.toml"), allow_code=True)
    loaded.allow_code = False
    with pytest.raises(ConfigError, match="names code"):
        build_model(loaded, (8, 8), 10)
    assert not imported.exists() and not called.exists()


def test_resolved_config_names_the_factory_file_by_absolute_path(factory_file):
    from deepnet.cli._config import resolved_dict

    folder, _, _ = factory_file
    resolved = resolved_dict(load_config(str(folder / "exp.toml"), allow_code=True))
    assert resolved["model"]["factory"] == f"{folder / 'models.py'}:mlp"


def test_diagnose_of_a_run_reads_its_config_for_the_data_only(factory_file):
    """A run folder's model is model.deepnet: diagnosing it never needs (or imports) the factory
    its config names, while the same config still needs the opt-in to build a model."""
    import deepnet

    folder, imported, called = factory_file
    run = folder / "run"
    run.mkdir()
    (run / "config.toml").write_text(FILE_CONFIG.replace("models.py:mlp", f"{folder / 'models.py'}:mlp"))
    (run / "history.csv").write_text("epoch,loss\n0,2.0\n1,1.5\n")
    model = deepnet.Sequential([deepnet.Input(shape=(8, 8)), deepnet.layers.Flatten(), deepnet.layers.Dense(10)])
    model.compile(optimizer="adam", loss=deepnet.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.save(str(run / "model.deepnet"))
    code, out, err = run_main("diagnose", str(run), "--no-report", cwd=folder)
    assert code == 0, err
    assert "Data checks: " in out and "Gradient health: " in out
    assert not imported.exists() and not called.exists()
    assert_one_line_error(*run_main("diagnose", str(run / "config.toml"), "--no-report", cwd=folder), "names code")
