"""bprop.optim: every optimizer, clipping and schedule against torch.optim (float64, 1e-12), float32 against
float64, thread-count independence, state export and resume, and the errors for bad input.

One registry (OPTIMIZER_CASES) lists each optimizer with hyperparameter sets; the generic tests sweep it.
"""
import math

import numpy as np
import pytest

import bprop
from bprop import _core, callbacks, nn, optim

SHAPES = [(3, 4), (7,), (1,)]
STEPS = 20

# (optimizer, hyperparameters): the same keywords mean the same in bprop and torch.optim.
OPTIMIZER_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5}),  # lerp weight >= 0.5
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
]
# Gradients are standard normal over 20 elements (norm ~4.5): clipnorm 1 always engages, 6 now and then.
CLIPS = [{}, {"clipnorm": 1.0}, {"clipnorm": 6.0}, {"clipvalue": 0.5}, {"clipnorm": 2.0, "clipvalue": 0.3}]


def case_id(name, hyperparameters, extras=None):
    items = {**hyperparameters, **(extras or {})}
    return name + ("-" + "-".join(f"{k}={v}" for k, v in items.items()) if items else "")


def optimizer_cases(clips=({},)):
    return [pytest.param(name, hp, clip, id=case_id(name, hp, clip)) for name, hp in OPTIMIZER_CASES for clip in clips]


# (id, bprop schedule, torch scheduler for a torch optimizer); torch's scheduler steps once per optimizer step.
def _torch_sequential(optimizer, warmup, start_factor, then):
    import torch

    first = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor, total_iters=warmup)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [first, then(optimizer)], milestones=[warmup])


def _lr_scheduler():
    import torch

    return torch.optim.lr_scheduler


SCHEDULE_CASES = [
    ("StepDecay", lambda: optim.StepDecay(3, 0.5, per="step"), lambda o: _lr_scheduler().StepLR(o, step_size=3, gamma=0.5)),
    ("ExponentialDecay", lambda: optim.ExponentialDecay(0.9, per="step"), lambda o: _lr_scheduler().ExponentialLR(o, 0.9)),
    ("CosineDecay", lambda: optim.CosineDecay(8, eta_min=0.01, per="step"),  # 20 steps: past t_max and back up
     lambda o: _lr_scheduler().CosineAnnealingLR(o, T_max=8, eta_min=0.01)),
    ("LinearWarmup", lambda: optim.LinearWarmup(5, 0.2, per="step"),
     lambda o: _lr_scheduler().LinearLR(o, start_factor=0.2, total_iters=5)),
    ("LinearWarmup-CosineDecay", lambda: optim.LinearWarmup(5, 0.25, then=optim.CosineDecay(10, per="step"), per="step"),
     lambda o: _torch_sequential(o, 5, 0.25, lambda o: _lr_scheduler().CosineAnnealingLR(o, T_max=10))),
    ("LinearWarmup-StepDecay", lambda: optim.LinearWarmup(4, 0.5, then=optim.StepDecay(3, 0.5, per="step"), per="step"),
     lambda o: _torch_sequential(o, 4, 0.5, lambda o: _lr_scheduler().StepLR(o, step_size=3, gamma=0.5))),
]


# ---- helpers -------------------------------------------------------------------------------------
def make_parameters(values):
    params = []
    for i, v in enumerate(values):
        p = getattr(_core, f"Parameter_{v.dtype.name}")(f"p{i}", list(v.shape))
        p.set_value(v)
        params.append(p)
    return params


def problem(seed, dtype=np.float64, shapes=SHAPES, steps=STEPS):
    """Initial values and a fresh gradient for every step."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return values, grads


def run_bprop(opt, params, grads):
    """Steps `opt` once per gradient list; returns the parameter values and the rate of every step."""
    trajectory, rates = [], []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.set_grad(g)
        rates.append(opt.current_lr)
        opt.step()
        trajectory.append([p.value() for p in params])
    return trajectory, rates


def run_torch(name, hyperparameters, clip, values, grads, make_scheduler=None, lr_changes=None):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(v, requires_grad=True) for v in values]
    opt = getattr(torch.optim, name)(params, **hyperparameters, foreach=False)
    scheduler = make_scheduler(opt) if make_scheduler else None
    trajectory, rates = [], []
    for t, step_grads in enumerate(grads):
        if lr_changes and t in lr_changes:
            opt.param_groups[0]["lr"] = lr_changes[t]
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g)
        if "clipnorm" in clip:
            torch.nn.utils.clip_grad_norm_(params, clip["clipnorm"], foreach=False)
        if "clipvalue" in clip:
            torch.nn.utils.clip_grad_value_(params, clip["clipvalue"], foreach=False)
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if scheduler:
            scheduler.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, rates, opt, params


def assert_trajectories_close(got, expected, rtol, atol):
    for t, (got_step, expected_step) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(got_step, expected_step)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {t + 1}, parameter {i}")


def assert_trajectories_equal(got, expected):
    for t, (got_step, expected_step) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(got_step, expected_step)):
            np.testing.assert_array_equal(a, b, err_msg=f"step {t + 1}, parameter {i}")


# ---- agreement with torch.optim -------------------------------------------------------------------
@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases(CLIPS))
def test_trajectory_matches_torch(name, hyperparameters, clip):
    values, grads = problem(seed=len(name) + len(hyperparameters))
    params = make_parameters(values)
    opt = getattr(optim, name)(params, **hyperparameters, **clip)
    got, _ = run_bprop(opt, params, grads)
    expected, _, torch_opt, torch_params = run_torch(name, hyperparameters, clip, values, grads)
    assert_trajectories_close(got, expected, rtol=1e-12, atol=1e-12)
    # The state is named as torch names it: "<torch state key>.<parameter index>".
    state = opt.state_dict()["state"]
    for key, array in state.items():
        kind, index = key.rsplit(".", 1)
        expected_state = torch_opt.state[torch_params[int(index)]][kind].numpy()
        np.testing.assert_allclose(array, expected_state, rtol=1e-12, atol=1e-12, err_msg=key)
    assert len(state) == sum(len(set(s) - {"step"}) for s in torch_opt.state.values())


@pytest.mark.parametrize("optimizer", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                       ("AdamW", {"lr": 0.01, "weight_decay": 0.1})], ids=["SGD", "AdamW"])
@pytest.mark.parametrize("make_schedule, make_torch_scheduler",
                         [pytest.param(b, t, id=i) for i, b, t in SCHEDULE_CASES])
def test_schedule_matches_torch(optimizer, make_schedule, make_torch_scheduler):
    name, hyperparameters = optimizer
    values, grads = problem(seed=7)
    params = make_parameters(values)
    opt = getattr(optim, name)(params, **hyperparameters, schedule=make_schedule())
    got, rates = run_bprop(opt, params, grads)
    expected, torch_rates, _, _ = run_torch(name, hyperparameters, {}, values, grads, make_torch_scheduler)
    np.testing.assert_allclose(rates, torch_rates, rtol=1e-13, atol=0)
    assert_trajectories_close(got, expected, rtol=1e-12, atol=1e-12)


def test_schedule_rates_by_step():
    """The documented closed forms, step by step, without torch."""
    t = np.arange(12)
    assert [optim.StepDecay(3, 0.5, per="step").rate(2.0, s) for s in t] == [2.0 * 0.5 ** (s // 3) for s in t]
    assert [optim.ExponentialDecay(0.9, per="step").rate(1.0, s) for s in t] == [0.9 ** s for s in t]
    cosine = optim.CosineDecay(4, eta_min=0.1, per="step")
    assert cosine.rate(1.0, 0) == 1.0 and cosine.rate(1.0, 4) == pytest.approx(0.1) and cosine.rate(1.0, 8) == 1.0
    warmup = optim.LinearWarmup(4, 0.0, then=optim.ExponentialDecay(0.5, per="step"), per="step")
    assert [warmup.rate(1.0, s) for s in range(7)] == [0.0, 0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    assert [optim.LinearWarmup(2, 0.5, per="step").rate(1.0, s) for s in range(4)] == [0.5, 0.75, 1.0, 1.0]


def test_setting_lr_rescales_the_schedule_and_matches_torch():
    name, hyperparameters = "SGD", {"lr": 0.1, "momentum": 0.9}
    values, grads = problem(seed=3)
    params = make_parameters(values)
    opt = optim.SGD(params, **hyperparameters)
    first, _ = run_bprop(opt, params, grads[:10])
    opt.lr = 0.03
    second, _ = run_bprop(opt, params, grads[10:])
    expected, _, _, _ = run_torch(name, hyperparameters, {}, values, grads, lr_changes={10: 0.03})
    assert_trajectories_close(first + second, expected, rtol=1e-12, atol=1e-12)

    scheduled = optim.Adam(make_parameters(values), lr=0.1, schedule=optim.ExponentialDecay(0.5, per="step"))
    run_bprop(scheduled, scheduled.parameters(), grads[:3])
    scheduled.lr = 0.2
    assert scheduled.lr == 0.2 and scheduled.current_lr == pytest.approx(0.2 * 0.5 ** 3, rel=1e-15)


# ---- float32, threads ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases([{}, {"clipnorm": 1.0, "clipvalue": 0.5}]))
def test_float32_close_to_float64(name, hyperparameters, clip):
    values, grads = problem(seed=11)
    trajectories = []
    for dtype in (np.float32, np.float64):
        params = make_parameters([v.astype(dtype) for v in values])
        opt = getattr(optim, name)(params, **hyperparameters, **clip)
        assert isinstance(opt.core, getattr(_core, f"{name}_{np.dtype(dtype).name}"))
        assert opt.dtype == np.dtype(dtype).name
        trajectory, _ = run_bprop(opt, params, [[g.astype(dtype) for g in step] for step in grads])
        trajectories.append(trajectory)
    assert all(a.dtype == np.float32 for a in trajectories[0][-1])
    assert_trajectories_close(trajectories[0], trajectories[1], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not _core.has_threads(), reason="built without threads: one thread only")
@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases([{"clipnorm": 50.0, "clipvalue": 2.0}]))
def test_same_bits_at_one_and_two_threads(name, hyperparameters, clip, threads):
    # One parameter above the threshold splits across threads, and so does the global norm.
    shapes = [(_core.optim_parallel_min_elements() + 1001,), (7,)]
    values, grads = problem(seed=5, shapes=shapes, steps=4)
    trajectories = []
    for n in (1, 2):
        threads(n)
        params = make_parameters(values)
        opt = getattr(optim, name)(params, **hyperparameters, **clip, schedule=optim.StepDecay(2, 0.5, per="step"))
        trajectories.append(run_bprop(opt, params, grads)[0])
    assert_trajectories_equal(trajectories[0], trajectories[1])


@pytest.mark.skipif(not _core.has_threads(), reason="built without threads: one thread only")
def test_large_parameter_on_two_threads_matches_torch(threads):
    threads(2)
    shapes = [(_core.optim_parallel_min_elements() * 2 + 3,), (5,)]
    values, grads = problem(seed=9, shapes=shapes, steps=3)
    hyperparameters, clip = {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, {"clipnorm": 100.0}
    params = make_parameters(values)
    got, _ = run_bprop(optim.AdamW(params, **hyperparameters, **clip), params, grads)
    expected, _, _, _ = run_torch("AdamW", hyperparameters, clip, values, grads)
    assert_trajectories_close(got, expected, rtol=1e-12, atol=1e-12)


# ---- state: export, restore, resume -----------------------------------------------------------------
@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases([{"clipnorm": 1.0}]))
def test_resume_from_state_continues_the_same_trajectory(name, hyperparameters, clip):
    values, grads = problem(seed=13)
    schedule = optim.LinearWarmup(3, 0.5, then=optim.StepDecay(4, 0.5, per="step"), per="step")
    params = make_parameters(values)
    uninterrupted, _ = run_bprop(getattr(optim, name)(params, **hyperparameters, **clip, schedule=schedule),
                                 params, grads)

    params = make_parameters(values)
    first = getattr(optim, name)(params, **hyperparameters, **clip, schedule=schedule)
    run_bprop(first, params, grads[:8])
    saved = first.state_dict()
    assert saved["step_count"] == 8 and saved["name"] == name

    resumed_params = make_parameters([p.value() for p in params])
    resumed = optim.deserialize(saved).bind(resumed_params)
    assert resumed.get_config() == first.get_config()
    resumed.load_state_dict(saved)
    assert resumed.step_count == 8 and resumed.current_lr == first.current_lr
    rest, _ = run_bprop(resumed, resumed_params, grads[8:])
    assert_trajectories_equal(rest, uninterrupted[8:])


def test_state_is_exported_in_a_fixed_order_as_copies():
    params = make_parameters(problem(seed=1)[0])
    opt = optim.Adam(params, amsgrad=True)
    names = list(opt.state_dict()["state"])
    assert names == [f"{kind}.{i}" for i in range(len(SHAPES)) for kind in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")]
    state = opt.state_dict()["state"]
    state["exp_avg.0"][...] = 5.0
    assert np.all(opt.state_dict()["state"]["exp_avg.0"] == 0.0)
    assert state["exp_avg.0"].shape == SHAPES[0] and state["exp_avg.2"].shape == SHAPES[2]


def test_failed_load_changes_nothing():
    params = make_parameters(problem(seed=1)[0])
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    good = opt.state_dict()
    bad = {**good, "step_count": 3, "state": {**good["state"], "momentum_buffer.2": np.ones((2,))}}
    bad["state"]["momentum_buffer.0"] = np.ones(SHAPES[0])
    with pytest.raises(ValueError, match=r"\[SGD.load_state\] momentum_buffer.2 has shape \(2,\); expected \(1,\)"):
        opt.load_state_dict(bad)
    assert opt.step_count == 0 and np.all(opt.state_dict()["state"]["momentum_buffer.0"] == 0)


@pytest.mark.parametrize("mutate, error, message", [
    (lambda s: s.update(name="Adam"), ValueError, r"\[SGD.load_state_dict\] the state is from Adam; this optimizer is SGD"),
    (lambda s: s.pop("step_count"), ValueError, r"state is missing step_count"),
    (lambda s: s["state"].pop("momentum_buffer.1"), ValueError, r"missing 'momentum_buffer.1'"),
    (lambda s: s["state"].update(extra=np.zeros(1)), ValueError, r"unexpected 'extra'"),
    (lambda s: s["state"].update({"momentum_buffer.1": np.zeros(7, np.float32)}), TypeError, r"must be float64"),
    (lambda s: s["state"].update({"momentum_buffer.1": [0.0] * 7}), TypeError, r"must be a numpy array; got list"),
    (lambda s: s.update(step_count=-1), ValueError, r"step_count must be >= 0; got -1"),
    (lambda s: s.update(step_count=1.5), TypeError, r"step_count must be an integer"),
])
def test_load_state_dict_errors(mutate, error, message):
    opt = optim.SGD(make_parameters(problem(seed=1)[0]), lr=0.1, momentum=0.9)
    state = opt.state_dict()
    mutate(state)
    with pytest.raises(error, match=message):
        opt.load_state_dict(state)


# ---- the Python API ---------------------------------------------------------------------------------
def test_unbound_optimizer_binds_later_once():
    opt = optim.Adam(lr=0.01, clipnorm=1.0)
    assert not opt.bound and opt.dtype is None and opt.step_count == 0 and opt.parameters() == []
    with pytest.raises(ValueError, match=r"\[Adam\] the optimizer has no parameters yet; .*bind\(parameters\)"):
        opt.step()
    opt.lr = 0.02
    params = make_parameters(problem(seed=1)[0])
    assert opt.bind(params) is opt and opt.bind(params) is opt  # binding again to the same parameters is fine
    assert opt.lr == 0.02 and opt.dtype == "float64"
    with pytest.raises(ValueError, match=r"\[Adam.bind\] this optimizer is already bound to other parameters"):
        opt.bind(make_parameters(problem(seed=1)[0]))
    for p in params:
        p.set_grad(np.ones(p.shape))
    opt.step()
    opt.zero_grad()
    assert all(np.all(p.grad == 0) for p in params) and opt.step_count == 1


def test_config_repr_and_get():
    schedule = optim.LinearWarmup(10, 0.1, then=optim.CosineDecay(100, eta_min=1e-5, per="step"), per="step")
    opt = optim.AdamW(lr=3e-4, betas=[0.8, 0.95], clipvalue=1.0, schedule=schedule)
    config = opt.get_config()
    assert config == {"lr": 3e-4, "betas": (0.8, 0.95), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False,
                      "clipnorm": None, "clipvalue": 1.0,
                      "schedule": {"name": "LinearWarmup", "config": {
                          "warmup_steps": 10, "start_factor": 0.1, "per": "step",
                          "then": {"name": "CosineDecay", "config": {"t_max": 100, "eta_min": 1e-5, "per": "step"}}}}}
    assert optim.AdamW.from_config(config).get_config() == config
    assert repr(opt) == ("AdamW(lr=0.0003, betas=(0.8, 0.95), eps=1e-08, weight_decay=0.01, amsgrad=False, "
                         "clipvalue=1.0, schedule=LinearWarmup(warmup_steps=10, start_factor=0.1, "
                         "then=CosineDecay(t_max=100, eta_min=1e-05, per='step'), per='step'))")
    assert repr(optim.SGD()) == "SGD(lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)"
    assert isinstance(optim.get("rmsprop"), optim.RMSprop) and optim.get(opt) is opt
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        optim.get("adamax")
    with pytest.raises(ValueError, match=r"\[optim.deserialize\] unknown optimizer 'Nope'"):
        optim.deserialize({"name": "Nope", "config": {}})
    with pytest.raises(ValueError, match=r"\[schedules.deserialize\] unknown schedule 'Linear'"):
        optim.schedules.deserialize({"name": "Linear", "config": {}})
    for name in ([], {}, 3):  # found by the fuzz suite: an unhashable name raised "unhashable type: 'list'"
        with pytest.raises(ValueError, match=r"\[schedules.deserialize\] unknown schedule"):
            optim.schedules.deserialize({"name": name})
    assert optim.schedules.deserialize(optim.schedules.serialize(schedule)).get_config() == schedule.get_config()


def test_torch_defaults():
    torch = pytest.importorskip("torch")
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, name)().get_config()
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
        for key, value in ours.items():
            if key not in ("clipnorm", "clipvalue", "schedule"):
                assert theirs[key] == value, f"{name}.{key}"


def test_schedule_can_be_set_later_and_removed():
    params = make_parameters(problem(seed=1)[0])
    opt = optim.SGD(params, lr=1.0)
    opt.schedule = optim.StepDecay(1, 0.5, per="step")
    assert opt.current_lr == 1.0
    for p in params:
        p.set_grad(np.zeros(p.shape))
    opt.step()
    assert opt.current_lr == 0.5
    opt.schedule = None
    assert opt.current_lr == 1.0 and opt.schedule is None


def test_step_never_throws_on_nan_gradients():
    params = make_parameters(problem(seed=1)[0])
    opt = optim.Adam(params, clipnorm=1.0, clipvalue=0.1)
    for p in params:
        p.set_grad(np.full(p.shape, np.nan))
    opt.step()
    assert all(np.all(np.isnan(p.value())) for p in params)


# ---- errors -----------------------------------------------------------------------------------------
BAD_HYPERPARAMETERS = [
    (lambda: optim.SGD(lr=-1), ValueError, r"^\[SGD\] lr must be >= 0; got -1$"),
    (lambda: optim.SGD(lr=float("nan")), ValueError, r"^\[SGD\] lr must be a finite number; got nan$"),
    (lambda: optim.SGD(lr="0.1"), TypeError, r"^\[SGD\] lr must be a real number; got str$"),
    (lambda: optim.SGD(lr=True), TypeError, r"^\[SGD\] lr must be a real number; got bool$"),
    (lambda: optim.SGD(momentum=-0.5), ValueError, r"^\[SGD\] momentum must be >= 0; got -0.5$"),
    (lambda: optim.SGD(dampening=2), ValueError, r"^\[SGD\] dampening must be in \[0, 1\]; got 2$"),
    (lambda: optim.SGD(nesterov=True), ValueError, r"^\[SGD\] nesterov needs momentum > 0 and dampening 0"),
    (lambda: optim.SGD(momentum=0.9, dampening=0.1, nesterov=True), ValueError, r"dampening 0.1$"),
    (lambda: optim.SGD(nesterov=1), TypeError, r"^\[SGD\] nesterov must be a bool; got int$"),
    (lambda: optim.Adam(betas=(1.0, 0.999)), ValueError, r"^\[Adam\] betas\[0\] must be in \[0, 1\); got 1$"),
    (lambda: optim.Adam(betas=(0.9, -0.1)), ValueError, r"^\[Adam\] betas\[1\] must be in \[0, 1\); got -0.1$"),
    (lambda: optim.Adam(betas=0.9), TypeError, r"^\[Adam\] betas must be a pair of real numbers; got float$"),
    (lambda: optim.Adam(betas=(0.9,)), TypeError, r"^\[Adam\] betas must be a pair of real numbers; got tuple of length 1$"),
    (lambda: optim.Adam(eps=0), ValueError, r"^\[Adam\] eps must be > 0; got 0$"),
    (lambda: optim.Adam(amsgrad="yes"), TypeError, r"^\[Adam\] amsgrad must be a bool; got str$"),
    (lambda: optim.AdamW(weight_decay=-1e-3), ValueError, r"^\[AdamW\] weight_decay must be >= 0; got -0.001$"),
    (lambda: optim.RMSprop(alpha=1.5), ValueError, r"^\[RMSprop\] alpha must be in \[0, 1\]; got 1.5$"),
    (lambda: optim.RMSprop(momentum=-1), ValueError, r"^\[RMSprop\] momentum must be >= 0; got -1$"),
    (lambda: optim.Adagrad(lr_decay=-1), ValueError, r"^\[Adagrad\] lr_decay must be >= 0; got -1$"),
    (lambda: optim.Adagrad(initial_accumulator_value=-1), ValueError, r"initial_accumulator_value must be >= 0"),
    (lambda: optim.SGD(clipnorm=0), ValueError, r"^\[SGD\] clipnorm must be > 0; got 0$"),
    (lambda: optim.SGD(clipvalue=-1), ValueError, r"^\[SGD\] clipvalue must be > 0; got -1$"),
    (lambda: optim.SGD(clipnorm="1"), TypeError, r"^\[SGD\] clipnorm must be a real number; got str$"),
    (lambda: optim.SGD(schedule="cosine"), TypeError, r"^\[SGD\] schedule must be a bprop.optim schedule or None"),
    (lambda: optim.StepDecay(0, per="step"), ValueError, r"^\[StepDecay\] step_size must be >= 1; got 0$"),
    (lambda: optim.StepDecay(2.5, per="step"), TypeError, r"^\[StepDecay\] step_size must be an integer; got float$"),
    (lambda: optim.StepDecay(2, gamma=0, per="step"), ValueError, r"^\[StepDecay\] gamma must be > 0; got 0$"),
    (lambda: optim.ExponentialDecay(-0.5, per="step"), ValueError, r"^\[ExponentialDecay\] gamma must be > 0; got -0.5$"),
    (lambda: optim.CosineDecay(0, per="step"), ValueError, r"^\[CosineDecay\] t_max must be >= 1; got 0$"),
    (lambda: optim.CosineDecay(10, eta_min=-1, per="step"), ValueError, r"^\[CosineDecay\] eta_min must be >= 0; got -1$"),
    (lambda: optim.LinearWarmup(5, start_factor=1.5, per="step"), ValueError, r"start_factor must be in \[0, 1\]; got 1.5$"),
    (lambda: optim.LinearWarmup(0, per="step"), ValueError, r"^\[LinearWarmup\] warmup_steps must be >= 1; got 0$"),
    (lambda: optim.LinearWarmup(5, then=0.1, per="step"), TypeError, r"^\[LinearWarmup\] then must be a schedule or None"),
]


@pytest.mark.parametrize("make, error, message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_lr_assignment():
    for opt in (optim.Adam(), optim.Adam(make_parameters(problem(seed=1)[0]))):
        with pytest.raises(ValueError, match=r"^\[Adam\] lr must be >= 0; got -0.1$"):
            opt.lr = -0.1
        with pytest.raises(TypeError, match=r"^\[Adam\] lr must be a real number; got NoneType$"):
            opt.lr = None
        assert opt.lr == 1e-3


def _parameter(dtype="float64", shape=(2,)):
    return getattr(_core, f"Parameter_{dtype}")("w", list(shape))


BAD_PARAMETER_LISTS = [
    (lambda: [], ValueError, r"^\[SGD\] the parameter list is empty; expected at least one parameter$"),
    (lambda: _parameter(), TypeError, r"got one Parameter \(put it in a list\)"),
    (lambda: [np.zeros(2)], TypeError, r"^\[SGD\] parameter 0 must be a bprop Parameter; got ndarray$"),
    (lambda: [_parameter("float32"), _parameter("float64")], TypeError,
     r"^\[SGD\] parameters must all have one dtype; got float32 \(parameter 0\) and float64 \(parameter 1\)$"),
    (lambda: [{"params": [_parameter()]}], TypeError, r"parameter groups \(dicts\) are not supported"),
    (lambda: 3, TypeError, r"^\[SGD\] parameters must be a list of parameters; got int$"),
]


@pytest.mark.parametrize("make_parameters_, error, message", BAD_PARAMETER_LISTS)
def test_bad_parameter_lists(make_parameters_, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(make_parameters_())


def test_duplicate_parameters():
    p, q = _parameter(), _parameter()
    with pytest.raises(ValueError, match=r"^\[Adam\] parameter 2 \('w'\) is parameter 0 again; list each parameter once$"):
        optim.Adam([p, q, p])
    with pytest.raises(ValueError, match=r"^\[Adam\] parameter 1 \('w'\) is parameter 0 again"):
        optim.Adam().bind([p, p])
    with pytest.raises(ValueError, match=r"^\[Adam.bind\] the parameter list is empty"):
        optim.Adam().bind([])


def test_zero_size_parameters_are_fine():
    p = _parameter(shape=(0, 3))
    opt = optim.Adam([p, _parameter()], clipnorm=1.0)
    opt.step()
    assert opt.state_dict()["state"]["exp_avg.0"].shape == (0, 3)
    assert math.isfinite(opt.current_lr)


# ---- the ISA-specific update loops (every optimizer's element loop is compiled per ISA) -------------
@pytest.fixture(params=bprop.cpu_info()["isas_available"])
def isa(request):
    previous = bprop.cpu_info()["isa"]
    bprop.set_isa(request.param)
    yield request.param
    bprop.set_isa(previous)


@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases())
def test_every_isa_loop_matches_torch(isa, name, hyperparameters, clip):
    pytest.importorskip("torch")
    shapes = [(7,), (33, 5), (1 << 15) + 3]  # odd sizes: vector tails; the last runs on two threads
    values, grads = problem(seed=3, shapes=shapes, steps=6)
    params = make_parameters(values)
    got, _ = run_bprop(getattr(optim, name)(params, **hyperparameters), params, grads)
    expected, *_ = run_torch(name, hyperparameters, {}, values, grads)
    assert_trajectories_close(got, expected, rtol=1e-12, atol=1e-12)
    values32, grads32 = [v.astype(np.float32) for v in values], [[g.astype(np.float32) for g in s] for s in grads]
    params32 = make_parameters(values32)
    got32, _ = run_bprop(getattr(optim, name)(params32, **hyperparameters), params32, grads32)
    assert_trajectories_close(got32, expected, rtol=1e-4, atol=1e-5)


def _schedule_data():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((96, 5)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)


def _scheduled_model(schedule, seed=3):
    bprop.manual_seed(seed)
    model = bprop.Sequential([nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2)])
    model.compile(optim.SGD(lr=0.2, momentum=0.9, schedule=schedule), nn.CrossEntropy())
    return model


def test_a_schedule_must_say_what_it_counts():
    for make in (lambda: optim.StepDecay(3), lambda: optim.ExponentialDecay(0.9), lambda: optim.CosineDecay(10),
                 lambda: optim.LinearWarmup(5)):
        with pytest.raises(TypeError, match=r"say what the schedule counts: per='epoch'"):
            make()
    with pytest.raises(ValueError, match=r"\[ExponentialDecay\] per must be 'epoch' or 'step'; got 'batch'"):
        optim.ExponentialDecay(0.9, per="batch")
    with pytest.raises(ValueError, match=r"\[LinearWarmup\] counts per epoch but then \(CosineDecay\) counts per step"):
        optim.LinearWarmup(2, then=optim.CosineDecay(10, per="step"), per="epoch")
    # A config saved before the unit was explicit counted steps, and still does.
    old = optim.schedules.deserialize({"name": "ExponentialDecay", "config": {"gamma": 0.5}})
    assert old.per == "step"


@pytest.mark.parametrize("per_batch_hooks", [False, True])
def test_a_per_epoch_schedule_changes_the_rate_once_an_epoch(per_batch_hooks):
    """ExponentialDecay(0.5, per="epoch") trains exactly as the same rates set by hand at each epoch's start
    (LearningRateScheduler), whichever way fit drives the epochs, and whatever the batches per epoch."""
    x, y = _schedule_data()
    rates, hooks = [], []
    scheduled = _scheduled_model(optim.ExponentialDecay(0.5, per="epoch"))
    spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: rates.append(scheduled._trainer.optimizer.current_lr))
    if per_batch_hooks:
        hooks.append(callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: None))
    scheduled.fit(x, y, epochs=4, batch_size=16, seed=2, verbose=0, callbacks=[spy] + hooks)
    assert rates == pytest.approx([0.2, 0.1, 0.05, 0.025])
    by_hand = _scheduled_model(None)
    by_hand.fit(x, y, epochs=4, batch_size=16, seed=2, verbose=0,
                callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.2 * 0.5 ** epoch)] + hooks)
    for a, b in zip(scheduled.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)
    plain = _scheduled_model(optim.ExponentialDecay(0.5, per="epoch"))
    plain.fit(x, y, epochs=4, batch_size=16, seed=2, verbose=0)  # all epochs in one C++ call
    for a, b in zip(scheduled.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_per_epoch_schedule_resumes_exactly(tmp_path):
    x, y = _schedule_data()
    whole = _scheduled_model(optim.StepDecay(1, 0.5, per="epoch"))
    whole.fit(x, y, epochs=4, batch_size=16, seed=6, verbose=0)
    first = _scheduled_model(optim.StepDecay(1, 0.5, per="epoch"))
    first.fit(x, y, epochs=2, batch_size=16, seed=6, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.bprop"))])
    resumed = _scheduled_model(optim.StepDecay(1, 0.5, per="epoch"), seed=9)
    resumed.fit(x, y, epochs=4, batch_size=16, verbose=0, resume_from=str(tmp_path / "e2.bprop"))
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_custom_loop_sets_the_epoch_a_per_epoch_schedule_reads():
    params = make_parameters([np.ones(3)])
    opt = optim.SGD(params, lr=1.0, schedule=optim.StepDecay(2, 0.1, per="epoch"))
    assert opt.epoch == 0 and opt.current_lr == 1.0
    opt.epoch = 2
    assert opt.current_lr == pytest.approx(0.1)
    for _ in range(5):
        opt.step()
    assert opt.current_lr == pytest.approx(0.1)  # steps do not move a per-epoch schedule
    with pytest.raises(ValueError, match=r"epoch must be >= 0"):
        opt.epoch = -1
