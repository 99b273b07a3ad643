"""Bad-argument tables generated from the constraints that optimizers, learning-rate schedules,
initializers, regularizers and weight constraints declare (utils.validation), as
tests/test_layer_args.py does for layers.

Meta-test: every constructor argument of every public class of these modules has a declared
constraint (``None`` marks one checked in the body, such as an optimizer's ``learning_rate``).
Then every value a constraint rejects must make the constructor raise ValueError/TypeError
naming the class and the argument.
"""

from __future__ import annotations

import inspect

import pytest
import torch

import deepnet.constraints as C
import deepnet.initializers as I
import deepnet.optimizers as O
import deepnet.optimizers.schedules as S
import deepnet.regularizers as R
from deepnet.utils.validation import constraints_of

# The smallest valid arguments of the classes that have required ones.
REQUIRED = {
    "TorchOptimizer": {"optimizer_class": torch.optim.SGD},
    "LossScaleOptimizer": {"inner_optimizer": O.SGD()},
    "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10},
    "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": 10},
    "CosineDecayRestarts": {"initial_learning_rate": 0.1, "first_decay_steps": 10},
    "PiecewiseConstantDecay": {"boundaries": [5], "values": [0.1, 0.01]},
}

# Abstract bases whose constructors take nothing to check.
BASES = {"Optimizer", "LearningRateSchedule", "Regularizer", "Constraint"}


def _classes():
    for module in (O, S, I, R, C):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and name not in BASES and obj.__module__.startswith(module.__name__):
                yield obj


CLASSES = sorted(set(_classes()), key=lambda c: c.__name__)


def _arguments(cls) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def test_classes_are_found():
    names = {c.__name__ for c in CLASSES}
    assert {"Adam", "SGD", "ExponentialDecay", "GlorotUniform", "L2", "MaxNorm"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_constructor_argument_has_a_constraint(cls):
    undeclared = [a for a in _arguments(cls) if a not in constraints_of(cls)]
    assert not undeclared, (
        f"{cls.__name__}: constructor argument(s) {undeclared} have no declared constraint. help: add "
        f"them to the @validate_params({{...}}) of {cls.__name__}.__init__."
    )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_required_arguments_build(cls):
    cls(**REQUIRED.get(cls.__name__, {}))


def _cases():
    for cls in CLASSES:
        arguments = _arguments(cls)
        for argument, constraint in constraints_of(cls).items():
            if constraint is None or argument not in arguments:
                continue
            for i, value in enumerate(constraint.invalid_examples()):
                yield pytest.param(cls, argument, value, id=f"{cls.__name__}-{argument}-{i}")


@pytest.mark.parametrize("cls, argument, value", list(_cases()))
def test_rejected_values_raise_naming_class_and_argument(cls, argument, value):
    with pytest.raises((TypeError, ValueError)) as info:
        cls(**{**REQUIRED.get(cls.__name__, {}), argument: value})
    message = str(info.value)
    assert cls.__name__ in message and f"`{argument}`" in message, message


@pytest.mark.parametrize("cls, kwargs, pattern", [
    (I.RandomUniform, {"minval": 1.0, "maxval": 0.5}, r"`maxval` of RandomUniform, expected a number greater than minval"),
    (C.MinMaxNorm, {"min_value": 2.0, "max_value": 1.0}, r"`min_value` of MinMaxNorm, expected a number <= max_value"),
    (I.VarianceScaling, {"distribution": "gaussian"}, r"`distribution` of VarianceScaling.*'uniform', 'normal'"),
    (R.L1L2, {"l1": "0.1"}, r"`l1` of L1L2, expected a non-negative number"),
    (S.PiecewiseConstantDecay, {"boundaries": [1, "a"], "values": [1.0, 0.5, 0.1]}, r"`boundaries` of PiecewiseConstantDecay"),
])
def test_cross_argument_and_wording(cls, kwargs, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        cls(**kwargs)


def test_configs_keep_the_numbers_as_given():
    assert S.ExponentialDecay(0.1, 10, 0.5).get_config()["decay_steps"] == 10
    assert type(S.ExponentialDecay(0.1, 10, 0.5).get_config()["decay_steps"]) is int
    assert I.get("normal") is not None and I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
