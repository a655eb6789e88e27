"""The documentation stays true: code blocks run, links resolve, the CLI reference is current."""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Every page with a python block, the README included. Readers copy these blocks, so each must run as printed.
PAGES_WITH_CODE = sorted(
    path.relative_to(ROOT).as_posix() for path in [ROOT / "README.md", *DOCS.rglob("*.md")]
    if "```python\n" in path.read_text(encoding="utf-8")
)
# Pages written alongside the code they describe; a link to one is checked once the page exists.
PAGES_FROM_OTHER_PARTS = {"benchmarks.md", "quality.md", "model-format.md"}
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)#]+)(#[^)]*)?\)")


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks(page, language):
    """Return the ``language`` code blocks of ``page``, a path relative to the repository root."""
    return [code for kind, code in BLOCK.findall((ROOT / page).read_text(encoding="utf-8")) if kind == language]


def test_cli_reference_up_to_date():
    expected = load_generator().generate()
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is out of date; run: python scripts/gen_cli_docs.py"


def test_cli_reference_lists_every_command():
    from glassnet.cli.main import COMMANDS

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## glassnet {name}\n" in text, name


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = blocks(page, "python")
    assert code, f"{page} has no python block"
    namespace = {"__name__": "__docs__"}
    for number, block in enumerate(code, start=1):
        exec(compile(block, f"{page} block {number}", "exec"), namespace)


def test_getting_started_commands_run(tmp_path, monkeypatch, capsys):
    from glassnet.cli.main import main

    monkeypatch.chdir(tmp_path)
    commands = [line for block in blocks("docs/getting-started.md", "bash") for line in block.splitlines()
                if line.startswith("glassnet ")]
    assert commands[0] == "glassnet demo"
    assert any(command.startswith("glassnet export") for command in commands)
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    assert (tmp_path / "cancer.onnx").exists()


def test_links_resolve():
    pages = ["index.md", "getting-started.md", "export.md", *(f"concepts/{p.name}" for p in (DOCS / "concepts").glob("*.md"))]
    for page in pages:
        text = (DOCS / page).read_text(encoding="utf-8")
        for target, _ in LINK.findall(text):
            if target.startswith(("http://", "https://")):
                continue
            resolved = (DOCS / page).parent / target
            if resolved.name in PAGES_FROM_OTHER_PARTS and not resolved.exists():
                continue
            assert resolved.exists(), f"{page} links to {target}, which does not exist"


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in DOCS.rglob("*.md"):
        name = page.relative_to(DOCS).as_posix()
        if name != "index.md":
            assert f"({name})" in index, f"docs/index.md does not link {name}"
