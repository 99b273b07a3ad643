"""benchmarks/tune_mnist1d.py: the --mlp search space (the hand recipe's region, augmentation
always on) and its --quick form (the full 20-minute searches run on a quiet machine)."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("optuna")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

import tune_mnist1d as bench  # noqa: E402

import deepnet as dn  # noqa: E402


def _layers(model):
    return [type(layer).__name__ for layer in model.layers]


def test_focused_space_rebuilds_the_hand_recipe():
    build = bench.mlp_builder(3600, 10, bench.FOCUSED)
    model, fit_kwargs = build(dn.tune.HyperParameters(values=bench.MLP_RECIPE))
    assert fit_kwargs == {"batch_size": 128}
    assert _layers(model) == (["RandomRoll1D"] + ["Dense", "BatchNormalization", "Activation", "Dropout"] * 3
                               + ["Dense"])
    assert model.layers[0].max_shift == 10
    assert [layer.units for layer in model.layers if type(layer).__name__ == "Dense"] == [512, 512, 512, 10]
    # every value of the recipe lies inside the focused ranges
    for name, value in bench.MLP_RECIPE.items():
        bounds = bench.FOCUSED["units" if name.startswith("units_") else name]
        assert value in bounds if isinstance(bounds, list) else bounds[0] <= value <= bounds[1], name


def test_focused_space_always_augments_and_wide_space_may_not():
    hp = dn.tune.HyperParameters(values={})  # defaults: minimum, first choice, False
    focused, _ = bench.mlp_builder(3600, 10, bench.FOCUSED)(hp)
    wide, _ = bench.mlp_builder(3600, 10, bench.WIDE)(dn.tune.HyperParameters(values={}))
    assert _layers(focused)[0] == "RandomRoll1D" and focused.layers[0].max_shift == 4
    assert "RandomRoll1D" not in _layers(wide)


def test_mlp_pruner_has_a_grace_period():
    pruner = bench.mlp_pruner(150)
    assert type(pruner).__name__ == "HyperbandPruner" and pruner._min_resource == 25
    assert bench.mlp_pruner(4)._min_resource == 1


def test_quick_mlp_search_starts_from_the_recipe(tmp_path, capsys):
    args = bench.parse_args(["--mlp", "--quick", "--verbose", "0"])
    result = bench.part_mlp(dn.datasets.load_mnist1d(), args, tmp_path)
    assert result["trials"] >= 1 and 0.0 < result["best_val"] <= 1.0
    tuner = dn.tune.Tuner(bench.mlp_builder(3600, args.mlp_epochs, bench.FOCUSED), objective="val_accuracy",
                          directory=tmp_path / "mlp", verbose=0)
    assert tuner.results_table()[0]["params"] == bench.MLP_RECIPE
    assert "mlp: " in capsys.readouterr().out


def test_quick_pruning_comparison_over_seeds_samples_the_same_trials(tmp_path, capsys):
    """--pruning with the random sampler: for each seed both searches draw the same parameters
    for trial n (only the pruner differs), and the verdict line sums over the seeds."""
    args = bench.parse_args(["--pruning", "--quick", "--verbose", "0", "--prune-seeds", "2",
                             "--prune-sampler", "random"])
    results = bench.part_pruning(dn.datasets.load_mnist1d(), args, tmp_path)
    assert [r["part"] for r in results] == ["pruning=hyperband seed=0", "pruning=none seed=0",
                                           "pruning=hyperband seed=1000", "pruning=none seed=1000"]
    assert all(r["pruned"] == 0 for r in results[1::2])
    tables = {}
    for seed in (0, 1000):
        for pruner in ("hyperband", "none"):
            tuner = dn.tune.Tuner(bench.mlp_builder(3600, args.prune_epochs), objective="val_accuracy",
                                  directory=tmp_path / f"prune_random_{seed}_{pruner}", verbose=0)
            tables[seed, pruner] = [row["params"] for row in tuner.results_table()]
    assert tables[0, "hyperband"] == tables[0, "none"] and tables[1000, "hyperband"] == tables[1000, "none"]
    assert not any(params in tables[1000, "none"] for params in tables[0, "none"])  # no trial shared
    assert "2 seed(s), 4 trials each" in capsys.readouterr().out
