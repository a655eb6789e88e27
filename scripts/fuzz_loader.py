"""Fuzz the model-file loader with mutations of valid files, for as long as asked.

Every mutated file must either load completely or raise ModelFileError; any
other exception (or a crash) is a bug. Failing inputs are written to the
output folder so they can be replayed with ``glassnet.load_model``.

Usage::

    PYTHONPATH=src python scripts/fuzz_loader.py --cases 20000 --seed 1 --out fuzz-failures

The CI test suite runs a bounded version of the same idea
(tests/test_serialization.py, hypothesis with 60 examples).
"""

import argparse
import io
import json
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.checkpoint import load_checkpoint, save_checkpoint
from glassnet.errors import ModelFileError
from glassnet.model import TrainConfig, train_model
from glassnet.training import Callback


def make_seed_files(folder):
    """Write one valid file of each kind and return their paths with their loaders."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    config = TrainConfig(hidden=(6, 4), epochs=2, optimizer="adam", dropout=0.1, learning_rate=0.01)
    model = train_model(X, y, task="classification", class_names=["a", "b", "c"], config=config,
                        validation=(X[:10], y[:10]), feature_names=["f1", "f2", "f3"])
    model_path = folder / "model.glassnet"
    gn.save_model(model, model_path)

    network_path = folder / "network.glassnet"
    gn.save_network(model.network, network_path)

    class Save(Callback):
        def on_batch_end(self, state):
            if state.step == 3:
                save_checkpoint(folder / "run.ckpt", state)

    network = gn.mlp([3, 5, 3], output="softmax", seed=0, dropout=0.2)
    gn.training.fit(network, X, y, loss="categorical-cross-entropy", optimizer=gn.Adam(0.01), epochs=1,
                    batch_size=8, callbacks=[Save()])
    return [(model_path, gn.load_model), (network_path, gn.load_network), (folder / "run.ckpt", load_checkpoint)]


def read_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_members(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def mutate_json(text, rng):
    """Change one value of the metadata to another JSON value of a random kind."""
    document = json.loads(text)
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [index])

    walk(document, [])
    path = paths[rng.integers(len(paths))]
    replacements = [None, True, -1, 0, 1, 2**40, 1e308, "x", "float64", [], {}, [1, 2], {"a": 1}]
    replacement = replacements[rng.integers(len(replacements))]
    if not path:
        return json.dumps(replacement)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = replacement
    return json.dumps(document)


def mutate(data, rng):
    """Return one random mutation of the bytes of a valid file, and its description."""
    operation = rng.choice(["truncate", "flip", "insert", "drop", "duplicate", "edit_member", "edit_json",
                            "swap_members"])
    if operation == "truncate":
        cut = int(rng.integers(len(data)))
        return data[:cut], f"truncate at {cut}"
    if operation == "flip":
        mutated = bytearray(data)
        count = int(rng.integers(1, 9))
        for _ in range(count):
            mutated[rng.integers(len(mutated))] ^= int(rng.integers(1, 256))
        return bytes(mutated), f"flip {count} bytes"
    if operation == "insert":
        at = int(rng.integers(len(data)))
        return data[:at] + rng.bytes(int(rng.integers(1, 16))) + data[at:], f"insert at {at}"
    members = read_members(data)
    names = sorted(members)
    name = names[rng.integers(len(names))]
    if operation == "drop":
        del members[name]
    elif operation == "duplicate":
        members[name + ("x" if rng.random() < 0.5 else "")] = members[name]
    elif operation == "edit_member":
        content = bytearray(members[name])
        if content:
            content[rng.integers(len(content))] ^= int(rng.integers(1, 256))
        members[name] = bytes(content)
    elif operation == "edit_json":
        members["metadata.json"] = mutate_json(members["metadata.json"].decode(), rng)
        name = "metadata.json"
    else:
        other = names[rng.integers(len(names))]
        members[name], members[other] = members[other], members[name]
        name = f"{name} <-> {other}"
    return write_members(members), f"{operation} {name}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=5000, help="mutated files to try (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations (default 0)")
    parser.add_argument("--out", default="fuzz-failures", help="folder for failing inputs")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    failures = 0
    outcomes = {"loaded": 0, "rejected": 0}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        seeds = [(path.read_bytes(), loader, path.name) for path, loader in make_seed_files(folder)]
        target = folder / "mutated.glassnet"
        for case in range(args.cases):
            data, loader, seed_name = seeds[case % len(seeds)]
            mutated, description = mutate(data, rng)
            target.write_bytes(mutated)
            try:
                loader(target)
                outcomes["loaded"] += 1
            except ModelFileError:
                outcomes["rejected"] += 1
            except Exception:  # noqa: BLE001 - any other exception is exactly what the fuzzer looks for
                failures += 1
                out = Path(args.out)
                out.mkdir(exist_ok=True)
                (out / f"case-{case}.glassnet").write_bytes(mutated)
                print(f"case {case} ({seed_name}, {description}) raised:\n{traceback.format_exc()}",
                      file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"{args.cases} cases in {elapsed:.1f} s: {outcomes['rejected']} rejected with ModelFileError, "
          f"{outcomes['loaded']} loaded, {failures} other exceptions")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
