"""Packaging: the built wheel installs into a fresh virtual environment and works there.

The test builds the sdist and, from it, the wheel (``python -m build
--no-isolation``, so no download is needed), creates an empty virtual
environment, installs the wheel with ``--no-deps`` and makes the test
environment's third-party packages (NumPy, scikit-learn, ...) visible through
a ``.pth`` file instead of reinstalling them. It then runs ``glassnet demo``
and imports every public name from outside the source tree.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("build")

# Imports every module of the installed package and reads each name in its __all__.
IMPORT_EVERY_PUBLIC_NAME = """
import importlib, pkgutil, sys
import glassnet
assert "site-packages" in glassnet.__file__, glassnet.__file__
checked = 0
for module_info in pkgutil.walk_packages(glassnet.__path__, "glassnet."):
    if module_info.name.endswith("__main__"):
        continue
    module = importlib.import_module(module_info.name)
    for name in getattr(module, "__all__", []):
        getattr(module, name)
        checked += 1
for name in glassnet.__all__:
    getattr(glassnet, name)
print("public names", checked + len(glassnet.__all__))
"""


def clean_environment():
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    environment["PYTHONNOUSERSITE"] = "1"
    return environment


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the sdist and wheel from a copy of the project; return the output folder."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", "build", "dist",
        ".venv", ".ci-venv"))
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True, text=True, env=clean_environment(), timeout=300)
    return dist


def test_wheel_contains_package_data(built):
    wheel = next(built.glob("glassnet-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "glassnet/py.typed" in names
    assert "glassnet/examples/lesson.toml" in names
    assert "glassnet/export/onnx.py" in names
    assert "glassnet/sklearn.py" in names
    entry_points = [name for name in names if name.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode()
    assert "glassnet = glassnet.cli.main:main" in text


def test_sdist_contains_sources_docs_and_examples(built):
    sdist = next(built.glob("glassnet-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    for expected in ("pyproject.toml", "README.md", "src/glassnet/py.typed", "src/glassnet/examples/lesson.toml",
                     "docs/index.md", "examples/lesson_step.py", "tests/test_packaging.py"):
        assert expected in names, expected


def test_wheel_installs_and_runs_in_fresh_venv(built, tmp_path):
    wheel = next(built.glob("glassnet-*.whl"))
    environment_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment_dir)
    python = environment_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True, capture_output=True, text=True, env=clean_environment(),
                   timeout=300)
    # Reuse this environment's NumPy and optional libraries instead of downloading them again.
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        check=True, capture_output=True, text=True).stdout.strip())
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    demo = subprocess.run([str(environment_dir / "bin" / "glassnet"), "demo"], cwd=tmp_path,
                          capture_output=True, text=True, env=clean_environment(), timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "[0.30699779]" in demo.stdout

    # The quick start's training command, from the README.
    train = subprocess.run([str(environment_dir / "bin" / "glassnet"), "train", "--dataset", "breast-cancer"],
                           cwd=tmp_path, capture_output=True, text=True, env=clean_environment(), timeout=300)
    assert train.returncode == 0, train.stderr
    assert "test accuracy" in train.stdout

    imports = subprocess.run([str(python), "-c", IMPORT_EVERY_PUBLIC_NAME], cwd=tmp_path,
                             capture_output=True, text=True, env=clean_environment(), timeout=300)
    assert imports.returncode == 0, imports.stderr
    assert "public names" in imports.stdout


def test_mypy_rejects_misspelled_package_names(tmp_path):
    pytest.importorskip("mypy")
    # Loading some names on first use must not make type checkers accept every name of glassnet.
    user = tmp_path / "user.py"
    user.write_text("import glassnet\nfrom glassnet import Sequentail\nglassnet.save_modle\n"
                    "glassnet.serialization.save_model\nfrom glassnet import load_model\n")
    environment = clean_environment()
    environment["MYPYPATH"] = str(ROOT / "src")
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "", "--cache-dir", str(tmp_path / "cache"),
                             str(user)], cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=600)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert any('"Sequentail"' in line for line in errors), result.stdout
    assert any('"save_modle"' in line for line in errors), result.stdout
    assert len(errors) == 2, result.stdout


def test_typed_modules_pass_mypy_strict():
    pytest.importorskip("mypy")
    # mypy's incremental cache (.mypy_cache, ignored by git) makes every run after the first take seconds.
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
                             str(ROOT / "src")],
                            cwd=ROOT, capture_output=True, text=True, env=clean_environment(), timeout=600)
    # Every module passes, with no exclusions in pyproject.toml.
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == []
    assert result.returncode == 0, result.stdout + result.stderr
    assert (ROOT / "src" / "glassnet" / "py.typed").exists()
