"""utils.Config, the interactive-logging flag (shared with deepnet.config, honoured by fit's
progress), layers.serialize/deserialize."""

from __future__ import annotations

import io

import numpy as np
import pytest

import deepnet as dn
from deepnet.training.progress import ProgressReporter


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_config_attribute_item_freeze_json():
    config = dn.utils.Config(a=1)
    config.b = 2
    config["c"] = 3
    assert (config.a, config["b"], len(config), "c" in config) == (1, 2, 3, True)
    assert config.as_dict() == {"a": 1, "b": 2, "c": 3} and config.to_json() == '{"a": 1, "b": 2, "c": 3}'
    config.freeze()
    assert config.frozen
    for action in (lambda: setattr(config, "a", 5), lambda: config.update(a=5), lambda: config.pop("a")):
        with pytest.raises(AttributeError, match="frozen"):
            action()
    config.unfreeze()
    assert config.pop("a") == 1
    with pytest.raises(AttributeError, match="keys"):
        _ = config.missing


def test_interactive_logging_flag_is_shared_and_honoured():
    try:
        dn.config.disable_interactive_logging()
        assert not dn.utils.is_interactive_logging_enabled()
        assert not ProgressReporter(1, 1, 4, stream=_Tty()).interactive
        dn.utils.enable_interactive_logging()
        assert dn.config.is_interactive_logging_enabled()
        assert ProgressReporter(1, 1, 4, stream=_Tty()).interactive
    finally:
        dn.utils.enable_interactive_logging()


def test_layers_serialize_round_trip():
    layer = dn.layers.Dense(3, activation="relu", name="dense_x")
    config = dn.layers.serialize(layer)
    assert config["class_name"] == "Dense"
    rebuilt = dn.layers.deserialize(config)
    assert isinstance(rebuilt, dn.layers.Dense) and rebuilt.units == 3 and rebuilt.name == "dense_x"
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    clone = dn.layers.deserialize(dn.layers.serialize(model))
    assert clone(np.zeros((1, 2), dtype="float32")).shape == (1, 1)
    with pytest.raises((ValueError, TypeError)):
        dn.layers.deserialize({"class_name": "os.system", "config": {}})
