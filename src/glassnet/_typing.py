"""Type aliases for glassnet's annotations.

Used only in annotations, so importing this module costs nothing at run time
beyond NumPy, which glassnet imports anyway.
"""

import os
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

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
