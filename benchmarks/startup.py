"""Start-up cost of the command line: ``glassnet demo`` and ``glassnet --help`` beside ``import numpy``.

Each command runs in a fresh interpreter (``python -m glassnet ...``), so the
time includes starting Python and every import the command makes. NumPy's
import is the floor for any glassnet command.
"""

import subprocess
import sys

from .harness import Candidate, alternate, median

COMMANDS = {
    "python -c 'import numpy'": ("python_import_numpy", [sys.executable, "-c", "import numpy"]),
    "glassnet demo": ("glassnet", [sys.executable, "-m", "glassnet", "demo"]),
    "glassnet --help": ("glassnet", [sys.executable, "-m", "glassnet", "--help"]),
}


def _runner(command):
    def run():
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    return run


def run(settings):
    """Time each command's wall time; return result rows."""
    candidates = [
        Candidate(implementation, _runner(command), backend="process", command=label)
        for label, (implementation, command) in COMMANDS.items()
    ]
    alternate(candidates, settings.repeats, warmup=settings.warmup)
    return [
        {
            "case": "demo_cli",
            "implementation": candidate.name,
            "measure": "wall_time",
            "command": candidate.labels["command"],
            "batch_size": None,
            "dtype": None,
            "seconds": median(candidate.seconds),
            "repeats": len(candidate.seconds),
        }
        for candidate in candidates
    ]
