"""The documentation: generated pages are fresh, recorded runs still match the code, the commands run."""

import importlib.util
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from quick_runs import quick_run

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


def _literate_module(tmp_path, monkeypatch, source: str):
    """A literate module in ``tmp_path``, which the build then takes as the repository root."""
    module = tmp_path / "recipe.py"
    module.write_text(source)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    return module


def test_literate_rendering_keeps_prose_and_code_in_order(tmp_path, monkeypatch):
    module = _literate_module(
        tmp_path,
        monkeypatch,
        '"""\nTitle: A demo\nDescription: Shows the rendering.\nRun: python -m demo\n"""\n\n'
        '"""\n## First\n\nSome prose.\n"""\n\nx = 1\n\n"""\n## Second\n"""\n\ny = x + 1\n',
    )
    text = build.literate_markdown(module)
    assert text.index("# A demo") < text.index("## First") < text.index("x = 1") < text.index("## Second")
    assert text.index("## Second") < text.index("y = x + 1")
    assert "```python\nx = 1\n```" in text
    # A change in the prose changes the page, which the freshness test then catches.
    module.write_text(module.read_text().replace("Some prose.", "Other prose."))
    assert build.literate_markdown(module) != text


def test_literate_sections_split_a_string_at_each_heading(tmp_path, monkeypatch):
    module = _literate_module(
        tmp_path,
        monkeypatch,
        '"""\nTitle: A demo\n"""\n\n"""\n## Introduction\n\nWhy.\n"""\n\n"""\n## Setup\n"""\n\nimport os\n\n'
        'SIZE = 3\n\n"""\n## Data\n\nRows.\n\n## Models\n\nLayers.\n"""\n\n\ndef build():\n    return SIZE\n',
    )
    header, sections = build.literate_sections(module)
    assert header == {"Title": "A demo"}
    assert [s.heading for s in sections] == ["Introduction", "Setup", "Data", "Models"]
    assert sections[1].names == ["SIZE"] and "import os" in sections[1].code
    assert sections[2].code == "" and sections[3].names == ["build"]
    collapsed = "\n".join(build._section_markdown(sections[1], collapsed=True))
    assert '??? note "Harness details: `SIZE`"' in collapsed
    assert "\n    ```python\n    import os" in collapsed


RECIPE_PAGES = {name: REPO / "docs" / "recipes" / f"{name}.md" for name in build.recipes()}


@pytest.mark.parametrize("name", sorted(RECIPE_PAGES))
def test_recipe_page_shows_the_model_first_and_folds_the_harness(name):
    text = RECIPE_PAGES[name].read_text()
    introduction = text.index("## Introduction")
    models = text.index("## Models")
    summary = text.index("### The main recurrent model")
    predictions = text.index("### Sample predictions")
    setup = text.index("## Setup")
    results = text.index("## Results of the quick run")
    assert introduction < models < summary < predictions < setup < results
    assert "```python" in text[models:summary], "the model code is shown, not folded"
    assert '??? note "Harness details:' in text[setup:results]
    assert "```python" not in text[setup : text.index("??? note", setup)], "Setup's code is folded"


def _includes(text: str) -> list[str]:
    return re.findall(r'^\s*--8<-- "([^"]+)"', text, flags=re.M)


def _images(text: str) -> list[str]:
    """Image links of a page, outside its code blocks."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", prose)


def test_pages_find_their_recorded_material():
    for path, text in build.generated_pages().items():
        for include in _includes(text):
            included = REPO / include
            assert included.is_file(), f"{path.name} includes {include}: run `python docs/build.py --record`"
            for image in _images(included.read_text()):
                assert (path.parent / image).resolve().is_file(), (path.name, include, image)
        for image in _images(text):
            assert (path.parent / image).resolve().is_file(), (path.name, image)


def _structure(report: dict) -> dict:
    """What a page relies on in a report: its keys, the models, each model's keys and metric names."""
    return {
        "keys": sorted(report),
        "models": {
            name: {"keys": sorted(set(entry) - {"model_path"}), "metrics": sorted(entry["metrics"])}
            for name, entry in report["models"].items()
        },
    }


# The reverse of tests/test_recipes.py's order: with two test workers, each makes half of
# the shared quick runs (tests/quick_runs.py) instead of waiting for the other's.
@pytest.mark.parametrize("name", sorted(RECIPE_PAGES, reverse=True))
def test_recorded_run_matches_a_fresh_quick_run(name, tmp_path_factory):
    """Numbers differ by machine; the models, metrics, report keys and plots must not."""
    recorded = REPO / "docs" / "recorded" / name
    output, report = quick_run(name, tmp_path_factory)
    hint = f"docs/recorded/{name} no longer matches the code: run `python docs/build.py --record {name}`"
    assert _structure(json.loads((recorded / "metrics.json").read_text())) == _structure(report), hint
    assert {p.name for p in recorded.glob("*.png")} == {p.name for p in output.glob("*.png")}, hint
    assert {"results.md", "summary.md", "predictions.md"} <= {p.name for p in recorded.iterdir()}, hint
    assert not list(recorded.rglob("*.keras")) and not list(recorded.rglob("*.csv"))
    assert (
        build.main_recurrent(report) is None
        or f"`{build.main_recurrent(report)}`" in (recorded / "predictions.md").read_text()
    ), hint


@pytest.mark.parametrize("name", ["speech", "video"])
def test_sample_predictions_are_made_on_test_split_inputs(name, monkeypatch, tmp_path):
    """The page's example inputs come from the run's test split, never from what the model trained on."""
    from rnn_apps.harness import registry

    monkeypatch.setattr(build, "SCRATCH", tmp_path)
    recipe = registry.get(name)
    cfg = recipe.parse(["--quick", "--verbose", "0", "--output-dir", str(tmp_path / "run")])
    data = recipe.load_data(cfg)
    inputs, expected, _ = build._held_out(name, recipe, cfg, data)
    assert len(inputs) >= 2 and len(set(expected)) == len(expected)
    if name == "speech":
        from rnn_apps.data import audio

        training = data.clips.train[0]
        for path, label in zip(inputs, expected):
            assert pathlib.Path(path).parent.name == label
            clip, _ = audio.load_clip(path, data.clips.sample_rate)
            assert not any(len(clip) == len(seen) and np.array_equal(clip, seen) for seen in training)
    else:
        from rnn_apps.data import video

        # Read back as `predict` reads a user's clip: they must be test clips, not training ones.
        clips, _ = video.read_inputs(inputs, video.sidecar(data, cfg.input, cfg.stride, cfg.short_clips))
        for clip in clips:
            assert not any(np.array_equal(clip, seen) for seen in data.train[0])
            assert any(np.array_equal(clip, held) for held in data.test[0])


def test_full_data_run_takes_the_benchmark_data_and_flags(tmp_path):
    """`--record-full` runs the recipe on the benchmark's data folder with its flags, seed 1 (and fold 0)."""
    from bench import specs
    from rnn_apps.harness import registry

    for name, key in build.FULL_DATA_BENCHMARKS.items():
        spec = specs.BENCHMARKS[key]
        argv = build.full_data_argv(key, tmp_path)
        assert spec.recipe == name
        assert argv[:2] == ["--data", str(tmp_path / spec.data)]
        assert argv[2 : 2 + len(spec.args)] == list(spec.args)
        first = ["--seed", "1", "--folds", str(spec.folds), "--fold", "0"] if spec.folds else ["--seed", "1"]
        assert argv[2 + len(spec.args) :] == first
        # The recipe takes every flag (parse stops with SystemExit on an unknown one).
        cfg = registry.get(name).parse([*argv, "--output-dir", str(tmp_path / name)])
        assert cfg.seed == 1
    folded = build.full_data_argv("sentiment-mr", tmp_path)
    assert folded[-4:] == ["--folds", "10", "--fold", "0"]


def test_concept_plot_links_point_into_the_recorded_folder():
    text = "![adding problem](adding_problem.png) ![web](https://example.org/a.png) [page](gates.md)"
    assert build.concept_links(text, "memory") == (
        "![adding problem](recorded/memory/adding_problem.png) ![web](https://example.org/a.png) [page](gates.md)"
    )
    recorded = (REPO / "docs" / "recorded" / "memory" / "results.md").read_text()
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", recorded):
        assert (REPO / "docs" / image).is_file(), image


MACHINE_DETAILS = (
    re.compile(r"(?<![\w.])/(?:work|tmp|home|root|Users)/"),
    re.compile(r"shared/datasets"),
    re.compile(r"Device: \{"),
    re.compile(r"\bissue \d+"),
    re.compile(r"\bengineers?\b"),
)


def test_rendered_text_has_no_machine_paths_or_notes_to_the_tracker():
    rendered = {path: text for path, text in build.generated_pages().items() if path.suffix == ".md"}
    rendered.pop(REPO / "README.md")
    for path in [*(REPO / "docs").glob("*.md"), *(REPO / "docs" / "recorded").rglob("*.md")]:
        rendered.setdefault(path, path.read_text())
    for path, text in rendered.items():
        for pattern in MACHINE_DETAILS:
            found = pattern.search(text)
            assert found is None, f"{path.relative_to(REPO)}: {text[max(0, found.start() - 60) : found.end() + 60]!r}"


def test_public_text_rewrites_paths_and_device_dicts():
    text = build.public_text(
        "python -m recipes.x --data /work/shared/datasets/a/b --output-dir /tmp/run/s1\n"
        "Device: {'host': 'vm', 'processor': 'x86_64', 'cpus': 2}\n"
        "on `../shared/datasets/c`"
    )
    assert text.splitlines() == [
        "python -m recipes.x --data $DATASETS/a/b --output-dir runs/run/s1",
        "Device: a virtual machine (x86_64) with 2 usable CPU cores.",
        "on `$DATASETS/c`",
    ]


def test_benchmark_page_has_human_titles_horizons_in_order_and_charts():
    text = (REPO / "docs" / "benchmarks.md").read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    stems = [p.stem for p in (REPO / "bench" / "results").glob("*.md")]
    assert not set(headings) & set(stems), "sections are titled, not named after their files"
    horizons = [int(h) for h in re.findall(r"^## Exchange rates, (\d+) days ahead$", text, flags=re.M)]
    assert horizons == sorted(horizons) and len(horizons) >= 2
    for stem in stems:
        if (REPO / "bench" / "results" / f"{stem}.json").exists() and build._chartable(stem):
            assert f"(recorded/benchmarks/{stem}.png)" in text
            assert build.benchmark_chart(stem).is_file(), "run `python docs/build.py --charts`"


def test_results_table_gives_every_published_row_with_its_protocol_note():
    table = build.results_table()
    for path in (REPO / "bench" / "results").glob("*.json"):
        result = json.loads(path.read_text())
        if "models" not in result or "metrics" not in result:
            continue
        row = next(line for line in table.splitlines() if f"[{result['key']}](" in line)
        for system, value, note in result.get("published", []):
            assert f"{system} {value}" + (f" ({note})" if note else "") in row, (path.name, system)


def test_navigation_puts_concepts_first_and_maintainer_pages_together():
    config = (REPO / "mkdocs.yml").read_text()
    nav = config.split("\nnav:\n", 1)[1]
    sections = re.findall(r"^  - ([^:\n]+):$", nav, flags=re.M)
    assert sections[0] == "Concepts" and sections[-1] == "Maintainers"
    concepts = config.split("  - Concepts:\n", 1)[1].split("\n  - ", 1)[0]
    assert "memory.md" in concepts
    maintainers = config.split("  - Maintainers:\n", 1)[1].split("\n  - ", 1)[0]
    for page in ("bad-input.md", "long-runs.md", "backends.md"):
        assert page in maintainers
    assert "site_url: https://rnn-apps.github.io/rnn_apps/" in config
    assert "repo_url: https://github.com/rnn-apps/rnn_apps" in config
    assert "pymdownx.details" in config


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


def test_readme_tuned_cell_says_when_the_settings_came_from_another_benchmarks_search():
    models = {"lstm": {"metrics": {"accuracy": {"mean": 0.6}}}, "cnn": {"metrics": {"accuracy": {"mean": 0.5}}}}
    searched = build._tuned_cell({"tuned": {"models": models}}, "accuracy", 1)
    borrowed = build._tuned_cell({"tuned": {"models": models, "settings_of": ["speech-fsdd-loso"]}}, "accuracy", 1)
    assert searched.startswith("lstm 0.6000; cnn 0.5000") and "settings from" not in searched
    assert borrowed.startswith("lstm 0.6000; cnn 0.5000; settings from the search of speech-fsdd-loso; ")
