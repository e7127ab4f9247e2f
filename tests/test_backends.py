"""The cookbook on every Keras backend: factory tests, quick runs, fused-kernel rules, the GPU script.

Each backend runs in its own process (``KERAS_BACKEND`` is read once, at
``import keras``). JAX and the CPU build of PyTorch come with the
``backends`` extra; without them these tests are skipped.
"""

import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO

from rnn_apps import backend
from rnn_apps.layers import recurrent

OTHER_BACKENDS = ("jax", "torch")
PROBE = "RNN_APPS_BACKEND_PROBE"

FACTORY_TESTS = [
    "tests/test_recurrent.py",
    "tests/test_convolutional.py",
    "tests/test_models.py",
    "tests/test_video_models.py",
    "tests/test_text_analysis_crf.py",
    "tests/test_translation_models.py",
    "tests/test_incremental_decoding.py",
    "tests/test_torch_kernels.py",
    "tests/test_streaming.py",
    "tests/test_streaming_text_analysis.py",
    "tests/test_streaming_video.py",
    "tests/test_streaming_stocks.py",
    "tests/test_streaming_speech.py",
]

# Tests that cannot pass on a backend, with the reason (node-id prefixes).
TENSORFLOW_RULES = (
    "it states the TensorFlow backend's fused-kernel rules; test_kernel_report_matches_the_backend checks each"
)
STRING_MODEL = "the inference model takes raw strings (TextVectorization inside the model needs TensorFlow)"
NOT_ON_ANY = {
    "tests/test_translation_models.py::test_inference_model_scores_the_word_after_the_prefix": STRING_MODEL,
    "tests/test_recurrent.py::test_each_broken_condition_is_named": TENSORFLOW_RULES,
    "tests/test_recurrent.py::test_defaults_are_eligible_and_simple_rnn_never_is": TENSORFLOW_RULES,
    "tests/test_recurrent.py::test_kernel_report_reads_real_layer_settings": TENSORFLOW_RULES,
    "tests/test_recurrent.py::test_kernel_report_left_padding": TENSORFLOW_RULES,
}
NOT_ON = {"jax": NOT_ON_ANY, "torch": NOT_ON_ANY}


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def needs(name: str):
    return pytest.mark.skipif(not installed(name), reason=f"{name} is not installed (pip install -e .[backends])")


def run_on(backend_name: str, command: list[str], timeout: int = 600, env=None) -> subprocess.CompletedProcess:
    """Run ``command`` in a fresh process on one Keras backend; fail with its output's end."""
    environment = os.environ | {"KERAS_BACKEND": backend_name, "TF_CPP_MIN_LOG_LEVEL": "3"} | (env or {})
    done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    return done


# --------------------------------------------------------------------------
# 1. Factory and model tests under JAX and PyTorch
#
# The two runs are the longest here, so both start when this module's first
# test does and run beside the others; `test_factory_tests_pass` (last in
# the file) collects them.


def factory_command(backend_name: str) -> list[str]:
    deselect = []
    for test in NOT_ON[backend_name]:
        deselect += ["--deselect", test]
    return [sys.executable, "-m", "pytest", *FACTORY_TESTS, "-q", "-p", "no:cacheprovider", *deselect]


@pytest.fixture(scope="module", autouse=True)
def factory_runs(request, tmp_path_factory):
    """Start the factory runs this session will check, in the background."""
    wanted = {
        item.callspec.params["backend_name"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_factory_tests_pass"
        and hasattr(item, "callspec")
        and item.get_closest_marker("skip") is None
    }
    runs = {}
    for backend_name in sorted(wanted):
        if not installed(backend_name):
            continue
        log = open(tmp_path_factory.mktemp("factory") / f"{backend_name}.log", "w+")
        environment = os.environ | {"KERAS_BACKEND": backend_name, "TF_CPP_MIN_LOG_LEVEL": "3"}
        process = subprocess.Popen(factory_command(backend_name), cwd=REPO, env=environment, stdout=log, stderr=log)
        runs[backend_name] = (process, log)
    yield runs
    for process, log in runs.values():
        if process.poll() is None:
            process.kill()
        log.close()


# --------------------------------------------------------------------------
# 2. Quick runs of the recipes


def tiny_reviews(folder):
    rows = ["text,label"]
    for i in range(12):
        rows += [f'"a great product that works well {i}",pos', f'"a terrible product, broke at once {i}",neg']
    path = folder / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def tiny_conll(folder):
    """The first 40 sentences of each part of the bundled text-analysis sample."""
    sample = REPO / "data" / "text_analysis"
    target = folder / "conll"
    target.mkdir()
    for part in ("train", "dev", "test"):
        sentences = (sample / f"{part}.conll").read_text().strip().split("\n\n")[:40]
        (target / f"{part}.conll").write_text("\n\n".join(sentences) + "\n")
    return target


# Small, one-epoch runs: what is tested is that each recipe's code runs on
# the backend, not what it learns.
QUICK_RUNS = {
    "sentiment": ["--model", "lstm,cnn", "--epochs", "1"],
    "stocks": ["--model", "lstm", "--epochs", "1"],
    "video": ["--model", "lstm", "--epochs", "1", "--limit", "64"],
    "speech": ["--model", "gru", "--epochs", "1"],
    "text_analysis": ["--model", "lstm", "--epochs", "1", "--crf", "--char-features", "--lowercase"],
    "translation": ["--model", "gru", "--epochs", "1", "--max-pairs", "300", "--test-limit", "8", "--heatmaps", "1"],
}
NOT_RUNNABLE = backend.NEEDS_TENSORFLOW
# The default run keeps the sentiment run on each backend (raw text in, a saved model that predicts); the
# other runs take a minute or more each on two cores (up to three on JAX) and run with RNN_APPS_SLOW=1.
SLOW_RUNS = {"video", "speech", "translation", "stocks", "text_analysis"}


def quick_cases():
    for backend_name in OTHER_BACKENDS:
        for recipe in [*QUICK_RUNS, *NOT_RUNNABLE]:
            marks = [needs(backend_name)]
            if recipe in NOT_RUNNABLE:
                marks.append(pytest.mark.skip(reason=f"{recipe} on {backend_name}: {NOT_RUNNABLE[recipe]}"))
            elif recipe in SLOW_RUNS:
                marks.append(pytest.mark.slow)
            yield pytest.param(backend_name, recipe, marks=marks, id=f"{backend_name}-{recipe}")


@pytest.mark.parametrize("backend_name, recipe", list(quick_cases()))
def test_quick_run(backend_name, recipe, tmp_path):
    assert recipe in backend.ON_OTHER_BACKENDS
    output = tmp_path / "run"
    extra = []
    if recipe == "sentiment":
        extra = ["--data", str(tiny_reviews(tmp_path))]
    elif recipe == "text_analysis":
        extra = ["--data", str(tiny_conll(tmp_path))]
    command = [sys.executable, "-m", f"recipes.{recipe}", "--quick", "--verbose", "0", "--output-dir", str(output)]
    run_on(backend_name, command + QUICK_RUNS[recipe] + extra)
    report = json.loads((output / "metrics.json").read_text())
    assert report["models"], report

    def predict(model: str, *arguments: str) -> str:
        """``rnn-apps predict`` with a saved model of this run, in a fresh process on the backend."""
        command = [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            recipe,
            "--model",
            str(output / "models" / model),
        ]
        return run_on(backend_name, command + list(arguments)).stdout

    # No string tensors here: text models are saved as id models with their vocabularies
    # beside them, and predict still takes raw text.
    if recipe == "sentiment":
        assert (output / "models" / "lstm.vocabulary.json").exists()
        assert predict("lstm.keras", "a great product").strip().split("\t")[0] in ("pos", "neg")
    if recipe == "text_analysis":
        assert (output / "models" / "lstm.vocabulary.json").exists()
        assert "Bob/" in predict("lstm.keras", "Bob ran")
    if recipe == "translation":
        vocabularies = json.loads((output / "models" / "gru.vocabulary.json").read_text())
        predicted = predict("gru.keras", "--format", "json", "The small red car.")
        (row,) = [json.loads(line) for line in predicted.strip().splitlines()]
        # One epoch teaches little, so only the form is checked: target words, decoded from ids.
        assert row["text"] == "The small red car." and isinstance(row["translation"], str)
        assert set(row["translation"].split()) <= set(vocabularies["target"]["vocabulary"]), row


# --------------------------------------------------------------------------
# The sentiment data preprocessed once, then trained without TensorFlow (bench/text_arrays.py)


BLOCK_TENSORFLOW = "import sys; sys.modules['tensorflow'] = None; "


@needs("torch")
def test_arrays_train_without_tensorflow(tmp_path):
    from bench import text_arrays

    arrays = tmp_path / "reviews.npz"
    assert text_arrays.main(["export-text", "--data", str(tiny_reviews(tmp_path)), "--output", str(arrays)]) == 0
    loaded = text_arrays.load_text_arrays(arrays)
    assert loaded["class_names"] == ["neg", "pos"] and loaded["train"][0].dtype == np.int32
    script = (
        BLOCK_TENSORFLOW + "from bench import text_arrays; "
        f"code = text_arrays.main(['train-text', {str(arrays)!r}, '--model', 'gru', '--epochs', '1', "
        f"'--output-dir', {str(tmp_path / 'run')!r}]); "
        "assert not [m for m in sys.modules if m.startswith('tensorflow') and sys.modules[m] is not None]; "
        "sys.exit(code)"
    )
    run_on("torch", [sys.executable, "-c", script])
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(report["models"]) == {"gru", "majority"}
    assert (tmp_path / "run" / "models" / "gru.vocabulary.json").exists()


def test_word_vectorizer_matches_text_vectorization():
    texts = ["A good, GOOD film!", "  tabs\tand\nnew lines  ", "Ünïcode Straße café", "", "it's (not) bad... [really]"]
    layer = keras.layers.TextVectorization(max_tokens=30, output_sequence_length=6)
    layer.adapt(texts + ["good film bad really"])
    words = backend.WordVectorizer.from_layer(layer, 6)
    np.testing.assert_array_equal(words(texts), keras.ops.convert_to_numpy(layer(np.array(texts, dtype=object))))
    assert words.vocabulary_size() == layer.vocabulary_size()


def test_bad_arrays_file_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not numpy")
    from bench import text_arrays

    with pytest.raises(text_arrays.errors.InputError, match="Expected an .npz file"):
        text_arrays.load_text_arrays(bad)


# --------------------------------------------------------------------------
# 3. kernel_report against each backend's own code path

# (cell, layer options, padding): padding "none" has no mask at all.
KERNEL_CASES = [
    ("lstm", {}, "none"),
    ("lstm", {}, "right"),
    ("lstm", {}, "left"),
    ("gru", {}, "none"),
    ("gru", {}, "right"),
    ("gru", {"reset_after": False}, "none"),
    ("lstm", {"recurrent_dropout": 0.2}, "none"),
    ("lstm", {"activation": "relu"}, "none"),
    ("gru", {"recurrent_activation": "hard_sigmoid"}, "none"),
    ("lstm", {"unroll": True}, "none"),
    ("lstm", {"use_bias": False}, "none"),
    ("gru", {"use_cudnn": False}, "none"),
    ("simple_rnn", {}, "none"),
    ("lstm", {"bidirectional": True}, "none"),
    ("gru", {"bidirectional": True}, "none"),
]


def _spy_fused_path(monkeypatch, seen: list):
    """Pretend a GPU is there and record whether the backend reaches its fused kernel.

    On CPU the kernel itself cannot run, so each spy stands at the last
    step before it (after every check the backend makes) and then makes the
    backend fall back to its generic loop, as it does without a GPU.
    """
    name = keras.backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

        monkeypatch.setattr(rnn, "_is_gpu_available", lambda: True)
        for kernel in ("_cudnn_lstm", "_cudnn_gru"):
            signature = inspect.signature(getattr(rnn, kernel))

            def spy(*args, _signature=signature, **kwargs):
                mask = _signature.bind(*args, **kwargs).arguments["mask"]
                if mask is not None:
                    rnn._assert_valid_mask(mask)  # left padding fails here, eagerly
                seen.append(True)
                raise tf.errors.NotFoundError(None, None, "probe: no cuDNN on this machine")

            monkeypatch.setattr(rnn, kernel, spy)
    elif name == "jax":
        import jax.experimental.rnn

        rnn = importlib.import_module("keras.src.backend.jax.rnn")

        monkeypatch.setattr(rnn, "_is_gpu_available", lambda: True)

        def spy(*args, **kwargs):
            seen.append(True)
            raise RuntimeError("probe: no cuDNN on this machine")

        monkeypatch.setattr(jax.experimental.rnn, "lstm", spy)
    else:
        # `rnn_apps.layers.torch_kernels` routes eligible layers to PyTorch's fused
        # kernel on any device once the command line's `runtime.configure` installs
        # it; the probe does the same and listens for the calls it routes.
        from rnn_apps.harness import runtime
        from rnn_apps.layers import torch_kernels

        runtime.configure()

        def spy(kind, masked):
            seen.append(True)

        # Only this spy listens while the probe runs.
        monkeypatch.setattr(torch_kernels._HOOKS, "listeners", [spy])


def _probe_model(cell, options, padding):
    options = dict(options)
    bidirectional = options.pop("bidirectional", False)
    layer_class = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    ids = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(9, 4, mask_zero=padding != "none")(ids)
    layer = layer_class(3, **options)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    return keras.Model(ids, layer(x))


@pytest.mark.skipif(os.environ.get(PROBE) != "1", reason="run per backend by test_kernel_report_matches_the_backend")
@pytest.mark.parametrize("cell, options, padding", KERNEL_CASES)
def test_kernel_report_matches_the_code_path_here(cell, options, padding, monkeypatch):
    batch = {
        "none": [[3, 4, 5, 6, 7], [2, 3, 4, 5, 6]],
        "right": [[3, 4, 5, 0, 0], [2, 3, 4, 5, 6]],
        "left": [[0, 0, 3, 4, 5], [2, 3, 4, 5, 6]],
    }[padding]
    model = _probe_model(cell, options, padding)
    seen = []
    _spy_fused_path(monkeypatch, seen)
    model(np.array(batch, dtype="int32"))
    report = recurrent.kernel_report(model, mask_padding=padding)
    assert report.eligible == bool(seen), (keras.backend.backend(), report.reasons, bool(seen))


@pytest.mark.parametrize("backend_name", [pytest.param(b, marks=needs(b)) for b in ("tensorflow", *OTHER_BACKENDS)])
def test_kernel_report_matches_the_backend(backend_name):
    run_on(
        backend_name,
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", "code_path_here"],
        env={PROBE: "1"},
    )


def test_kernel_rules_differ_by_backend():
    right = dict(mask_padding="right", masked=True)
    assert recurrent.fast_kernel_eligibility("lstm", backend="tensorflow", **right).eligible
    assert not recurrent.fast_kernel_eligibility("lstm", backend="jax", **right).eligible
    assert recurrent.fast_kernel_eligibility("gru", backend="torch", **right).eligible  # rnn_apps.layers.torch_kernels
    assert not recurrent.fast_kernel_eligibility("gru", backend="torch", masked=True, mask_padding="left").eligible
    assert recurrent.fast_kernel_eligibility("gru", backend="torch").eligible
    assert recurrent.fast_kernel_eligibility("gru", backend="jax").reasons == ("JAX has no fused GRU kernel",)
    with pytest.raises(backend.errors.InputError):
        recurrent.fast_kernel_eligibility("lstm", backend="mxnet")


# --------------------------------------------------------------------------
# 4. The GPU script, on CPU in a tiny configuration


@needs("jax")
@needs("torch")
@pytest.mark.slow  # about two and a half minutes on two cores
def test_gpu_script_runs_tiny_on_cpu(tmp_path):
    command = [sys.executable, "-m", "bench.gpu.run", "--size", "tiny", "--batches", "1", "--repeats", "1"]
    command += ["--models", "lstm_nomask", "--tasks", "sentiment", "--output-dir", str(tmp_path)]
    run_on("tensorflow", command, env={"OUT": ""})
    (path,) = tmp_path.glob("gpu-*.json")
    report = json.loads(path.read_text())
    measured = {(r["framework"], r["task"], r["model"]) for r in report["results"] if "samples_per_second" in r}
    for framework in ("keras-jax", "keras-torch"):
        assert (framework, "sentiment", "lstm_nomask") in measured
    assert ("pytorch", "sentiment", "lstm") in measured and "sentiment/lstm_nomask/keras-jax" in report["ratios"]
    jax_lstm = next(r for r in report["results"] if r["framework"] == "keras-jax" and r["model"] == "lstm_nomask")
    assert jax_lstm["fast_kernel"] is True and jax_lstm["recurrent_tflops"] >= 0
    assert path.with_suffix(".md").read_text().count("| sentiment |") >= 4


# --------------------------------------------------------------------------
# 1 (collected). The factory runs started at the top of the module


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", [pytest.param(b, marks=needs(b)) for b in OTHER_BACKENDS])
def test_factory_tests_pass(backend_name, factory_runs):
    process, log = factory_runs[backend_name]
    code = process.wait(timeout=900)
    log.seek(0)
    output = log.read()
    assert code == 0 and " passed" in output, output[-4000:]


def test_tagger_model_matches_the_string_tagger():
    from rnn_apps.data import tokenization
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import taggers

    words, chars = ["the", "cat", "sat"], list("thecas")
    core = taggers.tagger(
        encoders.EncoderConfig(model="gru", units=4),
        num_tags=3,
        vocabulary_size=len(words) + 2,
        embedding_dim=4,
        char_vocabulary_size=len(chars) + 2,
        char_length=3,
        crf=True,
    )
    batch = tokenization.model_inputs([["The", "cat", "sat"], ["a", "Dog"]], char_length=3)
    expected = taggers.string_tagger(core, words, chars, lowercase=True)(batch)
    found = backend.TaggerModel(taggers.id_tagger(core), words, chars, lowercase=True).predict_on_batch(batch)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(expected), found)
