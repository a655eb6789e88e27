"""Timing machinery shared by the cases: thread limits, alternation, medians, environment.

Implementations are timed in turns (A B C, then B C A, ...) so that a slow
drift of the machine, such as another process starting, spreads over all of
them instead of landing on one. Between two libraries with their own thread
pools the harness sleeps, because OpenBLAS worker threads keep spinning for
about 0.1 s after a call and would steal the cores from the next library.
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

from . import THREADS

# Seconds to sleep when the next timing uses another thread pool (NumPy's
# OpenBLAS and PyTorch's OpenMP are separate pools).
LIBRARY_PAUSE = 0.15

SOURCE_DIR = Path(__file__).resolve().parent.parent / "src"


def ensure_glassnet_importable():
    """Put the checkout's ``src`` on the path when glassnet is not installed."""
    try:
        import glassnet  # noqa: F401
    except ImportError:
        if (SOURCE_DIR / "glassnet").is_dir():
            sys.path.insert(0, str(SOURCE_DIR))
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [str(SOURCE_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        else:
            raise


def limit_threads(threads=THREADS, torch_too=True):
    """Limit every BLAS and OpenMP pool, and PyTorch's unless ``torch_too`` is false, to ``threads``.

    Returns the threadpoolctl limiter.
    """
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=threads)
    if not torch_too:
        return limiter
    try:
        import torch
    except ImportError:
        return limiter
    torch.set_num_threads(threads)
    return limiter


class Candidate:
    """One implementation to time: ``run()`` does the measured work once.

    ``backend`` names the thread pool the work runs on (``"numpy"``,
    ``"torch"``, or ``"python"`` for none); the harness pauses between
    candidates on different thread pools.
    """

    def __init__(self, name, run, backend="numpy", **labels):
        self.name = name
        self.run = run
        self.backend = backend
        self.labels = labels
        self.seconds = []


def alternate(candidates, repeats, warmup=1):
    """Time every candidate ``repeats`` times in rotating order; return them with ``seconds`` filled."""
    previous_backend = None

    def timed(candidate):
        nonlocal previous_backend
        switching = previous_backend is not None and candidate.backend != previous_backend
        if switching and "python" not in (candidate.backend, previous_backend):
            time.sleep(LIBRARY_PAUSE)
        previous_backend = candidate.backend
        started = time.perf_counter()
        candidate.run()
        return time.perf_counter() - started

    for _ in range(warmup):
        for candidate in candidates:
            timed(candidate)
    count = len(candidates)
    for repeat in range(repeats):
        shift = repeat % count
        for candidate in candidates[shift:] + candidates[:shift]:
            candidate.seconds.append(timed(candidate))
    return candidates


def median(values):
    return statistics.median(values)


def library_versions():
    """Return the versions of the libraries the suite compares, where installed."""
    versions = {"python": platform.python_version()}
    for module_name in ("glassnet", "numpy", "torch", "sklearn", "threadpoolctl"):
        try:
            module = __import__(module_name)
        except ImportError:
            versions[module_name] = "not installed"
            continue
        versions[module_name] = getattr(module, "__version__", "unknown")
    return versions


def machine_info():
    """Return the CPU, core count, library versions and BLAS / OpenMP pools in use."""
    info = {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": THREADS,
        "versions": library_versions(),
    }
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except ImportError:
        pools = []
    info["thread_pools"] = [
        {
            "library": pool.get("internal_api"),
            "version": pool.get("version"),
            "threads": pool.get("num_threads"),
            "architecture": pool.get("architecture"),
            "path": Path(pool.get("filepath", "")).name,
        }
        for pool in pools
    ]
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info["load_average"] = [round(value, 2) for value in load] if load else None
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
