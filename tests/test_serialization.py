"""Model files: round trips, every rejection, fuzzed mutations and atomic writes."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet.errors import ModelFileError
from glassnet.model import TrainConfig, train_model
from glassnet.serialization import (
    FORMAT_VERSION,
    atomic_open,
    atomic_write_text,
    load_model,
    load_network,
    save_model,
    save_network,
)


def _classifier(dtype="float32", optimizer="adam", dropout=0.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)) * [1.0, 5.0, 0.1] + [0.0, 10.0, -3.0]
    y = (X[:, 0] > 0).astype(int) + (X[:, 2] > -3.0).astype(int)
    config = TrainConfig(hidden=(8, 6), epochs=3, optimizer=optimizer, dtype=dtype, dropout=dropout,
                         learning_rate=0.01)
    model = train_model(X, y, task="classification", class_names=["low", "mid", "high"], config=config,
                        validation=(X[:20], y[:20]), feature_names=["a", "b", "c"])
    return model, X


def _regressor():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = 100.0 + 20.0 * X[:, 0] - 3.0 * X[:, 1]
    config = TrainConfig(hidden=(5,), epochs=2, optimizer="sgd", dtype="float64")
    model = train_model(X, y, task="regression", config=config, feature_names=["u", "v"])
    return model, X


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory):
    model, X = _classifier()
    path = tmp_path_factory.mktemp("models") / "classifier.glassnet"
    save_model(model, path)
    return path, model, X


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_members(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _edit_metadata(source, target, edit):
    members = _members(source)
    metadata = json.loads(members["metadata.json"])
    edit(metadata)
    members["metadata.json"] = json.dumps(metadata)
    _write_members(target, members)


def _npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_round_trip_predictions_bitwise(tmp_path, dtype):
    model, X = _classifier(dtype=dtype, dropout=0.2)
    path = tmp_path / "model.glassnet"
    save_model(model, path)
    loaded = load_model(path)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert list(loaded.predict(X)) == list(model.predict(X))
    for (name, saved), (_, restored) in zip(model.network.parameters(), loaded.network.parameters()):
        assert restored.dtype == saved.dtype, name
        assert np.array_equal(restored, saved), name


def test_model_round_trip_keeps_metadata(classifier_file):
    path, model, _ = classifier_file
    loaded = load_model(path)
    assert loaded.task == "classification"
    assert loaded.loss == model.loss
    assert loaded.class_names == ["low", "mid", "high"]
    assert loaded.feature_names == ["a", "b", "c"]
    assert loaded.config == model.config
    assert np.array_equal(loaded.mean, model.mean)
    assert np.array_equal(loaded.scale, model.scale)
    assert loaded.history.records == model.history.records
    assert loaded.history.stop_reason == model.history.stop_reason


def test_model_round_trip_keeps_optimizer_state(classifier_file):
    path, model, _ = classifier_file
    loaded = load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    saved_state = model.optimizer.state_dict()["state"]
    loaded_state = loaded.optimizer.state_dict()["state"]
    assert saved_state.keys() == loaded_state.keys()
    for name, values in saved_state.items():
        for key, value in values.items():
            assert np.array_equal(loaded_state[name][key], value), (name, key)


def test_regression_round_trip_keeps_target_scaling(tmp_path):
    model, X = _regressor()
    path = tmp_path / "regressor.glassnet"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.class_names is None
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert np.array_equal(loaded.target_mean, model.target_mean)


def test_metadata_declares_version_and_arrays(classifier_file):
    path, model, _ = classifier_file
    metadata = json.loads(_members(path)["metadata.json"])
    assert metadata["format"] == "glassnet"
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["glassnet_version"] == gn.__version__
    assert metadata["kind"] == "model"
    assert metadata["network"] == model.network.config()
    assert metadata["arrays"]["network/dense1.W"] == {"shape": [3, 8], "dtype": "float32"}
    assert metadata["arrays"]["preprocessing/mean"] == {"shape": [3], "dtype": "float64"}
    assert metadata["optimizer"]["config"]["name"] == "adam"


def test_network_round_trip(tmp_path, lesson):
    path = tmp_path / "lesson.glassnet"
    save_network(lesson, path)
    loaded = load_network(path)
    assert loaded.config() == lesson.config()
    X = np.array([[0.1, 0.2], [-1.0, 3.0]])
    assert np.array_equal(loaded.predict(X), lesson.predict(X))


def test_load_network_reads_model_file(classifier_file):
    path, model, _ = classifier_file
    network = load_network(path)
    assert network.config() == model.network.config()


def test_top_level_functions_exported():
    assert gn.save_model is save_model
    assert gn.load_model is load_model


# ---------------------------------------------------------------- rejections


def test_missing_file_rejected(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "absent.glassnet")


def test_folder_rejected(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(tmp_path)


def test_random_bytes_rejected(tmp_path):
    path = tmp_path / "noise.glassnet"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ModelFileError, match="not a glassnet file"):
        load_model(path)


class _Exploit:
    """Pickling this runs ``open(marker, 'w')`` on load: the loader must never do that."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_file_rejected_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.glassnet"
    path.write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not marker.exists()


def test_pickled_array_member_rejected_without_running_code(tmp_path, classifier_file):
    source, _, _ = classifier_file
    marker = tmp_path / "pwned"
    members = _members(source)
    evil = np.empty(1, dtype=object)
    evil[0] = _Exploit(marker)
    members["arrays/network/dense1.b.npy"] = _npy_bytes(evil, allow_pickle=True)
    path = tmp_path / "evil.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not marker.exists()


def test_plain_npz_rejected(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, W=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="no metadata.json"):
        load_model(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_rejected(tmp_path, classifier_file, fraction):
    source, _, _ = classifier_file
    data = source.read_bytes()
    path = tmp_path / "cut.glassnet"
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(ModelFileError):
        load_model(path)


def test_flipped_byte_in_array_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    data = bytearray(source.read_bytes())
    offset = data.index(b"\x93NUMPY") + 200  # inside the first array's data
    data[offset] ^= 0x40
    path = tmp_path / "flipped.glassnet"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="Bad CRC|corrupted"):
        load_model(path)


def test_extra_member_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    members["arrays/network/dense9.W.npy"] = _npy_bytes(np.zeros((2, 2), dtype=np.float32))
    path = tmp_path / "extra.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError, match="unexpected members"):
        load_model(path)


def test_missing_member_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    del members["arrays/network/dense2.b.npy"]
    path = tmp_path / "missing.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError, match="missing members"):
        load_model(path)


def test_undeclared_parameter_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file

    def drop(metadata):
        del metadata["arrays"]["network/dense2.b"]

    members = _members(source)
    del members["arrays/network/dense2.b.npy"]
    path = tmp_path / "undeclared.glassnet"
    _write_members(path, members)
    _edit_metadata(path, path, drop)
    with pytest.raises(ModelFileError, match=r"missing \['dense2.b'\]"):
        load_model(path)


def test_declared_shape_mismatch_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "shape.glassnet"
    _edit_metadata(source, path, lambda m: m["arrays"]["network/dense1.W"].update(shape=[4, 8]))
    with pytest.raises(ModelFileError, match="declared"):
        load_model(path)


def test_huge_declared_size_rejected_before_reading(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "huge.glassnet"
    _edit_metadata(source, path, lambda m: m["arrays"]["network/dense1.W"].update(shape=[100000, 100000]))
    with pytest.raises(ModelFileError, match="member contains"):
        load_model(path)


def test_other_architecture_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "architecture.glassnet"
    _edit_metadata(source, path, lambda m: m["network"]["layers"][0].update(in_features=4))
    with pytest.raises(ModelFileError, match="needs float32 of shape"):
        load_model(path)


def test_dtype_mismatch_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "dtype.glassnet"
    _edit_metadata(source, path, lambda m: m["network"].update(dtype="float64"))
    with pytest.raises(ModelFileError, match="needs float64"):
        load_model(path)


def test_array_header_dtype_mismatch_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    members["arrays/network/dense1.b.npy"] = _npy_bytes(np.zeros(8, dtype=np.int32))
    path = tmp_path / "int.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError, match="stored as int32"):
        load_model(path)


def test_non_finite_value_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    bias = np.zeros(8, dtype=np.float32)
    bias[3] = np.nan
    members["arrays/network/dense1.b.npy"] = _npy_bytes(bias)
    path = tmp_path / "nan.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError, match=r"nan at index \(3,\)"):
        load_model(path)


def test_newer_format_version_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "future.glassnet"
    _edit_metadata(source, path, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match="Upgrade glassnet"):
        load_model(path)


def test_unknown_layer_type_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "layer.glassnet"
    _edit_metadata(source, path, lambda m: m["network"]["layers"][1].update(type="os.system"))
    with pytest.raises(ModelFileError, match="architecture is not valid"):
        load_model(path)


def test_class_name_count_mismatch_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    path = tmp_path / "classes.glassnet"
    _edit_metadata(source, path, lambda m: m.update(class_names=["low", "high"]))
    with pytest.raises(ModelFileError, match="2 class names"):
        load_model(path)


def test_optimizer_state_shape_mismatch_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    members["arrays/optimizer/dense1.b/m.npy"] = _npy_bytes(np.zeros(7, dtype=np.float32))
    path = tmp_path / "optimizer.glassnet"
    _write_members(path, members)
    _edit_metadata(path, path, lambda m: m["arrays"]["optimizer/dense1.b/m"].update(shape=[7]))
    with pytest.raises(ModelFileError, match="its parameter is float32 of shape"):
        load_model(path)


def test_network_file_is_not_a_model(tmp_path, lesson):
    path = tmp_path / "lesson.glassnet"
    save_network(lesson, path)
    with pytest.raises(ModelFileError, match="'network' file; expected one of: model"):
        load_model(path)


def test_invalid_json_metadata_rejected(tmp_path, classifier_file):
    source, _, _ = classifier_file
    members = _members(source)
    members["metadata.json"] = b"{not json"
    path = tmp_path / "json.glassnet"
    _write_members(path, members)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(path)


# ---------------------------------------------------------------- fuzzing


def _mutate(data, members, operation, position, value, length):
    """Return the bytes of a mutated copy of a valid model file."""
    if operation == "truncate":
        return data[:position % len(data)]
    if operation == "flip":
        mutated = bytearray(data)
        for offset in range(length):
            mutated[(position + offset * 7919) % len(mutated)] ^= value or 1
        return bytes(mutated)
    if operation == "insert":
        index = position % len(data)
        return data[:index] + bytes([value]) * length + data[index:]
    names = sorted(members)
    name = names[position % len(names)]
    edited = dict(members)
    if operation == "edit_json":
        metadata = json.loads(edited["metadata.json"])
        key = sorted(metadata)[position % len(metadata)]
        metadata[key] = [None, True, -1, 2**40, "x", [], {}, [1, [2]], {"a": None}][value % 9]
        edited["metadata.json"] = json.dumps(metadata)
    elif operation == "drop_member":
        del edited[name]
    elif operation == "duplicate_member":
        edited[name + ".copy"] = edited[name]
    elif operation == "edit_member":
        content = bytearray(edited[name])
        if content:
            content[value % len(content)] ^= (length % 255) + 1
        edited[name] = bytes(content)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in edited.items():
            archive.writestr(member, content)
    return buffer.getvalue()


MUTATIONS = st.tuples(
    st.sampled_from(["truncate", "flip", "insert", "drop_member", "duplicate_member", "edit_member", "edit_json"]),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=255),
    st.integers(min_value=1, max_value=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATIONS)
def test_fuzzed_files_load_or_raise_model_file_error(tmp_path, classifier_file, mutation):
    source, model, X = classifier_file
    data = source.read_bytes()
    path = tmp_path / "fuzzed.glassnet"
    path.write_bytes(_mutate(data, _members(source), *mutation))
    try:
        loaded = load_model(path)
    except ModelFileError:
        return
    # A mutation that survives every check (e.g. in zip padding) must still load a complete model.
    assert loaded.network.config() == model.network.config()
    assert loaded.predict_proba(X).shape == (X.shape[0], 3)


# ---------------------------------------------------------------- atomic writes


def test_atomic_open_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(path, "w") as handle:
            handle.write("new, partial")
            raise RuntimeError("simulated failure while writing")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_atomic_write_new_file_follows_umask(tmp_path):
    path = tmp_path / "new.txt"
    previous = os.umask(0o022)
    try:
        atomic_write_text(path, "x")
    finally:
        os.umask(previous)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_atomic_open_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "absent" / "out.txt", "x")


def test_library_writes_files_only_atomically():
    # Every file glassnet writes must go through serialization.atomic_open (or
    # the atomic_write_* helpers); a direct write could leave a half-written file.
    import re
    from pathlib import Path

    source = Path(gn.__file__).parent
    direct_write = re.compile(
        r"(?<!atomic_)open\([^)]*['\"][wax]b?['\"]|\.write_text\(|\.write_bytes\(|savefig\(\s*(path|str\()|np\.save\("
    )
    offenders = []
    for module in source.rglob("*.py"):
        if module.name == "serialization.py":
            continue
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), start=1):
            if direct_write.search(line):
                offenders.append(f"{module.relative_to(source)}:{number}: {line.strip()}")
    assert offenders == []


def test_numpy_scalars_in_metadata_saved(tmp_path, classifier_file):
    _, model, X = classifier_file
    model.history.records[0]["val_custom"] = np.float32(0.25)
    path = tmp_path / "numpy.glassnet"
    try:
        save_model(model, path)
    finally:
        del model.history.records[0]["val_custom"]
    assert load_model(path).history.records[0]["val_custom"] == 0.25


def test_fuzz_script_finds_nothing(tmp_path, capsys):
    # A short run of scripts/fuzz_loader.py, which also mutates network and checkpoint files.
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_loader.py"
    spec = importlib.util.spec_from_file_location("fuzz_loader", script)
    fuzz_loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz_loader)
    status = fuzz_loader.main(["--cases", "300", "--seed", "5", "--out", str(tmp_path / "failures")])
    output = capsys.readouterr()
    assert status == 0, output.err
    assert "0 other exceptions" in output.out


def test_load_model_rejects_non_string_loss(tmp_path):
    model, _ = _classifier()
    path = tmp_path / "model.glassnet"
    save_model(model, path)
    _edit_metadata(path, tmp_path / "edited.glassnet", lambda metadata: metadata.update(loss=5))
    with pytest.raises(ModelFileError, match="loss=5 is not known"):
        load_model(tmp_path / "edited.glassnet")


class _DoubledDense(gn.Dense):
    """A Dense layer whose output is twice the plain one, which a file would load as plain Dense."""

    def forward(self, x, out=None):
        return 2.0 * super().forward(x)


class _Softplus(gn.layers.Activation):
    kind = "softplus"

    def forward(self, z, out=None):
        self.z = z
        self.a = np.logaddexp(0.0, z)
        return self.a

    def local_derivative(self):
        return 1.0 / (1.0 + np.exp(-self.z))


@pytest.mark.parametrize("layer", [_DoubledDense(3, 3, seed=1), _Softplus()], ids=["subclass", "custom"])
def test_save_network_rejects_layer_file_cannot_record(layer, tmp_path):
    network = gn.Sequential([gn.Dense(2, 3, seed=0), layer, gn.Dense(3, 1, seed=2)])
    path = tmp_path / "custom.glassnet"
    with pytest.raises(gn.InvalidInputError, match=rf"layers\[1\] is a {type(layer).__name__}.*pickle"):
        gn.save_network(network, path)
    assert not path.exists()
