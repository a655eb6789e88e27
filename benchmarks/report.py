"""Markdown output of a run: environment, one table per case, and the targets with their ratios."""

import statistics


def _find(rows, **match):
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def _mlp_rate(rows, implementation, batch_size, optimizer="sgd", dtype="float32"):
    row = _find(rows, case="mlp784", measure="throughput", implementation=implementation,
                batch_size=batch_size, dtype=dtype, optimizer=optimizer)
    return row and row["samples_per_second"]


def _lesson(rows, implementation):
    row = _find(rows, case="lesson221", implementation=implementation)
    return row and row["microseconds_per_step"]


def _memory(rows, implementation):
    row = _find(rows, case="mlp784", measure="peak_memory", implementation=implementation)
    return row and row["peak_memory_mb"]


def _seconds(rows, case, implementation, **match):
    row = _find(rows, case=case, implementation=implementation, **match)
    return row and row["seconds"]


def _meets(value, bound, at_least):
    if value is None:
        return None
    return value >= bound if at_least else value <= bound


def targets(rows):
    """Return ``[(target, measured ratio, bound, met, at_least)]``.

    ``met`` is None when a figure is missing. ``at_least`` is True when the
    ratio must reach the bound, and False when it must stay at or below it.
    """
    checks = []

    def add(text, value, bound, at_least):
        checks.append((text, value, bound, _meets(value, bound, at_least), at_least))

    add("mlp784 f32 batch 128: glassnet / torch samples/s",
        _ratio(_mlp_rate(rows, "glassnet", 128), _mlp_rate(rows, "torch", 128)), 1.2, True)
    add("mlp784 f32 batch 1024: glassnet / torch samples/s",
        _ratio(_mlp_rate(rows, "glassnet", 1024), _mlp_rate(rows, "torch", 1024)), 1.0, True)
    add("mlp784 f32 batch 128, Nesterov 0.9 + L2: glassnet / sklearn samples/s",
        _ratio(_mlp_rate(rows, "glassnet", 128, "sgd_nesterov_l2"), _mlp_rate(rows, "sklearn", 128, "sgd_nesterov_l2")),
        1.3, True)
    for batch_size in (32, 128, 1024):
        add(f"mlp784 f32 batch {batch_size}: glassnet / NumPy reference samples/s",
            _ratio(_mlp_rate(rows, "glassnet", batch_size), _mlp_rate(rows, "numpy_reference", batch_size)),
            0.95, True)
    add("mlp784 f32 batch 1024: glassnet / matmul-only limit",
        _ratio(_mlp_rate(rows, "glassnet", 1024), _mlp_rate(rows, "matmul_limit", 1024, "none")), 0.80, True)
    add("mlp784 f32 batch 128: glassnet / matmul-only limit",
        _ratio(_mlp_rate(rows, "glassnet", 128), _mlp_rate(rows, "matmul_limit", 128, "none")), 0.65, True)
    add("lesson221 step time: glassnet / NumPy reference",
        _ratio(_lesson(rows, "glassnet"), _lesson(rows, "numpy_reference")), 1.5, False)
    add("lesson221 step time: torch / glassnet (speed-up)",
        _ratio(_lesson(rows, "torch"), _lesson(rows, "glassnet")), 8.0, True)
    add("lesson221 step time: glassnet / micrograd",
        _ratio(_lesson(rows, "glassnet"), _lesson(rows, "micrograd")), 1.0, False)
    add("lesson221 step time: trace on / trace off",
        _ratio(_lesson(rows, "glassnet_trace"), _lesson(rows, "glassnet")), 4.0, False)
    add("glassnet demo / python -c 'import numpy' wall time",
        _ratio(_seconds(rows, "demo_cli", "glassnet", command="glassnet demo"),
               _seconds(rows, "demo_cli", "python_import_numpy")), 2.5, False)
    add("peak memory during an epoch: glassnet / (NumPy reference + 10%)",
        _ratio(_memory(rows, "glassnet"), 1.1 * (_memory(rows, "numpy_reference") or 0) or None), 1.0, False)
    add("peak memory during an epoch: glassnet / torch",
        _ratio(_memory(rows, "glassnet"), _memory(rows, "torch")), 1.0, False)
    add("digits to 0.975: glassnet / sklearn wall time",
        _ratio(_seconds(rows, "digits_to_0975", "glassnet"), _seconds(rows, "digits_to_0975", "sklearn")),
        1.0, False)
    return checks


def _number(value, digits=3):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_number(cell) if not isinstance(cell, str) else cell for cell in line) + " |"
            for line in lines]
    return "\n".join(out)


def environment_markdown(info, command, measured=True):
    """Return the Environment section; ``measured=False`` when ``info`` was read after the runs, by ``render``."""
    lines = ["## Environment", ""]
    if not measured:
        lines += ["Read when these tables were rendered, not when the runs ran: each run printed its own "
                  "environment, load average included, as the last line of its standard error.", ""]
    lines += [
        f"- command: `{command}`",
        f"- machine: {info['processor']}, {info['cpu_count']} logical CPUs, {info['platform']}",
    ]
    if measured:
        lines.append(f"- load average at the start (1, 5, 15 min): {info.get('load_average')}")
    lines += [
        f"- threads: {info['threads']} for every library (threadpoolctl limits; torch.set_num_threads; "
        f"torch reports {info.get('torch_threads', '—')})",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in info["versions"].items()),
        "- thread pools: " + "; ".join(_pool(pool) for pool in info["thread_pools"]),
    ]
    return "\n".join(lines)


def _pool(pool):
    """Describe a thread pool, leaving out what threadpoolctl does not know (OpenMP's version and kernels)."""
    known = [str(pool[key]) for key in ("architecture",) if pool.get(key)]
    details = ", ".join([*known, f"{pool['threads']} threads", pool["path"]])
    version = f" {pool['version']}" if pool.get("version") else ""
    return f"{pool['library']}{version} ({details})"


def to_markdown(rows, info, command, measured=True):
    parts = ["# glassnet benchmarks", "", environment_markdown(info, command, measured), ""]

    throughput = [row for row in rows if row["case"] == "mlp784" and row["measure"] == "throughput"]
    if throughput:
        parts += ["## mlp784: 784-256-128-10 MLP, one epoch, samples per second", ""]
        lines = []
        for row in throughput:
            reference = _mlp_rate(rows, "numpy_reference", row["batch_size"], dtype=row["dtype"])
            lines.append([row["dtype"], str(row["batch_size"]), row["implementation"], row["optimizer"],
                          row["samples_per_second"], _ratio(row["samples_per_second"], reference)])
        parts += [_table(["dtype", "batch", "implementation", "optimizer", "samples/s", "÷ NumPy reference"],
                         lines), ""]

    memory = [row for row in rows if row["case"] == "mlp784" and row["measure"] == "peak_memory"]
    if memory:
        parts += [f"## mlp784: peak memory of one epoch ({memory[0]['n_samples']:,} samples, float32, "
                  f"batch {memory[0]['batch_size']}, one process each)", ""]
        lines = [[row["implementation"], row["peak_memory_mb"], row["added_memory_mb"]] for row in memory]
        parts += [_table(["implementation", "peak MB", "added by the epoch, MB"], lines), ""]

    lesson = [row for row in rows if row["case"] == "lesson221"]
    if lesson:
        parts += ["## lesson221: the 2-2-1 lesson network, batch 1, float64, one SGD step", ""]
        reference = _lesson(rows, "numpy_reference")
        lines = [[row["implementation"], row["microseconds_per_step"],
                  _ratio(row["microseconds_per_step"], reference)] for row in lesson]
        parts += [_table(["implementation", "µs per step", "÷ NumPy reference"], lines), ""]

    startup = [row for row in rows if row["case"] == "demo_cli"]
    if startup:
        parts += ["## demo_cli: command wall time, fresh interpreter", ""]
        floor = _seconds(rows, "demo_cli", "python_import_numpy")
        lines = [[row["command"], row["seconds"], _ratio(row["seconds"], floor)] for row in startup]
        parts += [_table(["command", "seconds", "÷ import numpy"], lines), ""]

    digits = [row for row in rows if row["case"] == "digits_to_0975"]
    if digits:
        parts += ["## digits_to_0975: wall time to 0.975 test accuracy (medians over seeds)", ""]
        lines = [[row["implementation"], row["seconds"], row["epochs"], row["seconds_per_epoch"], row["reached"]]
                 for row in digits]
        parts += [_table(["implementation", "seconds", "epochs", "seconds per epoch", "reached"], lines), ""]

    parts += ["## Targets", ""]
    lines = [[text, value, _number(bound), _verdict(met)] for text, value, bound, met, _ in targets(rows)]
    parts += [_table(["target", "measured", "bound", "verdict"], lines), ""]
    return "\n".join(parts)


def _verdict(met):
    if met is None:
        return "—"
    return "met" if met else "NOT met"


def targets_across_runs(runs):
    """Return a Markdown table of every target's ratio in each run, their median and its verdict.

    ``runs`` is a list of row lists, one per ``--format json`` file. Ratios
    move from run to run on a shared machine, so the median of several runs
    is the figure to judge.
    """
    per_run = [targets(rows) for rows in runs]
    lines = []
    for position, (text, _, bound, _, at_least) in enumerate(per_run[0]):
        values = [checks[position][1] for checks in per_run]
        present = [value for value in values if value is not None]
        middle = statistics.median(present) if present else None
        lines.append([text, *values, middle, _number(bound), _verdict(_meets(middle, bound, at_least))])
    header = ["target", *[f"run {number}" for number in range(1, len(runs) + 1)], "median", "bound", "verdict"]
    return "\n".join(["## Targets across runs", "", _table(header, lines), ""])
