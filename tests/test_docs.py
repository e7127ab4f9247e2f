"""The documentation: generated pages are fresh, and the getting-started commands run."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys

import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("docs_build", REPO / "docs" / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


@pytest.mark.parametrize("path", sorted(build.generated_pages(), key=str), ids=lambda p: p.relative_to(REPO).as_posix())
def test_generated_page_is_fresh(path):
    expected = build.generated_pages()[path]
    assert path.exists(), f"{path} is missing: run `python docs/build.py --pages`"
    assert path.read_text(encoding="utf-8") == expected, f"{path} is stale: run `python docs/build.py --pages`"


def test_every_recipe_has_a_page_and_a_nav_entry():
    config = (REPO / "mkdocs.yml").read_text()
    for name in build.recipes():
        assert (REPO / "docs" / "recipes" / f"{name}.md").exists()
        assert f"recipes/{name}.md" in config


def test_literate_rendering_keeps_prose_and_code_in_order(tmp_path, monkeypatch):
    module = tmp_path / "recipe.py"
    module.write_text(
        '"""\nTitle: A demo\nDescription: Shows the rendering.\nRun: python -m demo\n"""\n\n'
        '"""\n## First\n\nSome prose.\n"""\n\nx = 1\n\n"""\n## Second\n"""\n\ny = x + 1\n'
    )
    monkeypatch.setattr(build, "ROOT", tmp_path)
    text = build.literate_markdown(module)
    assert text.index("# A demo") < text.index("## First") < text.index("x = 1") < text.index("## Second")
    assert text.index("## Second") < text.index("y = x + 1")
    assert "```python\nx = 1\n```" in text
    # A change in the prose changes the page, which the freshness test then catches.
    module.write_text(module.read_text().replace("Some prose.", "Other prose."))
    assert build.literate_markdown(module) != text


def _commands(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text()
    return [line.strip() for line in text.splitlines() if re.match(r"^    (rnn-apps|python -m) ", line)]


def _python_blocks(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_getting_started_commands_run(tmp_path):
    commands = _commands("getting-started.md")
    assert any(c.startswith("python -m recipes.sentiment --quick") for c in commands)
    assert any(c.startswith("rnn-apps predict") for c in commands)
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)}
    for command in commands:
        if "my_reviews.csv" in command:
            continue  # needs the reader's own file
        argv = shlex.split(command)
        if argv[0] == "python":
            argv[0] = sys.executable
        result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (command, result.stderr[-2000:])
    for block in _python_blocks("getting-started.md"):
        result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (block, result.stderr[-2000:])


def test_choosing_a_model_example_prints_what_the_page_says():
    (block,) = _python_blocks("choosing-a-model.md")
    code = block.replace("recurrent.kernel_report(model).reasons", "print(recurrent.kernel_report(model).reasons)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    expected = re.search(r"# (\(.*\))", block).group(1)
    assert result.stdout.strip().splitlines()[-1] == expected
