"""Exceptions raised by glassnet.

Every glassnet error subclasses a built-in exception, so callers that catch
``ValueError`` or ``TypeError`` keep working, and the command line can turn
any of them into a one-line message.
"""

from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .training import History


class GlassnetError(Exception):
    """Base class of every error raised on purpose by glassnet."""


class InvalidInputError(GlassnetError, ValueError):
    """An argument has the right type but an invalid value or shape."""


class InvalidTypeError(GlassnetError, TypeError):
    """An argument has a type glassnet cannot use."""


class NotFittedError(GlassnetError, ValueError):
    """A model was used for prediction before it was trained or loaded."""


class DivergenceError(GlassnetError, ArithmeticError):
    """Training produced a non-finite loss, gradient or parameter.

    Attributes
    ----------
    epoch, step : int
        Where the first non-finite value appeared (1-based).
    history : History or None
        The epochs completed before the divergence when
        :func:`glassnet.training.fit` raised the error, else None.
    """

    def __init__(self, message: str, epoch: int, step: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.history: History | None = None


class ModelFileError(GlassnetError, ValueError):
    """A model or checkpoint file is missing, corrupted or not a glassnet file."""


class MissingDependencyError(GlassnetError, ImportError):
    """An optional dependency needed by a feature is not installed."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import an optional module, or raise naming the extra that installs it.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"matplotlib.pyplot"``.
    extra : str
        Name of the glassnet extra that installs it, e.g. ``"plot"``.
    feature : str
        What the caller was doing, used in the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs the optional package '{module.split('.')[0]}', "
            f"which is not installed; run: pip install 'glassnet[{extra}]'"
        ) from exc
