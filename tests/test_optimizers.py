"""deepnet.optimizers: convergence, kernel selection, clipping, decoupled weight decay, Keras
parity of updates and schedules, learning-rate setter, exact resume and argument validation."""

from __future__ import annotations

import io
import math

import pytest
import torch

import deepnet.optimizers as O
from deepnet.optimizers import schedules as S

ALL = [O.SGD, O.Adam, O.AdamW, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.Nadam, O.Lion]


def _linear_problem():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([1.5, -2.0, 0.5]) + 0.3
    w = torch.nn.Parameter(torch.zeros(3))
    b = torch.nn.Parameter(torch.zeros(()))
    return x, y, [w, b]


def _loss(x, y, params):
    w, b = params
    return ((x @ w + b - y) ** 2).mean()


def _train(optimizer, params, x, y, steps):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = _loss(x, y, params)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ----------------------------------------------------------------------------- convergence
@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (O.SGD, {"learning_rate": 0.05}),
        (O.SGD, {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True}),
        (O.Adam, {"learning_rate": 0.1}),
        (O.Adam, {"learning_rate": 0.1, "amsgrad": True, "weight_decay": 0.01}),
        (O.AdamW, {"learning_rate": 0.1}),
        (O.RMSprop, {"learning_rate": 0.05}),
        (O.RMSprop, {"learning_rate": 0.02, "momentum": 0.5, "centered": True}),
        (O.Adagrad, {"learning_rate": 0.5}),
        (O.Adadelta, {"learning_rate": 1.0, "epsilon": 1e-2}),
        (O.Adamax, {"learning_rate": 0.1}),
        (O.Nadam, {"learning_rate": 0.1}),
        (O.Lion, {"learning_rate": 0.05}),
        (O.TorchOptimizer, {"optimizer_class": torch.optim.RAdam, "learning_rate": 0.1}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_every_optimizer_fits_a_linear_regression(cls, kwargs):
    x, y, params = _linear_problem()
    optimizer = cls(**kwargs)
    optimizer.build(params)
    losses = _train(optimizer, params, x, y, 50)
    assert losses[-1] < 0.5 * losses[0], losses[::10]
    assert optimizer.iterations == 50 and type(optimizer.iterations) is int


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_default_arguments_reduce_a_quadratic(cls):
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    optimizer = cls()
    optimizer.build([w])
    start = (w.detach() ** 2).sum().item()
    for _ in range(50):
        optimizer.zero_grad()
        (w**2).sum().backward()
        optimizer.step()
    assert (w.detach() ** 2).sum().item() < start


# ----------------------------------------------------------------------------- kernel choice
@pytest.mark.parametrize(
    "cls, torch_class, implementation",
    [
        (O.SGD, torch.optim.SGD, "fused"),
        (O.Adam, torch.optim.Adam, "fused"),
        (O.AdamW, torch.optim.AdamW, "fused"),
        (O.Adagrad, torch.optim.Adagrad, "fused"),
        (O.Adadelta, torch.optim.Adadelta, "foreach"),
        (O.Adamax, O._kernels.KerasAdamax, "foreach"),
        (O.Nadam, torch.optim.NAdam, "foreach"),
        (O.RMSprop, O._kernels.KerasRMSprop, "foreach"),
        (O.Lion, O._kernels.Lion, "foreach"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v,
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_or_foreach_selection(cls, torch_class, implementation, dtype):
    params = [torch.nn.Parameter(torch.zeros(4, 3, dtype=dtype)), torch.nn.Parameter(torch.zeros(3, dtype=dtype))]
    optimizer = cls()
    optimizer.build(params)
    torch_optimizer = optimizer.torch_optimizer
    assert type(torch_optimizer) is torch_class
    assert optimizer.implementation == implementation
    defaults = torch_optimizer.defaults
    if implementation == "fused":
        assert defaults["fused"] is True and not defaults.get("foreach")
    elif "foreach" in defaults:
        assert defaults["foreach"] is True and not defaults.get("fused")
    # One step runs on that kernel.
    for p in params:
        p.grad = torch.ones_like(p)
    optimizer.step()


def test_adam_with_weight_decay_uses_torch_adamw_and_falls_back_to_foreach_off_fused_devices():
    optimizer = O.Adam(weight_decay=0.1)
    optimizer.build([torch.nn.Parameter(torch.zeros(3))])
    assert type(optimizer.torch_optimizer) is torch.optim.AdamW
    assert optimizer.torch_optimizer.defaults["weight_decay"] == 0.1
    # The meta device has no fused kernel: foreach, never torch's per-tensor loop.
    meta = O.Adam()
    meta.build([torch.nn.Parameter(torch.zeros(3, device="meta"))])
    assert meta.implementation == "foreach"
    assert meta.torch_optimizer.defaults["foreach"] is True
    assert not meta.torch_optimizer.defaults["fused"]


def test_constant_learning_rate_step_is_the_bare_torch_step():
    """With a constant learning rate, deepnet's step dispatches exactly the torch step's ops."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func))
            return func(*args, **(kwargs or {}))

    def setup():
        params = [torch.nn.Parameter(torch.ones(5, 4)), torch.nn.Parameter(torch.ones(4))]
        for p in params:
            p.grad = torch.full_like(p, 0.5)
        return params

    deepnet_params, torch_params = setup(), setup()
    optimizer = O.Adam(learning_rate=1e-3, epsilon=1e-8)
    optimizer.build(deepnet_params)
    reference = torch.optim.Adam(torch_params, lr=1e-3, fused=True)
    assert optimizer._pre_step is None
    for _ in range(2):  # first step also creates state
        with Record() as ours:
            optimizer.step()
        with Record() as theirs:
            reference.step()
        assert ours.ops == theirs.ops
    for a, b in zip(deepnet_params, torch_params):
        assert torch.equal(a, b)


def test_build_semantics():
    params = [torch.nn.Parameter(torch.zeros(2))]
    optimizer = O.SGD()
    with pytest.raises(RuntimeError, match="not built.*build\\(params\\)"):
        optimizer.step()
    optimizer.zero_grad()  # no-op before build
    assert optimizer.torch_optimizer is None and not optimizer.built
    optimizer.build(params)
    torch_optimizer = optimizer.torch_optimizer
    optimizer.build(list(params))  # same parameters: no-op
    assert optimizer.torch_optimizer is torch_optimizer
    with pytest.raises(ValueError, match="already built.*different list"):
        optimizer.build([torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ValueError, match="empty parameter list"):
        O.SGD().build([])
    with pytest.raises(ValueError, match="not a trainable leaf"):
        O.SGD().build([torch.zeros(2)])
    with pytest.raises(ValueError, match="more than once"):
        O.SGD().build(params + params)
    with pytest.raises(TypeError, match="list of torch.nn.Parameter"):
        O.SGD().build(torch.nn.Parameter(torch.zeros(2)))


def test_zero_grad_sets_gradients_to_none():
    params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    optimizer = O.Adam()
    optimizer.build(params)
    sum(p.sum() for p in params).backward()
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


# ----------------------------------------------------------------------------- clipping
def _step_with_grads(grads, **kwargs):
    """One SGD(lr=1) step from zero weights: the weights become minus the processed gradients."""
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    optimizer = O.SGD(learning_rate=1.0, **kwargs)
    optimizer.build(params)
    optimizer.step()
    return [-p.detach() for p in params]


def test_clipnorm_clips_each_tensor_to_its_own_norm():
    out = _step_with_grads([torch.tensor([3.0, 4.0]), torch.tensor([0.3, 0.4]), torch.zeros(2)], clipnorm=1.0)
    torch.testing.assert_close(out[0], torch.tensor([0.6, 0.8]))  # norm 5 -> 1
    torch.testing.assert_close(out[1], torch.tensor([0.3, 0.4]))  # norm 0.5: untouched
    torch.testing.assert_close(out[2], torch.zeros(2))  # zero gradient stays zero (no NaN)


def test_clipvalue_clamps_each_element():
    out = _step_with_grads([torch.tensor([3.0, -4.0, 0.2]), torch.tensor([-0.1, 0.7])], clipvalue=0.5)
    torch.testing.assert_close(out[0], torch.tensor([0.5, -0.5, 0.2]))
    torch.testing.assert_close(out[1], torch.tensor([-0.1, 0.5]))


def test_global_clipnorm_scales_all_gradients_together():
    grads = [torch.tensor([3.0, 4.0]), torch.tensor([0.3, 0.4])]
    total = math.sqrt(25 + 0.25)
    out = _step_with_grads(grads, global_clipnorm=1.0)
    # torch.nn.utils.clip_grad_norm_ divides by (norm + 1e-6): relative difference ~1e-6 from Keras.
    for o, g in zip(out, grads):
        torch.testing.assert_close(o, g / total, rtol=2e-6, atol=0)
    # Below the threshold nothing changes.
    out = _step_with_grads(grads, global_clipnorm=10.0)
    for o, g in zip(out, grads):
        torch.testing.assert_close(o, g)


# ----------------------------------------------------------------------------- weight decay
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_weight_decay_is_decoupled(cls):
    """Zero gradient: every algorithm's own update is 0, leaving w * (1 - lr * weight_decay)."""
    lr, wd = 0.1, 0.2
    start = torch.tensor([1.0, -2.0, 3.0])
    w = torch.nn.Parameter(start.clone())
    optimizer = cls(learning_rate=lr, weight_decay=wd)
    optimizer.build([w])
    w.grad = torch.zeros(3)
    optimizer.step()
    torch.testing.assert_close(w.detach(), start * (1 - lr * wd), rtol=1e-6, atol=1e-7)


def test_weight_decay_uses_the_scheduled_learning_rate_and_skips_params_without_grad():
    start = torch.tensor([1.0, 2.0])
    w, frozen = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    schedule = S.PiecewiseConstantDecay([0], [0.5, 0.1])  # 0.5 at step 0, then 0.1
    optimizer = O.SGD(learning_rate=schedule, weight_decay=0.1)
    optimizer.build([w, frozen])
    for expected_lr in (0.5, 0.1):
        w.grad = torch.zeros(2)
        before = w.detach().clone()
        optimizer.step()
        torch.testing.assert_close(w.detach(), before * (1 - expected_lr * 0.1))
    torch.testing.assert_close(frozen.detach(), start)


# ----------------------------------------------------------------------------- Keras parity
def _keras_and_deepnet_trajectories(name, kwargs, deepnet_kwargs=None, steps=8):
    import keras

    g = torch.Generator().manual_seed(0)
    shapes = [(4, 3), (3,)]
    scales = [1.0, 0.01, 1e-3, 1.0, 5.0, 0.1, 1.0, 0.05][:steps]
    grads = [[torch.randn(s, generator=g) * scale for s in shapes] for scale in scales]
    # Zero initial weights: the weights are the accumulated updates, compared without the
    # float32 rounding of large weights hiding differences.
    variables = [keras.Variable(torch.zeros(s).numpy()) for s in shapes]
    keras_optimizer = getattr(keras.optimizers, name)(**kwargs)
    params = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
    optimizer = getattr(O, name)(**(deepnet_kwargs if deepnet_kwargs is not None else kwargs))
    optimizer.build(params)
    worst = 0.0
    for step_grads in grads:
        keras_optimizer.apply_gradients([(gr.clone(), v) for gr, v in zip(step_grads, variables)])
        for p, gr in zip(params, step_grads):
            p.grad = gr.clone()
        optimizer.step()
        ours = torch.cat([p.detach().flatten() for p in params])
        theirs = torch.cat([v.value.detach().flatten() for v in variables])
        worst = max(worst, ((ours - theirs).abs().max() / theirs.abs().max()).item())
    return worst


# (optimizer, kwargs, tolerance on max|ours - keras| / max|keras|, both starting from zero weights)
KERAS_PARITY = [
    ("SGD", {}, 1e-6),
    ("SGD", {"momentum": 0.9}, 1e-6),
    ("SGD", {"momentum": 0.9, "nesterov": True}, 1e-6),
    ("SGD", {"momentum": 0.5, "weight_decay": 0.1}, 1e-6),
    ("SGD", {"clipnorm": 0.5}, 1e-6),
    ("SGD", {"clipvalue": 0.3}, 1e-6),
    ("SGD", {"global_clipnorm": 0.5}, 3e-6),
    ("RMSprop", {}, 1e-6),
    ("RMSprop", {"momentum": 0.5}, 1e-6),
    ("RMSprop", {"centered": True}, 1e-6),
    ("RMSprop", {"weight_decay": 0.1, "clipvalue": 0.5}, 1e-6),
    ("Adagrad", {}, 1e-6),
    ("Adagrad", {"initial_accumulator_value": 1.0, "learning_rate": 0.1}, 1e-6),
    ("Adadelta", {"learning_rate": 1.0}, 1e-6),
    ("Lion", {}, 1e-6),
    ("Lion", {"weight_decay": 0.1, "beta_1": 0.5}, 1e-6),
    ("Adamax", {}, 1e-5),  # epsilon: torch max(b2*u, |g| + eps), Keras (u + eps)
    ("Nadam", {}, 5e-5),  # same formula (momentum_decay=1), float32 coefficient rounding
    ("Adam", {}, 1e-4),  # epsilon added to sqrt(v_hat) by torch, to sqrt(v) by Keras
    ("Adam", {"amsgrad": True}, 1e-4),
    ("Adam", {"weight_decay": 0.05}, 1e-4),
    ("AdamW", {}, 1e-4),
]


@pytest.mark.parametrize("name, kwargs, tolerance", KERAS_PARITY, ids=[f"{n}-{k}" for n, k, _ in KERAS_PARITY])
def test_updates_match_keras(name, kwargs, tolerance):
    assert _keras_and_deepnet_trajectories(name, kwargs) <= tolerance


def test_sgd_with_a_schedule_matches_keras():
    import keras

    worst = _keras_and_deepnet_trajectories(
        "SGD",
        {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)},
        {"learning_rate": S.ExponentialDecay(0.1, 2, 0.5)},
    )
    assert worst <= 1e-6


def test_adam_epsilon_is_added_where_keras_adds_it():
    """Keras adds epsilon to sqrt(v) before bias correction (torch to sqrt(v_hat)); deepnet passes
    torch eps / sqrt(1 - beta_2^t): one step from zero state with a tiny gradient shows it."""
    import keras

    grad = torch.full((3,), 1e-6)
    variable = keras.Variable(torch.zeros(3).numpy())
    keras.optimizers.Adam(learning_rate=1.0).apply_gradients([(grad.clone(), variable)])
    w = torch.nn.Parameter(torch.zeros(3))
    optimizer = O.Adam(learning_rate=1.0)
    optimizer.build([w])
    w.grad = grad.clone()
    optimizer.step()
    # First step: m_hat = g, v_hat = g^2; Keras: g / (|g| + eps / sqrt(1 - beta_2)).
    eps, b2 = 1e-7, 0.999
    expected = grad / (grad + eps / math.sqrt(1 - b2))
    torch.testing.assert_close(-variable.value.detach(), expected, rtol=1e-4, atol=0)
    torch.testing.assert_close(-w.detach(), expected, rtol=1e-4, atol=0)


# ----------------------------------------------------------------------------- schedules
SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [10, 20, 35], "values": [1.0, 0.5, 0.1, 0.01]}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 50, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 50, "alpha": 0.1, "warmup_target": 0.2,
                     "warmup_steps": 10}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.5,
                             "alpha": 0.1}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 7, "t_mul": 1.5, "m_mul": 0.9}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 3.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "end_learning_rate": 0.01, "power": 2.0,
                         "cycle": True}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "power": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5, "staircase": True}),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedules_match_keras(name, kwargs):
    import keras

    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    ours = getattr(S, name)(**kwargs)
    scale = max(abs(float(v)) for k, v in kwargs.items() if k in ("initial_learning_rate", "warmup_target")
                ) if name != "PiecewiseConstantDecay" else 1.0
    for step in [*range(0, 200), 333, 1000, 4321]:
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        got = ours(step)
        assert type(got) is float
        # Keras computes in float32: relative 1e-5, or 1e-6 of the initial rate near zero crossings.
        assert abs(got - expected) <= max(1e-5 * abs(expected), 1e-6 * scale), (step, got, expected)
    assert ours.get_config() == theirs.get_config()
    clone = S.deserialize(S.serialize(ours))
    assert type(clone) is type(ours) and clone.get_config() == ours.get_config()


def test_cosine_decay_restarts_past_the_end_of_shrinking_periods_stays_at_the_floor():
    schedule = S.CosineDecayRestarts(0.1, 10, t_mul=0.5, alpha=0.2)
    assert schedule(10_000) == pytest.approx(0.1 * 0.2)


def test_optimizer_evaluates_the_schedule_at_the_iteration_count_before_the_update():
    boundaries, values = [0, 1], [0.5, 0.25, 0.125]
    w = torch.nn.Parameter(torch.zeros(1))
    optimizer = O.SGD(learning_rate=S.PiecewiseConstantDecay(boundaries, values))
    optimizer.build([w])
    for expected in values:
        assert optimizer.learning_rate == expected
        before = w.detach().clone()
        w.grad = torch.ones(1)
        optimizer.step()
        torch.testing.assert_close(before - w.detach(), torch.tensor([expected]))
        assert optimizer.torch_optimizer.param_groups[0]["lr"] == expected


def test_callable_learning_rates():
    w = torch.nn.Parameter(torch.zeros(1))
    optimizer = O.SGD(learning_rate=lambda step: 0.1 * (step + 1))
    optimizer.build([w])
    w.grad = torch.ones(1)
    optimizer.step()
    optimizer.step()
    torch.testing.assert_close(w.detach(), torch.tensor([-(0.1 + 0.2)]))
    assert O.SGD(learning_rate=lambda: 0.3).learning_rate == 0.3  # Keras' no-argument form
    with pytest.raises(TypeError, match="cannot be serialized"):
        optimizer.get_config()


# ----------------------------------------------------------------------------- learning-rate setter
def test_learning_rate_setter():
    w = torch.nn.Parameter(torch.zeros(2))
    optimizer = O.Adam(learning_rate=S.ExponentialDecay(0.1, 1, 0.5))
    assert optimizer.learning_rate == 0.1
    optimizer.build([w])
    w.grad = torch.ones(2)
    optimizer.step()
    assert optimizer.learning_rate == pytest.approx(0.05)
    optimizer.learning_rate = 0.01  # a float replaces the schedule (ReduceLROnPlateau)
    assert optimizer.learning_rate == 0.01 and isinstance(optimizer.learning_rate, float)
    assert optimizer.torch_optimizer.param_groups[0]["lr"] == 0.01
    assert optimizer._pre_step is None  # constant again: bare torch step
    optimizer.step()
    assert optimizer.torch_optimizer.param_groups[0]["lr"] == 0.01
    optimizer.learning_rate = torch.tensor(0.002)  # tensors / numpy scalars from callbacks
    assert optimizer.learning_rate == pytest.approx(0.002)
    optimizer.learning_rate = 0.0  # a callback may drive it to zero
    assert optimizer.get_config()["learning_rate"] == 0.0
    optimizer.learning_rate = S.InverseTimeDecay(1.0, 1, 1.0)  # a schedule can be installed again
    assert optimizer.learning_rate == pytest.approx(1.0 / 3.0)  # iterations == 2
    for bad in (-0.1, float("nan"), "high", None):
        with pytest.raises(ValueError, match="`learning_rate` of Adam"):
            optimizer.learning_rate = bad


# ----------------------------------------------------------------------------- state / resume
def _model_and_data():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    return model, x, y


def _run(model, optimizer, x, y, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


RESUME_CASES = [
    (O.Adam, {}),
    (O.AdamW, {"learning_rate": S.CosineDecay(0.01, 8)}),
    (O.SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "clipnorm": 1.0}),
    (O.RMSprop, {"momentum": 0.5, "centered": True}),
    (O.Adagrad, {"weight_decay": 0.01}),
    (O.Nadam, {}),
    (O.Lion, {"global_clipnorm": 1.0}),
]


@pytest.mark.parametrize("cls, kwargs", RESUME_CASES, ids=[c.__name__ for c, _ in RESUME_CASES])
@pytest.mark.parametrize("load_before_build", [False, True])
def test_state_dict_round_trip_resumes_bitwise(cls, kwargs, load_before_build):
    model_a, x, y = _model_and_data()
    reference = cls(**kwargs)
    reference.build(list(model_a.parameters()))
    _run(model_a, reference, x, y, 10)

    model_b, x, y = _model_and_data()
    first = cls(**kwargs)
    first.build(list(model_b.parameters()))
    _run(model_b, first, x, y, 5)
    buffer = io.BytesIO()
    torch.save({"model": model_b.state_dict(), "optimizer": first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    model_c, x, y = _model_and_data()
    model_c.load_state_dict(saved["model"])
    resumed = cls.from_config(first.get_config())
    if load_before_build:
        resumed.load_state_dict(saved["optimizer"])
        resumed.build(list(model_c.parameters()))
    else:
        resumed.build(list(model_c.parameters()))
        resumed.load_state_dict(saved["optimizer"])
    assert resumed.iterations == 5
    assert resumed.implementation == reference.implementation
    _run(model_c, resumed, x, y, 5)
    assert resumed.iterations == 10
    for a, c in zip(model_a.parameters(), model_c.parameters()):
        assert torch.equal(a, c)


def test_state_dict_restores_a_learning_rate_set_by_a_callback():
    optimizer = O.SGD(learning_rate=0.1)
    optimizer.build([torch.nn.Parameter(torch.zeros(1))])
    optimizer.learning_rate = 0.02
    state = optimizer.state_dict()
    fresh = O.SGD(learning_rate=0.1)
    fresh.build([torch.nn.Parameter(torch.zeros(1))])
    fresh.load_state_dict(state)
    assert fresh.learning_rate == 0.02
    assert fresh.torch_optimizer.param_groups[0]["lr"] == 0.02
    with pytest.raises(ValueError, match="expects the dict returned by `state_dict\\(\\)`"):
        fresh.load_state_dict({"state": {}})


# ----------------------------------------------------------------------------- config / get
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_get_config_round_trip_and_keras_config_compatibility(cls):
    import keras

    optimizer = cls(learning_rate=S.PolynomialDecay(0.1, 100), clipnorm=2.0, name="opt")
    config = optimizer.get_config()
    assert config["learning_rate"] == {"class_name": "PolynomialDecay",
                                       "config": S.PolynomialDecay(0.1, 100).get_config()}
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone = O.deserialize(O.serialize(optimizer))
    assert type(clone) is cls and clone.get_config() == config
    # Same keys and default values as Keras' config; Keras' config loads into deepnet.
    keras_config = getattr(keras.optimizers, cls.__name__)().get_config()
    ours = cls().get_config()
    assert set(ours) == set(keras_config)
    for key, value in keras_config.items():
        if key not in ("name", "learning_rate"):
            assert ours[key] == value, key
        elif key == "learning_rate":
            assert ours[key] == pytest.approx(value)
    assert cls.from_config(keras_config).get_config()["name"] == keras_config["name"]


def test_default_names_follow_keras():
    assert [O.Adam().name, O.Adam().name, O.RMSprop().name, O.AdamW().name, O.SGD().name] == [
        "adam", "adam_1", "rm_sprop", "adam_w", "sgd"]


def test_get_resolves_identifiers():
    for name, cls in [("adam", O.Adam), ("ADAM", O.Adam), ("Sgd", O.SGD), ("rmsprop", O.RMSprop), ("AdamW", O.AdamW),
                      ("adagrad", O.Adagrad), ("adadelta", O.Adadelta), ("adamax", O.Adamax), ("nadam", O.Nadam),
                      ("lion", O.Lion)]:
        assert type(O.get(name)) is cls
    instance = O.Adam(0.01)
    assert O.get(instance) is instance
    assert type(O.get(O.Nadam)) is O.Nadam
    from_dict = O.get({"class_name": "sgd", "config": {"learning_rate": 0.5, "momentum": 0.9}})
    assert type(from_dict) is O.SGD and from_dict.learning_rate == 0.5 and from_dict.momentum == 0.9
    wrapped = O.get(torch.optim.RAdam)
    assert isinstance(wrapped, O.TorchOptimizer) and wrapped.learning_rate == 1e-3
    clone = O.deserialize(O.serialize(wrapped))
    assert clone.optimizer_class is torch.optim.RAdam
    with pytest.raises(ValueError, match="Unknown optimizer 'adm'.*Did you mean 'adam'.*Valid names: adadelta"):
        O.get("adm")
    with pytest.raises(ValueError, match="Unknown optimizer 'Foo'"):
        O.get({"class_name": "Foo", "config": {}})
    with pytest.raises(TypeError, match="Could not interpret optimizer identifier"):
        O.get(42)
    with pytest.raises(TypeError, match="already bound to parameters.*Pass its class"):
        O.get(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))]))


# ----------------------------------------------------------------------------- bad arguments
BAD_ARGUMENTS = [
    (O.Adam, {"learning_rate": -1.0}, ValueError, r"`learning_rate` of Adam, expected a positive float.*learning_rate=-1.0"),
    (O.SGD, {"learning_rate": float("inf")}, ValueError, r"`learning_rate` of SGD"),
    (O.SGD, {"learning_rate": "fast"}, ValueError, r"`learning_rate` of SGD"),
    (O.Adam, {"beta_1": 1.5}, ValueError, r"`beta_1` of Adam, expected a float in \[0, 1\)\. Received: beta_1=1.5"),
    (O.Adam, {"beta_2": -0.1}, ValueError, r"`beta_2` of Adam"),
    (O.Adamax, {"beta_1": 1.0}, ValueError, r"`beta_1` of Adamax"),
    (O.Nadam, {"beta_2": 2}, ValueError, r"`beta_2` of Nadam"),
    (O.Adam, {"epsilon": -1e-7}, ValueError, r"`epsilon` of Adam, expected a float >= 0"),
    (O.Adam, {"amsgrad": "yes"}, TypeError, r"`amsgrad` of Adam, expected a bool"),
    (O.SGD, {"momentum": -0.1}, ValueError, r"`momentum` of SGD, expected a float in \[0, 1\]"),
    (O.SGD, {"momentum": 1.5}, ValueError, r"`momentum` of SGD"),
    (O.SGD, {"nesterov": 1}, TypeError, r"`nesterov` of SGD"),
    (O.RMSprop, {"rho": 1.5}, ValueError, r"`rho` of RMSprop"),
    (O.RMSprop, {"momentum": -1.0}, ValueError, r"`momentum` of RMSprop"),
    (O.RMSprop, {"centered": None}, TypeError, r"`centered` of RMSprop"),
    (O.Adagrad, {"initial_accumulator_value": -0.1}, ValueError, r"`initial_accumulator_value` of Adagrad"),
    (O.Adadelta, {"rho": -0.5}, ValueError, r"`rho` of Adadelta"),
    (O.Lion, {"beta_1": 0.0}, ValueError, r"`beta_1` of Lion, expected a float in \(0, 1\]"),
    (O.Lion, {"beta_2": 1.5}, ValueError, r"`beta_2` of Lion"),
    (O.AdamW, {"weight_decay": None}, ValueError, r"`weight_decay` of AdamW"),
    (O.Adam, {"weight_decay": -0.1}, ValueError, r"`weight_decay` of Adam, expected a float >= 0"),
    (O.SGD, {"clipnorm": 1.0, "clipvalue": 0.5}, ValueError, r"Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"),
    (O.SGD, {"clipnorm": 1.0, "global_clipnorm": 1.0}, ValueError, r"Only one of"),
    (O.SGD, {"clipvalue": 1.0, "global_clipnorm": 1.0}, ValueError, r"Only one of"),
    (O.SGD, {"clipnorm": -1.0}, ValueError, r"`clipnorm` of SGD, expected a float > 0"),
    (O.SGD, {"clipvalue": 0}, ValueError, r"`clipvalue` of SGD"),
    (O.SGD, {"global_clipnorm": "1"}, ValueError, r"`global_clipnorm` of SGD"),
    (O.Adam, {"use_ema": "yes"}, TypeError, r"`use_ema` of Adam, expected a bool"),
    (O.Adam, {"gradient_accumulation_steps": 0}, ValueError, r"`gradient_accumulation_steps` of Adam, expected an int >= 1"),
    (O.Adam, {"decay": 0.1}, ValueError, r"`decay` of Adam is not supported.*schedule"),
    (O.Adam, {"betas": (0.9, 0.99)}, ValueError, r"Argument\(s\) not recognized by Adam: \{'betas'"),
    (O.Adam, {"name": 3}, TypeError, r"`name` of Adam"),
    (O.TorchOptimizer, {"optimizer_class": "NotAnOptimizer"}, ValueError, r"Could not find the torch optimizer"),
    (O.TorchOptimizer, {"optimizer_class": torch.nn.Linear}, TypeError, r"`optimizer_class` of TorchOptimizer"),
    (O.TorchOptimizer, {"optimizer_class": torch.optim.SGD, "options": {"lr": 0.1}}, ValueError, r"`options`"),
    (S.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.9}, ValueError,
     r"`decay_steps` of ExponentialDecay, expected a number > 0"),
    (S.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "staircase": "yes"},
     TypeError, r"`staircase` of ExponentialDecay"),
    (S.PiecewiseConstantDecay, {"boundaries": [1, 2], "values": [1.0, 0.5]}, ValueError,
     r"length of `boundaries` must be one less"),
    (S.PiecewiseConstantDecay, {"boundaries": [2, 1], "values": [1.0, 0.5, 0.1]}, ValueError, r"strictly increasing"),
    (S.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": -5}, ValueError, r"`decay_steps` of CosineDecay"),
    (S.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": 5, "warmup_steps": -1}, ValueError,
     r"`warmup_steps` of CosineDecay"),
    (S.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 0}, ValueError,
     r"`first_decay_steps` of CosineDecayRestarts"),
    (S.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 0.0}, ValueError,
     r"`t_mul` of CosineDecayRestarts"),
    (S.PolynomialDecay, {"initial_learning_rate": 0.1, "decay_steps": 5, "power": -1.0}, ValueError,
     r"`power` of PolynomialDecay"),
    (S.InverseTimeDecay, {"initial_learning_rate": "0.1", "decay_steps": 5, "decay_rate": 0.5}, ValueError,
     r"`initial_learning_rate` of InverseTimeDecay"),
]


@pytest.mark.parametrize("factory, kwargs, error, message", BAD_ARGUMENTS,
                         ids=[f"{f.__name__}-{'-'.join(k)}" for f, k, _, _ in BAD_ARGUMENTS])
def test_bad_arguments(factory, kwargs, error, message):
    with pytest.raises(error, match=message):
        factory(**kwargs)


def test_bad_schedule_step_and_config():
    with pytest.raises(TypeError, match="expects an integer step"):
        S.ExponentialDecay(0.1, 10, 0.9)("3")
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'Nope'"):
        S.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="expects a LearningRateSchedule"):
        S.serialize(lambda step: 0.1)
