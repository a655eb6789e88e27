"""Peak memory of one training epoch, each implementation in its own process.

Run by the suite as ``python -m benchmarks.memory IMPLEMENTATION DTYPE BATCH N``;
prints one JSON object. The process imports its library, builds the data and
the model, records its resident set size, resets the kernel's peak counter
(``/proc/self/clear_refs``, Linux) and trains one epoch. ``peak_memory_mb``
is the process's peak resident set during that epoch (data, library and
training buffers); ``added_memory_mb`` is how far the epoch raised it.
"""

import json
import resource
import subprocess
import sys
from pathlib import Path

from . import mlp784

IMPLEMENTATIONS = ("glassnet", "numpy_reference", "torch", "sklearn")


def _status_kb(field):
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not found in /proc/self/status")


def _reset_peak():
    """Reset the peak resident set size; return False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure(implementation, dtype, batch_size, n_samples):
    from .harness import ensure_glassnet_importable, limit_threads

    ensure_glassnet_importable()
    # PyTorch is imported only where it is measured, so it adds nothing to the others' peaks.
    limit_threads(torch_too=implementation == "torch")
    X, labels = mlp784.make_data(n_samples, dtype)
    if implementation == "glassnet":
        run = mlp784.glassnet_epoch(X, labels, batch_size, dtype)
    elif implementation == "numpy_reference":
        run = mlp784.numpy_epoch(mlp784.NumpyMLP, X, labels, batch_size, dtype)
    elif implementation == "torch":
        run = mlp784.torch_epoch(X, labels, batch_size, dtype)
    elif implementation == "sklearn":
        run = mlp784.sklearn_epoch(X, labels, batch_size)
    else:
        raise SystemExit(f"unknown implementation {implementation!r}; use one of {IMPLEMENTATIONS}")
    before_kb = _status_kb("VmRSS")
    exact = _reset_peak()
    run()
    if exact:
        peak_kb = _status_kb("VmHWM")
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_memory_mb": peak_kb / 1024,
        "added_memory_mb": (peak_kb - before_kb) / 1024,
        "peak_counter_reset": exact,
    }


def measure_in_subprocess(implementation, dtype, batch_size, n_samples):
    """Run :func:`measure` in a fresh interpreter and return its result."""
    command = [sys.executable, "-m", "benchmarks.memory", implementation, str(dtype), str(batch_size),
               str(n_samples)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True,
                               cwd=Path(__file__).resolve().parent.parent)
    return json.loads(completed.stdout)


def run(settings):
    """Return one peak-memory row per implementation at batch 128, float32."""
    rows = []
    for implementation in IMPLEMENTATIONS:
        result = measure_in_subprocess(implementation, "float32", settings.memory_batch_size,
                                       settings.memory_samples)
        rows.append({
            "case": "mlp784",
            "implementation": implementation,
            "measure": "peak_memory",
            "batch_size": settings.memory_batch_size,
            "dtype": "float32",
            "optimizer": "sgd_nesterov_l2" if implementation == "sklearn" else "sgd",
            "n_samples": settings.memory_samples,
            **result,
        })
    return rows


if __name__ == "__main__":
    name, dtype_name, batch, samples = sys.argv[1:5]
    print(json.dumps(measure(name, dtype_name, int(batch), int(samples))))
