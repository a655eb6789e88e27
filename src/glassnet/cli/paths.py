"""Checks of the files a command will write, made before it does any work.

A command that trains for minutes and then cannot save its model has lost the
user's time, and one that writes its output over its own input has lost the
user's data. :func:`check_outputs` rejects both cases up front.
"""

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TypeAlias

# An (option, path) pair such as ("--out", "model.glassnet"). check_outputs skips a None path.
OptionPath: TypeAlias = tuple[str, "str | os.PathLike[str] | None"]


def check_outputs(outputs: Iterable[OptionPath], inputs: Iterable[OptionPath] = ()) -> None:
    """Raise InvalidInputError unless every output path can be written safely.

    Parameters
    ----------
    outputs : iterable of (str, str or None)
        ``(option, path)`` pairs of the files the command writes, e.g.
        ``("--out", "model.glassnet")``; a None path is skipped.
    inputs : iterable of (str, str or None)
        ``(option, path)`` pairs of the files the command reads. No output may
        be one of them, and no two outputs may be the same file.
    """
    from ..errors import InvalidInputError

    output_paths = [(option, Path(path)) for option, path in outputs if path]
    input_paths = [(option, Path(path)) for option, path in inputs if path]
    for option, path in output_paths:
        if path.is_dir():
            raise InvalidInputError(f"{option} {path} is a folder; give a file path, e.g. {path / 'out'}")
        folder = path.parent
        if not folder.is_dir():
            raise InvalidInputError(f"{option} {path}: the folder {folder} does not exist; create it first "
                                    "or choose another path")
        if not _can_create_in(folder) or (path.exists() and not os.access(path, os.W_OK)):
            raise InvalidInputError(f"{option} {path} cannot be written (the folder {folder} does not accept new files); "
                                    "choose another path")
    for index, (option, path) in enumerate(output_paths):
        for other_option, other in input_paths + output_paths[:index]:
            if _same_file(path, other):
                kind = "reads" if (other_option, other) in input_paths else "also writes"
                raise InvalidInputError(f"{option} {path} is the file that {other_option} {kind}; writing it "
                                        f"would overwrite that file. Give {option} another path")


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.abspath(first) == os.path.abspath(second)


def _can_create_in(folder: Path) -> bool:
    # Permission bits do not tell the whole story (root ignores them; /proc and
    # read-only mounts refuse anyway), so create and remove a small file.
    import tempfile  # here, because a command without output files never needs it

    try:
        descriptor, name = tempfile.mkstemp(prefix=".glassnet-probe.", dir=folder)
    except OSError:
        return False
    os.close(descriptor)
    os.unlink(name)
    return True
