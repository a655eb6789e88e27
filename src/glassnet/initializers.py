"""Weight initialisers. Every random draw comes from a ``numpy.random.Generator``
passed in by the caller; the global NumPy random state is never read.

Glorot and Bengio (2010), "Understanding the difficulty of training deep
feedforward neural networks":
    glorot_uniform: W ~ U(-r, r),  r = sqrt(6 / (fan_in + fan_out))
    glorot_normal:  W ~ N(0, s²),  s = sqrt(2 / (fan_in + fan_out))
He et al. (2015), "Delving deep into rectifiers":
    he_uniform:     W ~ U(-r, r),  r = sqrt(6 / fan_in)
    he_normal:      W ~ N(0, s²),  s = sqrt(2 / fan_in)
Biases start at zero.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError


class Initializer(Protocol):
    """A function that takes (fan_in, fan_out, rng) and returns W of shape (fan_in, fan_out).

    This is a protocol, not a ``Callable`` alias, because the annotations of ``__call__`` stay
    strings until read. So importing glassnet does not import numpy.random before a draw needs
    it, and ``typing.get_type_hints`` resolves them in this module wherever Initializer is used.
    """

    def __call__(self, fan_in: int, fan_out: int, rng: np.random.Generator, /) -> NDArray[np.float64]: ...


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def glorot_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    std = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def zeros(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    return np.zeros((fan_in, fan_out))


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "zeros": zeros,
}


def get_initializer(name: str | Initializer) -> Initializer:
    """Return the initialiser function called ``name``."""
    if callable(name):
        return name
    key = str(name).lower().replace("-", "_")
    if key not in INITIALIZERS:
        valid = ", ".join(sorted(INITIALIZERS))
        raise InvalidInputError(f"init={name!r} is not a known initialiser; use one of: {valid}")
    return INITIALIZERS[key]


def as_generator(seed_or_rng: int | np.integer | np.random.Generator | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for a seed, a Generator or None.

    None gives a fresh generator seeded from the operating system, never the
    global NumPy state.
    """
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None or isinstance(seed_or_rng, (int, np.integer)) and not isinstance(seed_or_rng, bool):
        if seed_or_rng is not None and seed_or_rng < 0:
            raise InvalidInputError(f"seed={seed_or_rng} is negative; use an integer >= 0")
        return np.random.default_rng(seed_or_rng)
    raise InvalidInputError(
        f"seed={seed_or_rng!r} ({type(seed_or_rng).__name__}) is not a seed; "
        "pass an integer >= 0, a numpy.random.Generator or None"
    )
