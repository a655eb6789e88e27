"""Type aliases and protocols for glassnet's annotations.

Used only in annotations, so importing this module costs nothing at run time
beyond NumPy, which glassnet imports anyway.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .network import Sequential
    from .optimizers import Optimizer
    from .training import Callback, History

# A float32 or float64 array: parameters, activations, gradients, inputs.
FloatArray: TypeAlias = NDArray[np.floating[Any]]
# Any NumPy array, e.g. labels of any dtype.
AnyArray: TypeAlias = NDArray[Any]
# Array-like input whose length is its number of rows.
ArrayRows: TypeAlias = NDArray[Any] | Sequence[Any]
# A file path as the standard library's open() accepts it.
StrPath: TypeAlias = str | os.PathLike[str]
# Parsed JSON or TOML: a mapping whose values are checked where they are read.
JSONDict: TypeAlias = dict[str, Any]


class RunState(Protocol):
    """The part of :class:`~glassnet.training.TrainingState` that callbacks outside training.py use.

    Every member except ``stop_reason`` and ``stop_now``, which callbacks set,
    is a read-only property, so a state whose attributes have these types or
    narrower ones matches.
    """

    @property
    def network(self) -> Sequential: ...

    @property
    def optimizer(self) -> Optimizer: ...

    @property
    def history(self) -> History: ...

    @property
    def callbacks(self) -> list[Callback]: ...

    @property
    def rng(self) -> np.random.Generator: ...

    @property
    def epoch_rng_state(self) -> dict[str, Any] | None: ...

    @property
    def record(self) -> dict[str, Any]: ...

    @property
    def n_train(self) -> int: ...

    @property
    def n_val(self) -> int: ...

    @property
    def epochs(self) -> int: ...

    @property
    def batch_size(self) -> int: ...

    @property
    def epoch(self) -> int: ...

    @property
    def position(self) -> int: ...

    @property
    def step(self) -> int: ...

    @property
    def total_loss(self) -> float: ...

    @property
    def before_partial_record(self) -> dict[str, Any] | None: ...

    stop_reason: str
    stop_now: bool
