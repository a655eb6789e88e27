"""Learning-rate schedules: closed-form values, the plateau rule against PyTorch, and errors."""

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.schedules import ConstantSchedule, CosineDecay, ExponentialDecay, ReduceOnPlateau, StepDecay


def test_constant_schedule_keeps_rate():
    assert [ConstantSchedule().learning_rate(e, 0.3) for e in range(3)] == [0.3, 0.3, 0.3]


def test_step_decay_closed_form():
    schedule = StepDecay(step_size=3, gamma=0.5)
    rates = [schedule.learning_rate(e, 0.1) for e in range(7)]
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rel=1e-15)


def test_exponential_decay_closed_form():
    schedule = ExponentialDecay(gamma=0.9)
    assert [schedule.factor(e) for e in range(4)] == pytest.approx([1.0, 0.9, 0.81, 0.729], rel=1e-15)


def test_cosine_without_warmup_closed_form():
    # factor(e) = ½ (1 + cos(π e / 4)) for E = 4.
    schedule = CosineDecay(epochs=4)
    expected = [1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5, 0.5 * (1 + math.cos(3 * math.pi / 4)), 0.0]
    assert [schedule.factor(e) for e in range(5)] == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_cosine_with_warmup_closed_form():
    # Warm-up 1/3, 2/3, 3/3, then cosine over the remaining 4 epochs towards f_min = 0.1.
    schedule = CosineDecay(epochs=7, warmup_epochs=3, minimum_factor=0.1)
    factors = [schedule.factor(e) for e in range(8)]
    assert factors[:3] == pytest.approx([1 / 3, 2 / 3, 1.0], rel=1e-15)
    assert factors[3] == pytest.approx(1.0, rel=1e-15)
    assert factors[5] == pytest.approx(0.1 + 0.9 * 0.5, rel=1e-15)
    assert factors[7] == pytest.approx(0.1, rel=1e-15)


def test_cosine_matches_torch_cosine_annealing():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle; install glassnet[test]")
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=0.2)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.02)
    schedule = CosineDecay(epochs=10, minimum_factor=0.1)
    for epoch in range(10):
        assert schedule.learning_rate(epoch, 0.2) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        optimizer.step()
        reference.step()


def test_plateau_reduces_after_patience():
    plateau = ReduceOnPlateau(mode="min", factor=0.5, patience=2)
    rates = []
    rate = 1.0
    for value in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        rate = plateau.update(value, rate)
        rates.append(rate)
    # Bad epochs: 1, 2, 3 -> reduce at the 3rd bad epoch (> patience), then count again.
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_plateau_matches_torch_with_cooldown_and_minimum():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle; install glassnet[test]")
    values = [1.0, 0.8, 0.81, 0.79, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7, 0.7, 0.7]
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.3, patience=1,
                                                           threshold=0.005, threshold_mode="abs", cooldown=2,
                                                           min_lr=0.05)
    plateau = ReduceOnPlateau(mode="min", factor=0.3, patience=1, min_delta=0.005, cooldown=2, minimum=0.05)
    rate = 1.0
    for value in values:
        reference.step(value)
        rate = plateau.update(value, rate)
        assert rate == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)


def test_plateau_max_mode_counts_rising_values():
    plateau = ReduceOnPlateau(mode="max", factor=0.1, patience=0)
    assert plateau.update(0.5, 1.0) == 1.0
    assert plateau.update(0.6, 1.0) == 1.0
    assert plateau.update(0.6, 1.0) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("factory", "error", "message"),
    [
        (lambda: StepDecay(0), gn.InvalidInputError, "step_size=0 must be an integer >= 1"),
        (lambda: StepDecay(2.5), gn.InvalidTypeError, r"step_size=2.5 \(float\) must be an integer"),
        (lambda: StepDecay(2, gamma=1.5), gn.InvalidInputError, r"gamma=1.5 must be in \(0, 1\]"),
        (lambda: ExponentialDecay(0.0), gn.InvalidInputError, r"gamma=0.0 must be in \(0, 1\]"),
        (lambda: CosineDecay(5, warmup_epochs=5), gn.InvalidInputError, "warmup_epochs=5 must be less than epochs=5"),
        (lambda: CosineDecay(5, minimum_factor=2), gn.InvalidInputError, r"minimum_factor=2.0 must be in \[0, 1\]"),
        (lambda: ReduceOnPlateau(mode="up"), gn.InvalidInputError, "mode='up' is not known"),
        (lambda: ReduceOnPlateau(factor=1.0), gn.InvalidInputError, r"factor=1.0 must be in \(0, 1\)"),
        (lambda: ReduceOnPlateau(patience=-1), gn.InvalidInputError, "patience=-1 must be an integer >= 0"),
    ],
)
def test_invalid_schedule_settings_raise(factory, error, message):
    with pytest.raises(error, match=message):
        factory()


def test_schedule_config_names_settings():
    assert StepDecay(4, 0.5).config() == {"name": "step", "step_size": 4, "gamma": 0.5}
    assert "epochs=10" in repr(CosineDecay(10))
    assert np.isclose(ExponentialDecay(0.5).learning_rate(2, 0.4), 0.1)
