"""glassnet's benchmark suite: ``python -m benchmarks`` (see docs/benchmarks.md).

Thread counts are pinned here, before NumPy or PyTorch is imported, so every
library in the run and in its subprocesses uses the same number of threads.
"""

import os

THREADS = 2

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, str(THREADS))
