"""Safe model files and atomic writes.

Model files
-----------
A glassnet file is a ZIP archive (the layout ``numpy.savez`` uses) with one
``metadata.json`` member and one ``arrays/<name>.npy`` member per array. The
metadata declares the format name and version, the kind of file (``model``,
``network`` or ``checkpoint``), the architecture, and the shape and dtype of
every array. docs/model-format.md describes every field.

Loading never unpickles: arrays are parsed from their ``.npy`` header and raw
bytes (only little-endian float32 and float64 are accepted), and the metadata
is plain JSON. Every array's name, shape and dtype is checked against both
the declared table and the architecture, every value must be finite, and
anything else (a truncated or corrupted archive, a missing or extra member, a
wrong size, an unknown version) raises :class:`~glassnet.errors.ModelFileError`
before any object is returned.

Atomic writes
-------------
Every file glassnet writes goes through :func:`atomic_open` (or the
``atomic_write_*`` helpers): the data goes to a temporary file in the target's
folder, which is flushed, fsynced and then renamed over the target. A reader,
or a crash at any point, sees either the old file complete or the new file
complete, never a partly written one.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
import struct
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TextIO, TypeGuard, overload

import numpy as np

from ._typing import FloatArray, JSONDict, StrPath
from .errors import InvalidInputError, InvalidTypeError, ModelFileError

if TYPE_CHECKING:
    from .model import Model
    from .network import Sequential
    from .optimizers import Optimizer
    from .training import History

FORMAT_NAME = "glassnet"
FORMAT_VERSION = 1
KINDS = ("model", "network", "checkpoint")
METADATA_MEMBER = "metadata.json"
ARRAY_FOLDER = "arrays/"
# The metadata of a real model is a few kilobytes, and a long history is its
# largest part. The cap stops a crafted file from making the loader parse
# gigabytes of JSON.
MAX_METADATA_BYTES = 64 * 1024 * 1024
# A .npy header is 128 bytes for any realistic shape; numpy pads to 64 bytes.
MAX_NPY_HEADER_BYTES = 4096
ARRAY_DTYPES: dict[str, np.dtype[np.floating[Any]]] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
_ARRAY_NAME = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")

# Everything a damaged or hostile archive can make zipfile, zlib, json or
# numpy's header parser raise; the loader turns each into ModelFileError.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
    RecursionError,
    # numpy parses a .npy header with Python's tokenizer and ast.literal_eval
    # (never eval), which raise these for a damaged header.
    SyntaxError,
    tokenize.TokenError,
)


# ---------------------------------------------------------------- atomic writes


@overload
def atomic_open(path: StrPath, mode: Literal["w"], encoding: str | None = None,
                newline: str | None = None) -> contextlib.AbstractContextManager[TextIO]: ...


@overload
def atomic_open(path: StrPath, mode: Literal["wb"] = "wb", encoding: str | None = None,
                newline: str | None = None) -> contextlib.AbstractContextManager[BinaryIO]: ...


# The overloads above give the handle's type for each mode.
@contextlib.contextmanager
def atomic_open(path: StrPath, mode: str = "wb", encoding: str | None = None,
                newline: str | None = None) -> Iterator[Any]:
    """Open a temporary file next to ``path``; on success, fsync it and rename it over ``path``.

    Use as ``with atomic_open("out.csv", "w") as handle: ...``. If the block
    raises, the temporary file is removed and ``path`` is left untouched.
    """
    if mode not in ("w", "wb"):
        raise InvalidInputError(f"mode={mode!r} is not supported; use 'w' (text) or 'wb' (bytes)")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "folder does not exist", str(folder))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file; give a file path", str(path))
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        # Name the file the caller asked for, not the temporary name beside it.
        raise type(exc)(exc.errno, f"cannot write a file in {folder} ({exc.strerror})", str(path)) from exc
    try:
        os.fchmod(descriptor, _file_mode(path))
        handle: TextIO | BinaryIO
        if mode == "w":
            handle = os.fdopen(descriptor, "w", encoding=encoding or "utf-8", newline=newline)
        else:
            handle = os.fdopen(descriptor, "wb")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def _file_mode(path: Path) -> int:
    # mkstemp creates the file readable by its owner only. Give it the mode of
    # the file it replaces, or the mode a plain open() would give under the umask.
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # Linux reports the umask in /proc without changing it. Elsewhere the only
    # way is to set and restore it, which briefly affects other threads.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def atomic_write_bytes(path: StrPath, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, replacing any existing file."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: StrPath, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: StrPath, data: Any) -> None:
    """Write ``data`` to ``path`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk. Some file
    # systems (and Windows) do not allow opening a folder, and then this step is skipped.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ------------------------------------------------------------- archive layer


def write_archive(path: StrPath, metadata: Mapping[str, Any], arrays: Mapping[str, Any]) -> None:
    """Write a glassnet archive atomically.

    Parameters
    ----------
    path : str or Path
    metadata : dict
        JSON-ready metadata. ``format``, ``format_version``, ``glassnet_version``
        and the ``arrays`` table are filled in here.
    arrays : dict of str to numpy.ndarray
        Float32 or float64 arrays keyed by name, e.g. ``"network/dense1.W"``.
    """
    from . import __version__

    table = {}
    prepared = {}
    for name, value in arrays.items():
        if not _ARRAY_NAME.match(name) or ".." in name:
            raise InvalidInputError(f"array name {name!r} must be letters, digits, '_', '.', '-' and '/'")
        array = np.asarray(value)
        if array.dtype.name not in ARRAY_DTYPES:
            raise InvalidTypeError(f"array {name!r} has dtype {array.dtype}; only float32 and float64 are saved")
        array = np.ascontiguousarray(array, dtype=ARRAY_DTYPES[array.dtype.name])
        table[name] = {"shape": list(array.shape), "dtype": array.dtype.name}
        prepared[name] = array
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        **metadata,
        "arrays": table,
    }
    text = json.dumps(document, indent=2, allow_nan=True, default=_json_default)
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA_MEMBER, text)
            for name, array in prepared.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                archive.writestr(f"{ARRAY_FOLDER}{name}.npy", buffer.getvalue())


def _json_default(value: object) -> Any:
    # NumPy scalars and small arrays reach the metadata through user metrics
    # and class labels; they are stored as the equivalent JSON numbers and lists.
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} cannot be saved as JSON")


def read_archive(path: StrPath, kinds: Sequence[str] = KINDS) -> tuple[JSONDict, dict[str, FloatArray]]:
    """Read and check a glassnet archive; return ``(metadata, arrays)``.

    Checks the format name and version, the kind, the member list against the
    declared array table, each array's header, shape, dtype and byte count,
    and that every value is finite.

    Raises
    ------
    ModelFileError
        For any file that is not a complete, valid glassnet archive of one of
        ``kinds``.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist; check the path")
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} is not a regular file")
    try:
        with zipfile.ZipFile(path, "r") as archive:
            return _read_members(archive, path, kinds)
    except ModelFileError:
        raise
    except zipfile.BadZipFile as exc:
        raise ModelFileError(
            f"{path} is not a glassnet file, or it is truncated or corrupted ({exc}); "
            "save the model again with glassnet"
        ) from exc
    except MemoryError as exc:
        raise ModelFileError(f"{path} declares arrays too large to load; the file is corrupted") from exc
    except _READ_ERRORS as exc:
        raise ModelFileError(
            f"{path} could not be read as a glassnet file: {type(exc).__name__}: {exc}; "
            "the file is truncated or corrupted"
        ) from exc


def _read_members(archive: zipfile.ZipFile, path: Path,
                  kinds: Sequence[str]) -> tuple[JSONDict, dict[str, FloatArray]]:
    members = archive.infolist()
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path} contains duplicate members; the file is corrupted")
    by_name = {member.filename: member for member in members}
    if METADATA_MEMBER not in by_name:
        raise ModelFileError(
            f"{path} has no {METADATA_MEMBER}; it is not a glassnet file (a plain numpy .npz is not enough)"
        )
    for member in members:
        if member.flag_bits & 0x1:
            raise ModelFileError(f"{path}: member {member.filename!r} is encrypted; glassnet files never are")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(
                f"{path}: member {member.filename!r} uses compression method {member.compress_type}; "
                "expected stored or deflated"
            )

    metadata = _read_metadata(archive, by_name[METADATA_MEMBER], path, kinds)
    table = metadata["arrays"]
    expected_members = {METADATA_MEMBER} | {f"{ARRAY_FOLDER}{name}.npy" for name in table}
    missing = sorted(expected_members - set(names))
    extra = sorted(set(names) - expected_members)
    if missing or extra:
        raise ModelFileError(
            f"{path} does not match its own array table: missing members {missing}, unexpected members {extra}; "
            "the file was edited or corrupted"
        )
    arrays = {}
    for name, spec in table.items():
        arrays[name] = _read_array(archive, by_name[f"{ARRAY_FOLDER}{name}.npy"], name, spec, path)
    return metadata, arrays


def _read_metadata(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path,
                   kinds: Sequence[str]) -> JSONDict:
    if member.file_size > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: {METADATA_MEMBER} is {member.file_size} bytes, over the limit of "
                             f"{MAX_METADATA_BYTES}; the file is corrupted")
    raw = archive.read(member)
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {METADATA_MEMBER} is not valid JSON ({exc}); the file is corrupted") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a glassnet file: its metadata has no \"format\": \"{FORMAT_NAME}\"")
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(f"{path}: format_version={version!r} must be an integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses format version {version}, written by glassnet "
            f"{metadata.get('glassnet_version', '?')}; this glassnet reads up to version {FORMAT_VERSION}. "
            "Upgrade glassnet to load it"
        )
    if version < 1:
        raise ModelFileError(f"{path}: format_version={version} is not valid; versions start at 1")
    kind = metadata.get("kind")
    if kind not in kinds:
        raise ModelFileError(
            f"{path} is a glassnet {kind!r} file; expected one of: {', '.join(kinds)}"
        )
    table = metadata.get("arrays")
    if not isinstance(table, dict):
        raise ModelFileError(f"{path}: the metadata's \"arrays\" table is missing or not a mapping")
    for name, spec in table.items():
        _check_array_spec(name, spec, path)
    return metadata


def _check_array_spec(name: object, spec: object, path: Path) -> None:
    if not isinstance(name, str) or not _ARRAY_NAME.match(name) or ".." in name:
        raise ModelFileError(f"{path}: array name {name!r} is not valid")
    if not isinstance(spec, dict) or set(spec) != {"shape", "dtype"}:
        raise ModelFileError(f"{path}: array {name!r} must be declared as {{\"shape\": [...], \"dtype\": ...}}")
    shape = spec["shape"]
    valid_shape = isinstance(shape, list) and len(shape) <= 8 and all(
        isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 2**40 for size in shape
    )
    if not valid_shape:
        raise ModelFileError(f"{path}: array {name!r} has an invalid declared shape {shape!r}")
    if not isinstance(spec["dtype"], str) or spec["dtype"] not in ARRAY_DTYPES:
        raise ModelFileError(
            f"{path}: array {name!r} has dtype {spec['dtype']!r}; glassnet files hold only float32 and float64"
        )


def _read_array(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, spec: JSONDict,
                path: Path) -> FloatArray:
    dtype = ARRAY_DTYPES[spec["dtype"]]
    shape = tuple(spec["shape"])
    n_bytes = math.prod(shape) * dtype.itemsize
    # Check the declared size against the member size before reading anything.
    if not n_bytes <= member.file_size <= n_bytes + MAX_NPY_HEADER_BYTES:
        raise ModelFileError(
            f"{path}: array {name!r} is declared as {spec['dtype']} of shape {shape} ({n_bytes} bytes) "
            f"but its member contains {member.file_size} bytes; the file is corrupted"
        )
    raw = archive.read(member)
    stream = io.BytesIO(raw)
    major, _minor = np.lib.format.read_magic(stream)
    if major == 1:
        header_shape, fortran_order, header_dtype = np.lib.format.read_array_header_1_0(stream)
    elif major == 2:
        header_shape, fortran_order, header_dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ModelFileError(f"{path}: array {name!r} uses .npy format {major}; expected 1 or 2")
    if header_dtype != dtype or header_dtype.hasobject:
        raise ModelFileError(
            f"{path}: array {name!r} is stored as {header_dtype}, but the metadata declares {spec['dtype']}; "
            "object and pickled arrays are never loaded"
        )
    if tuple(header_shape) != shape or fortran_order:
        raise ModelFileError(
            f"{path}: array {name!r} is stored with shape {tuple(header_shape)}"
            f"{' in Fortran order' if fortran_order else ''}, but the metadata declares {shape}"
        )
    data = raw[stream.tell():]
    if len(data) != n_bytes:
        raise ModelFileError(
            f"{path}: array {name!r} contains {len(data)} data bytes; shape {shape} of {spec['dtype']} "
            f"needs {n_bytes}. The file is truncated or corrupted"
        )
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ModelFileError(f"{path}: array {name!r} contains {array[index]} at index {index}; "
                             "glassnet files hold only finite values")
    return array


# -------------------------------------------------------------- networks


def network_config(network: Sequential) -> JSONDict:
    """Return the network's configuration for a file, or raise InvalidInputError for a layer it cannot record.

    The configuration stores a layer only by kind and loads it as the
    built-in class of that kind, so a custom layer would make a file that
    fails to load, and a subclass one that loads as its base class.
    """
    from .network import _OWN_LAYERS

    for position, layer in enumerate(network.layers):
        if type(layer) not in _OWN_LAYERS:
            raise InvalidInputError(
                f"layers[{position}] is a {type(layer).__name__}, which a glassnet file cannot record: the "
                f"file stores only the kind {layer.kind!r} and loads the built-in layer of that kind. "
                "Save this network with pickle instead, or build it from built-in layers"
            )
    return network.config()


def network_arrays(network: Sequential, prefix: str = "network/") -> dict[str, FloatArray]:
    """Return the network's parameters as ``{prefix + name: array}``."""
    return {f"{prefix}{name}": value for name, value in network.parameters()}


def expected_parameter_shapes(config: Any, path: StrPath = "<file>") -> dict[str, tuple[int, ...]]:
    """Return ``{name: shape}`` of the parameters a network configuration declares.

    Computed from the configuration alone, so a file that declares a huge
    layer is rejected before any memory is allocated for it.
    """
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list) or not config["layers"]:
        raise ModelFileError(f"{path}: the network architecture must be a mapping with a non-empty 'layers' list")
    if not isinstance(config.get("dtype"), str) or config["dtype"] not in ARRAY_DTYPES:
        raise ModelFileError(f"{path}: network dtype {config.get('dtype')!r} must be 'float32' or 'float64'")
    shapes: dict[str, tuple[int, ...]] = {}
    number = 0
    for position, layer in enumerate(config["layers"]):
        if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
            raise ModelFileError(f"{path}: layers[{position}] must be a mapping with a 'type' string")
        if layer["type"] != "dense":
            continue
        number += 1
        in_features = layer.get("in_features")
        out_features = layer.get("out_features")
        if not (_is_layer_size(in_features) and _is_layer_size(out_features)):
            sizes = [in_features, out_features]
            raise ModelFileError(f"{path}: layers[{position}] has invalid sizes {sizes}; expected integers >= 1")
        shapes[f"dense{number}.W"] = (in_features, out_features)
        shapes[f"dense{number}.b"] = (out_features,)
    return shapes


def _is_layer_size(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**31


def network_from_file_parts(config: Any, arrays: Mapping[str, FloatArray], path: StrPath = "<file>",
                            prefix: str = "network/") -> Sequential:
    """Build a network from its configuration and ``{prefix + name: array}``, checking everything.

    Raises ModelFileError when a parameter is missing, extra, or has the
    wrong shape or dtype.
    """
    from .build import network_from_config

    shapes = expected_parameter_shapes(config, path)
    dtype = ARRAY_DTYPES[config["dtype"]]
    present = {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
    missing = sorted(set(shapes) - set(present))
    extra = sorted(set(present) - set(shapes))
    if missing or extra:
        raise ModelFileError(
            f"{path}: the parameters do not match the declared architecture: missing {missing}, "
            f"unexpected {extra}"
        )
    for name, shape in shapes.items():
        value = present[name]
        if value.shape != shape or value.dtype != dtype:
            raise ModelFileError(
                f"{path}: parameter {name} is {value.dtype} of shape {value.shape}; the declared architecture "
                f"needs {dtype.name} of shape {shape}"
            )
    try:
        network = network_from_config(config)
    except (InvalidInputError, InvalidTypeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the network architecture is not valid: {exc}") from exc
    built = {name: value.shape for name, value in network.parameters()}
    if built != shapes:
        raise ModelFileError(f"{path}: the architecture builds parameters {built}, not the declared {shapes}")
    network.set_parameters(present)
    return network


def save_network(network: Sequential, path: StrPath) -> None:
    """Save a network's architecture and parameters (no training state).

    Parameters
    ----------
    network : Sequential
    path : str or Path
        Written atomically; ``.glassnet`` is the usual suffix.
    """
    write_archive(path, {"kind": "network", "network": network_config(network)}, network_arrays(network))


def load_network(path: StrPath) -> Sequential:
    """Load a network from a file written by :func:`save_network` or :func:`save_model`.

    Raises
    ------
    ModelFileError
        If the file is missing, not a glassnet file, or fails any check.
    """
    metadata, arrays = read_archive(path, kinds=("network", "model"))
    _check_only_prefixes(arrays, ("network/", "optimizer/", "preprocessing/"), path)
    return network_from_file_parts(metadata.get("network"), arrays, path)


# ---------------------------------------------------------------- optimizers


def optimizer_parts(optimizer: Optimizer, prefix: str = "optimizer/") -> tuple[JSONDict, dict[str, FloatArray]]:
    """Return ``(metadata, arrays)`` for an optimizer's configuration and state."""
    saved = optimizer.state_dict()
    arrays = {}
    for parameter, values in saved["state"].items():
        for key, value in values.items():
            arrays[f"{prefix}{parameter}/{key}"] = np.asarray(value)
    metadata = {"config": saved["config"], "iterations": int(saved["iterations"])}
    return metadata, arrays


def optimizer_from_file_parts(metadata: object, arrays: Mapping[str, FloatArray], network: Sequential,
                              path: StrPath = "<file>", prefix: str = "optimizer/") -> Optimizer:
    """Rebuild an optimizer and its state; each state array must match its parameter."""
    from .optimizers import get_optimizer

    if not isinstance(metadata, dict) or not isinstance(metadata.get("config"), dict):
        raise ModelFileError(f"{path}: the optimizer entry must be a mapping with a 'config' mapping")
    config = dict(metadata["config"])
    iterations = metadata.get("iterations")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ModelFileError(f"{path}: optimizer iterations={iterations!r} must be an integer >= 0")
    name = config.pop("name", None)
    # A schedule can bring the learning rate down to 0 (CosineDecay with minimum_factor=0), a rate that
    # the constructor rejects, so such a saved rate is set after construction.
    saved_rate = config.get("learning_rate")
    rate_reached_zero = type(saved_rate) in (int, float) and saved_rate == 0
    if rate_reached_zero:
        del config["learning_rate"]
    try:
        optimizer: Optimizer = get_optimizer(name, **config)
    except (InvalidInputError, InvalidTypeError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the optimizer configuration is not valid: {exc}") from exc
    if rate_reached_zero:
        optimizer.learning_rate = 0.0
    parameters = dict(network.parameters())
    state: dict[str, dict[str, FloatArray]] = {}
    for name, value in arrays.items():
        if not name.startswith(prefix):
            continue
        parameter, _, key = name[len(prefix):].rpartition("/")
        if parameter not in parameters or not key:
            raise ModelFileError(f"{path}: optimizer state {name!r} names no parameter of the network")
        expected = parameters[parameter]
        if value.shape != expected.shape or value.dtype != expected.dtype:
            raise ModelFileError(
                f"{path}: optimizer state {name!r} is {value.dtype} of shape {value.shape}; its parameter "
                f"is {expected.dtype} of shape {expected.shape}"
            )
        state.setdefault(parameter, {})[key] = value
    optimizer.load_state_dict({"iterations": iterations, "state": state})
    return optimizer


# -------------------------------------------------------------------- models


def save_model(model: Model, path: StrPath) -> None:
    """Save a :class:`~glassnet.model.Model` with everything needed to use or continue it.

    Stores the architecture, parameters, task, loss, label names, feature
    names, standardisation, CSV schema, training configuration, history,
    optimizer state and the glassnet version. The file is written atomically.
    """
    arrays = network_arrays(model.network)
    metadata: JSONDict = {
        "kind": "model",
        "network": network_config(model.network),
        "task": model.task,
        "loss": model.loss,
        "class_names": _builtin_list(model.class_names),
        "feature_names": [str(name) for name in (model.feature_names or [])],
        "preprocessing": None,
        "schema": model.schema,
        "config": dict(model.config or {}),
        "data": model.data,
        "history": None if model.history is None else model.history.to_dict(),
        "optimizer": None,
    }
    if model.mean is not None or getattr(model, "target_mean", None) is not None:
        metadata["preprocessing"] = {"inputs": None, "targets": None}
    if model.mean is not None:
        metadata["preprocessing"]["inputs"] = "standardize"
        arrays["preprocessing/mean"] = np.asarray(model.mean, dtype=np.float64)
        arrays["preprocessing/scale"] = np.asarray(model.scale, dtype=np.float64)
    if getattr(model, "target_mean", None) is not None:
        metadata["preprocessing"]["targets"] = "standardize"
        arrays["preprocessing/target_mean"] = np.asarray(model.target_mean, dtype=np.float64)
        arrays["preprocessing/target_scale"] = np.asarray(model.target_scale, dtype=np.float64)
    if model.optimizer is not None:
        metadata["optimizer"], optimizer_arrays = optimizer_parts(model.optimizer)
        arrays.update(optimizer_arrays)
    write_archive(path, metadata, arrays)


def load_model(path: StrPath) -> Model:
    """Load a :class:`~glassnet.model.Model` written by :func:`save_model`.

    Raises
    ------
    ModelFileError
        If the file is missing, not a glassnet model, or fails any check; no
        partly loaded model is ever returned.
    """
    from .losses import get_loss
    from .model import TASKS, Model

    metadata, arrays = read_archive(path, kinds=("model",))
    _check_only_prefixes(arrays, ("network/", "optimizer/", "preprocessing/"), path)
    network = network_from_file_parts(metadata.get("network"), arrays, path)

    task = metadata.get("task")
    if task not in TASKS:
        raise ModelFileError(f"{path}: task={task!r} must be one of: {', '.join(TASKS)}")
    loss = metadata.get("loss")
    if not isinstance(loss, str):
        raise ModelFileError(f"{path}: loss={loss!r} is not known: expected a loss name")
    try:
        get_loss(loss)
    except (InvalidInputError, InvalidTypeError) as exc:
        raise ModelFileError(f"{path}: loss={loss!r} is not known: {exc}") from exc
    class_names = _read_class_names(metadata.get("class_names"), task, network, path)
    feature_names = metadata.get("feature_names") or []
    if not isinstance(feature_names, list) or not all(isinstance(name, str) for name in feature_names):
        raise ModelFileError(f"{path}: feature_names must be a list of strings")
    if feature_names and len(feature_names) != network.in_features:
        raise ModelFileError(f"{path}: {len(feature_names)} feature names for a network with "
                             f"{network.in_features} inputs")
    mean, scale, target_mean, target_scale = _read_preprocessing(metadata.get("preprocessing"), arrays, network,
                                                                 task, path)
    for key in ("config", "schema", "data"):
        if metadata.get(key) is not None and not isinstance(metadata[key], dict):
            raise ModelFileError(f"{path}: {key} must be a mapping or null")
    _check_schema(metadata.get("schema"), feature_names, path)
    history = _read_history(metadata.get("history"), path)
    optimizer = None
    if metadata.get("optimizer") is not None:
        optimizer = optimizer_from_file_parts(metadata["optimizer"], arrays, network, path)
    elif any(name.startswith("optimizer/") for name in arrays):
        raise ModelFileError(f"{path}: optimizer state arrays are present but no optimizer is declared")
    return Model(network=network, task=task, loss=loss, class_names=class_names, mean=mean, scale=scale,
                 feature_names=list(feature_names), config=metadata.get("config") or {},
                 schema=metadata.get("schema"), history=history, optimizer=optimizer, data=metadata.get("data"),
                 target_mean=target_mean, target_scale=target_scale)


def _check_only_prefixes(arrays: Mapping[str, FloatArray], prefixes: tuple[str, ...], path: StrPath) -> None:
    for name in arrays:
        if not name.startswith(prefixes):
            raise ModelFileError(f"{path}: unexpected array {name!r}; this kind of file has no such array")


def _builtin_list(values: Iterable[Any] | None) -> list[Any] | None:
    if values is None:
        return None
    return [value.item() if isinstance(value, np.generic) else value for value in values]


def _read_class_names(class_names: object, task: str, network: Sequential, path: StrPath) -> list[Any] | None:
    if task == "regression":
        if class_names is not None:
            raise ModelFileError(f"{path}: a regression model has no class names, but the file lists some")
        return None
    if not isinstance(class_names, list) or not class_names:
        raise ModelFileError(f"{path}: a classification model needs a non-empty class_names list")
    if not all(isinstance(name, (str, int, float)) and not isinstance(name, bool) for name in class_names):
        raise ModelFileError(f"{path}: class_names must be strings or numbers")
    expected = 2 if network.out_features == 1 else network.out_features
    if len(class_names) != expected:
        raise ModelFileError(f"{path}: {len(class_names)} class names for a network with "
                             f"{network.out_features} outputs (expected {expected} names)")
    return class_names


def _read_preprocessing(
    preprocessing: object, arrays: Mapping[str, FloatArray], network: Sequential, task: str, path: StrPath,
) -> tuple[FloatArray | None, FloatArray | None, FloatArray | None, FloatArray | None]:
    """Return ``(mean, scale, target_mean, target_scale)``, each None when not stored."""
    present = {name for name in arrays if name.startswith("preprocessing/")}
    if preprocessing is None:
        if present:
            raise ModelFileError(f"{path}: standardisation arrays {sorted(present)} are present but no "
                                 "preprocessing is declared")
        return None, None, None, None
    if not isinstance(preprocessing, dict) or set(preprocessing) != {"inputs", "targets"}:
        raise ModelFileError(f"{path}: preprocessing must be a mapping with the keys 'inputs' and 'targets'")
    for key, value in preprocessing.items():
        if value not in (None, "standardize"):
            raise ModelFileError(f"{path}: preprocessing {key}={value!r} is not known; expected 'standardize' or null")
    if preprocessing["targets"] is not None and task != "regression":
        raise ModelFileError(f"{path}: target standardisation is declared for a {task} model")
    parts = {"inputs": ("mean", "scale", network.in_features),
             "targets": ("target_mean", "target_scale", network.out_features)}
    expected = set()
    for key, (mean_name, scale_name, _) in parts.items():
        if preprocessing[key] is not None:
            expected |= {f"preprocessing/{mean_name}", f"preprocessing/{scale_name}"}
    if present != expected:
        raise ModelFileError(f"{path}: the declared preprocessing needs the arrays {sorted(expected)}, "
                             f"found {sorted(present)}")
    values: list[FloatArray | None] = []
    for key, (mean_name, scale_name, width) in parts.items():
        if preprocessing[key] is None:
            values += [None, None]
            continue
        mean = arrays[f"preprocessing/{mean_name}"]
        scale = arrays[f"preprocessing/{scale_name}"]
        for name, value in ((mean_name, mean), (scale_name, scale)):
            if value.shape != (width,) or value.dtype != np.float64:
                raise ModelFileError(f"{path}: standardisation {name} is {value.dtype} of shape {value.shape}; "
                                     f"expected float64 of shape ({width},)")
        if not (scale > 0).all():
            raise ModelFileError(f"{path}: standardisation {scale_name} must be > 0 everywhere")
        values += [mean, scale]
    input_mean, input_scale, target_mean, target_scale = values
    return input_mean, input_scale, target_mean, target_scale


def _check_schema(schema: object, feature_names: list[str], path: StrPath) -> None:
    if schema is None:
        return
    from .data import CsvSchema

    try:
        parsed = CsvSchema.from_dict(schema)
    except (InvalidInputError, InvalidTypeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the stored CSV schema is not valid: {exc}") from exc
    if feature_names and parsed.feature_names != list(feature_names):
        raise ModelFileError(f"{path}: the CSV schema encodes the features {parsed.feature_names}, "
                             f"but the model lists {list(feature_names)}")


def _read_history(saved: object, path: StrPath) -> History | None:
    from .training import History

    if saved is None:
        return None
    if not isinstance(saved, dict) or not isinstance(saved.get("records"), list):
        raise ModelFileError(f"{path}: history must be a mapping with a 'records' list")
    if not all(isinstance(record, dict) for record in saved["records"]):
        raise ModelFileError(f"{path}: every history record must be a mapping")
    stop_reason = saved.get("stop_reason", "")
    if not isinstance(stop_reason, str):
        raise ModelFileError(f"{path}: history stop_reason must be a string")
    return History(records=[dict(record) for record in saved["records"]], stop_reason=stop_reason)
