"""Config files of the ``deepnet`` command: TOML key positions, schema validation, error
messages with field + line + closest valid name, overrides, and the resolved-config writer."""

import textwrap

import pytest

from deepnet.cli._config import DELETE, load_config, parse_override, resolved_dict
from deepnet.cli._defaults import DEFAULT_CONFIG_TOML
from deepnet.cli._errors import ConfigError, UsageFailure
from deepnet.cli._toml import dumps, key_lines, line_of, loads

pytest.importorskip("pydantic")


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def first_issue(path, **kwargs):
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)
    return info.value


# ------------------------------------------------------------------------------ positions
POSITIONS = """\
# comment
seed = 1
[data]
name = "mnist1d"  # trailing comment
[model]
layers = [
  {type = "Reshape", target_shape = [40, 1]},   # first
  {type = "Conv1D", filters = 32, kernel_size = 5},

  { type = "Dense", 'units' = 10 },
]
[[callbacks.x]]
a = 1
[[callbacks.x]]
b = \"\"\"
not ] a [table]
\"\"\"
c.d = 3
[callbacks.x.sub]
e = "it's"
[[m.layers]]
type = "Dense"
[[m.layers]]
type = "X"
units = 3
"""


@pytest.mark.parametrize("loc, line", [
    (("seed",), 2), (("data",), 3), (("data", "name"), 4), (("model", "layers"), 6),
    (("model", "layers", 0), 7), (("model", "layers", 0, "target_shape"), 7),
    (("model", "layers", 1, "kernel_size"), 8), (("model", "layers", 2, "units"), 10),
    (("callbacks", "x", 0, "a"), 13), (("callbacks", "x", 1, "b"), 15), (("callbacks", "x", 1, "c", "d"), 18),
    (("callbacks", "x", 1, "sub", "e"), 20), (("m", "layers", 0, "type"), 22), (("m", "layers", 1), 23),
    (("m", "layers", 1, "units"), 25),
])
def test_key_lines(loc, line):
    loads(POSITIONS)  # valid TOML
    assert key_lines(POSITIONS)[loc] == line


def test_line_of_falls_back_to_enclosing_key():
    lines = key_lines(POSITIONS)
    assert line_of(lines, ("m", "layers", 1, "unitz")) == 23
    assert line_of(lines, ("model", "layers", 1, "missing")) == 8
    assert line_of(lines, ("nothing",)) is None


def test_key_lines_never_raises_on_odd_text():
    assert isinstance(key_lines("a = [1, 2\n"), dict)
    assert key_lines("") == {}


def test_dumps_round_trip():
    data = loads(DEFAULT_CONFIG_TOML)
    text = dumps(data, header="# header\n")
    assert loads(text) == data
    odd = {"a": 'q"uote\\ \n', "b": [1.5, True, "x"], "t": {"k-1": {"deep": 1}, "v": 2},
           "arr": [{"type": "A", "opts": {"x": 1}}, {"type": "B"}]}
    assert loads(dumps(odd)) == odd


# ------------------------------------------------------------------------------ defaults
def test_default_config_is_valid_and_as_documented():
    loaded = load_config()
    cfg = loaded.config
    assert cfg.data.name == "mnist1d" and cfg.fit.validation_split == 0.1
    assert cfg.compile.optimizer["type"] == "AdamW" and cfg.compile.schedule["type"] == "one_cycle"
    assert cfg.callbacks.early_stopping.restore_best_weights
    assert [spec["type"] for spec in cfg.model.layers][-2:] == ["GlobalAveragePooling1D", "Dense"]
    resolved = resolved_dict(loaded)
    assert loads(dumps(resolved)) == resolved


def test_minimal_config_gets_defaults(tmp_path):
    path = write(tmp_path, """
        [data]
        path = "d.npz"
        [model]
        layers = [{type = "Dense", units = 2}]
        [callbacks]
        early_stopping = true
    """)
    cfg = load_config(path).config
    assert cfg.fit.epochs == 10 and cfg.compile.loss == {"type": "sparse_categorical_crossentropy"}
    assert cfg.callbacks.early_stopping.patience == 10 and cfg.callbacks.reduce_lr is None
    assert cfg.seed == 0 and cfg.output == "runs"


# --------------------------------------------------------------------------------- errors
BAD_CASES = [
    # (config text, line, location, message regex)
    ('seed = 0\nsead = 3\n[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n',
     2, "sead", r"unknown key 'sead' in the top level\. Did you mean 'seed'\?"),
    ('[data]\nname = "mnist1dd"\n[model]\nlayers=[{type="Dense", units=2}]\n',
     2, "data.name", r"unknown built-in data set 'mnist1dd'\. Did you mean 'mnist1d'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers = [\n  {type = "Reshape", target_shape = [40, 1]},\n'
     '  {type = "Conv1D", filters = 32, kernel_sise = 5},\n]\n',
     6, r"model\.layers\[1\]\.kernel_sise", r"unknown argument 'kernel_sise' for layer Conv1D\. Did you mean 'kernel_size'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers = [\n  {type = "Conv1d_", filters = 3, kernel_size = 5},\n]\n',
     5, r"model\.layers\[0\]\.type", r"unknown layer type 'Conv1d_'\. Did you mean 'Conv1D'\?"),
    ('[data]\nname="mnist1d"\n\n[[model.layers]]\ntype = "Dense"\nunits = 3\n\n[[model.layers]]\ntype = "Denze"\n',
     9, r"model\.layers\[1\]\.type", r"unknown layer type 'Denze'\. Did you mean 'Dense'\?"),
    ('[data]\nname="mnist1d"\n\n[[model.layers]]\ntype = "Dense"\nunitz = 3\n',
     6, r"model\.layers\[0\]\.unitz", r"Did you mean 'units'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense"}]\n',
     4, r"model\.layers\[0\]", r"layer Dense needs the argument\(s\) units"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[compile]\noptimizer = "adamm"\n',
     6, "compile.optimizer", r"unknown optimizer 'adamm'\. Did you mean 'Adam'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[compile]\n'
     'loss = {type = "SparseCategoricalCrossentropy", from_logit = true}\n',
     6, "compile.loss", r"unknown argument 'from_logit' .* Did you mean 'from_logits'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[compile]\nschedule = "one_cycel"\n',
     6, "compile.schedule", r"unknown schedule 'one_cycel'\. Did you mean 'one_cycle'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[fit]\nepochs = "ten"\n',
     6, "fit.epochs", r"valid integer.*received 'ten'"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[fit]\nbatch_sise = 3\n',
     6, "fit.batch_sise", r"unknown key 'batch_sise' in \[fit\]\. Did you mean 'batch_size'\?"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[callbacks]\n'
     'early_stopping = {patience = -1}\n', 6, r"callbacks\.early_stopping\.patience", r"greater than or equal to 0"),
    ('[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[callbacks]\n'
     'early_stoping = true\n', 6, r"callbacks\.early_stoping", r"Did you mean 'early_stopping'\?"),
    ('[data]\nname="mnist1d"\npath="x.csv"\n[model]\nlayers=[{type="Dense", units=2}]\n',
     1, "data", r"exactly one of `name`.*both are set"),
    ('[model]\nlayers=[{type="Dense", units=2}]\n', None, "data", r"missing required key 'data'"),
    ('[data]\nname="mnist1d"\n[model]\nfactory = "no_colon"\n', 4, "model.factory", r"module:function"),
    ('[data]\nname="mnist1d"\n[model]\n', 3, "model", r"exactly one of `layers`.*or `factory`"),
]


@pytest.mark.parametrize("text, line, where, pattern", BAD_CASES)
def test_config_errors_name_field_line_and_suggestion(tmp_path, text, line, where, pattern):
    path = write(tmp_path, text)
    err = first_issue(path)
    message = err.lines()[0]
    prefix = f"{path}, line {line}: " if line else f"{path}: "
    assert message.startswith(prefix), message
    import re

    assert re.search(rf": {where}: ", message), message
    assert re.search(pattern, message), message
    assert "\n" not in str(err)


def test_all_problems_are_collected_and_sorted_by_line(tmp_path):
    path = write(tmp_path, """\
        seed = -1
        [data]
        name = "mnist1d"
        [model]
        layers = [
            {type = "Dense", unitz = 3},
            {type = "Droput", rate = 0.5},
        ]
        [fit]
        epochs = 0
    """)
    err = first_issue(path)
    lines = [int(m.split(", line ")[1].split(":")[0]) for m in err.lines()]
    assert lines == sorted(lines) and len(lines) == 4
    assert "(3 more problems: run `deepnet check" in str(err)
    assert "Did you mean 'Dropout'?" in err.lines()[2]


def test_invalid_toml_reports_position(tmp_path):
    path = write(tmp_path, "[data]\nname = mnist1d\n")
    err = first_issue(path)
    assert "invalid TOML" in str(err) and "line 2" in str(err)


def test_missing_and_folder_config_are_usage_errors(tmp_path):
    with pytest.raises(UsageFailure, match=r"does not exist\. help: `deepnet init"):
        load_config(str(tmp_path / "nope.toml"))
    with pytest.raises(UsageFailure, match="is a folder"):
        load_config(str(tmp_path))


def test_schedule_and_optimizer_arguments_are_checked(tmp_path):
    base = '[data]\nname="mnist1d"\n[model]\nlayers=[{type="Dense", units=2}]\n[compile]\n'
    err = first_issue(write(tmp_path, base + 'optimizer = {type = "adamw", weigth_decay = 0.1}\n'))
    assert "Did you mean 'weight_decay'?" in str(err)
    err = first_issue(write(tmp_path, base + 'schedule = {type = "one_cycle", warmpu = 0.1}\n'))
    assert "Did you mean 'warmup'?" in str(err)
    err = first_issue(write(tmp_path, base + 'schedule = {type = "CosineDecay", decay_step = 10}\n'))
    assert "Did you mean 'decay_steps'?" in str(err)
    cfg = load_config(write(tmp_path, base + 'optimizer = {type = "adamw", weight_decay = 0.1}\n')).config
    assert cfg.compile.optimizer == {"type": "AdamW", "weight_decay": 0.1}


# ------------------------------------------------------------------------------ overrides
def test_parse_override():
    assert parse_override("fit.epochs=5") == (("fit", "epochs"), 5)
    assert parse_override("compile.learning_rate = 1e-3") == (("compile", "learning_rate"), 1e-3)
    assert parse_override("data.name=digits") == (("data", "name"), "digits")
    assert parse_override("model.input_shape=[40]") == (("model", "input_shape"), [40])
    with pytest.raises(UsageFailure, match="KEY=VALUE"):
        parse_override("fit.epochs")
    with pytest.raises(UsageFailure, match="invalid key"):
        parse_override("fit..epochs=3")


def test_overrides_apply_and_errors_name_the_option():
    loaded = load_config(None, [(("fit", "epochs"), 2, "--epochs 2"), (("data", "name"), "digits", "--data digits")])
    assert loaded.config.fit.epochs == 2 and loaded.config.data.name == "digits"
    with pytest.raises(ConfigError) as info:
        load_config(None, [(("fit", "epochs"), 0, "--set fit.epochs=0")])
    assert str(info.value).startswith("command line (--set fit.epochs=0): fit.epochs: ")
    loaded = load_config(None, [(("data", "path"), "x.npz", "--data x.npz"), (("data", "name"), DELETE, "--data")])
    assert loaded.config.data.path == "x.npz" and loaded.config.data.name is None


def test_relative_paths_start_at_the_config_folder(tmp_path):
    sub = tmp_path / "exp"
    sub.mkdir()
    path = write(sub, '[data]\npath = "../d.npz"\n[model]\nlayers=[{type="Dense", units=2}]\n')
    loaded = load_config(path)
    assert loaded.resolve_path(loaded.config.data.path) == str(tmp_path / "d.npz")
    assert resolved_dict(loaded)["data"]["path"] == str(tmp_path / "d.npz")
