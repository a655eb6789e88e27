"""Argument checks shared by the data modules."""

import numbers

from ..errors import InvalidInputError, InvalidTypeError

# The largest seed that scikit-learn's generators accept as ``random_state``.
MAX_SEED = 2**32 - 1

TASKS = ("classification", "regression")


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int, or raise unless it is an integer in [0, 2**32 - 1]."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InvalidTypeError(
            f"seed={seed!r} has type {type(seed).__name__}; expected an integer such as 0"
        )
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise InvalidInputError(
            f"seed={seed} is out of range; expected an integer from 0 to {MAX_SEED}"
        )
    return value


def check_task(task: object, argument: str = "task") -> str | None:
    """Return ``task`` if it is None, "classification" or "regression", or raise."""
    if task is None:
        return None
    if not isinstance(task, str):
        raise InvalidTypeError(
            f"{argument}={task!r} has type {type(task).__name__}; "
            f"expected one of {', '.join(repr(t) for t in TASKS)} or None"
        )
    if task not in TASKS:
        raise InvalidInputError(
            f"{argument}={task!r} is not a valid task; "
            f"use one of {', '.join(repr(t) for t in TASKS)}"
        )
    return task
