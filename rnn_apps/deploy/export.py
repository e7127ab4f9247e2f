"""``rnn-apps export``: a saved recipe model as a SavedModel, ONNX or LiteRT file, with checked parity.

    rnn-apps export sentiment --model runs/sentiment/models/lstm.keras --format onnx --output exported/lstm-onnx
    rnn-apps export speech --model runs/speech/models/gru.keras --format litert --output kws --streaming

What is exported:

- ``saved_model``: the saved model as it is, preprocessing included: a text
  model takes raw strings (its `TextVectorization` / `StringLookup` layers
  are TensorFlow ops a SavedModel holds), a speech model raw waveforms, a
  video model raw frames, a stocks model raw prices. Written with Keras's
  own ``model.export(format="tf_saved_model")``.
- ``onnx`` and ``litert``: neither format has the string operations of the
  text models' vectorizers, so for ``sentiment``, ``text_analysis`` and
  ``translation`` the token-id model inside is exported, and its
  vocabularies and settings (sequence length, standardization,
  lower-casing) are written beside it in ``preprocessing.json``: the caller
  turns text into ids first, as `rnn_apps.backend.WordVectorizer` does. The
  other recipes keep their front ends (log-mel, resizing, scaling) inside.
  ONNX is written by Keras's ``model.export(format="onnx")`` (tf2onnx), with
  the batch (and any variable length) left dynamic. LiteRT is written by
  Keras's ``model.export(format="litert")`` with a batch of one and the
  sequence length fixed to the examples' (a recurrent layer over a dynamic
  shape needs TensorFlow's tensor-list ops); the converter is first asked
  for LiteRT's built-in operations only, and only when that fails does the
  file fall back to ``SELECT_TF_OPS`` (Keras's default), which the command
  says, since such a file needs the Flex delegate at run time.
- ``--streaming``: the one-step model of `rnn_apps.streaming.step_model`
  instead: inputs are one step and the recurrent states, outputs the
  step's output and the new states (an on-device keyword spotter, say).
  A speech model's step reads one log-mel frame (the front end stays with
  the caller; its settings go into ``preprocessing.json``), a stocks
  model's step one standardized return.

Parity: the file is loaded back with its own runtime (`rnn_apps.deploy.parity`)
and run on the recipe's bundled examples (`Recipe.examples`, made into model
inputs as the recipe's ``predict`` does); the command prints the format, the
files, their size and the largest absolute difference from the Keras model,
and fails with exit status 2 when that is above 1e-4 (all exports are
float32).

The output folder: ``--output`` must not exist, be empty, or hold only a
previous export of the same recipe and format (its ``export.json`` lists
every file in it). The export is written to a temporary folder beside it
and moved into place only once parity has passed, so a failed export leaves
the folder as it was, and nothing else already there is ever replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io as std_io
import json
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import warnings

from rnn_apps import errors

FORMATS = ("saved_model", "onnx", "litert")
FILE_NAMES = {"saved_model": "saved_model", "onnx": "model.onnx", "litert": "model.tflite"}
MANIFEST = "export.json"
PREPROCESSING = "preprocessing.json"
MAX_STREAM_STEPS = 48  # steps whose (input, state) pairs the step model's parity is checked on


@dataclasses.dataclass
class Target:
    """A Keras model to export and the test inputs its parity is checked on.

    Attributes:
        model: a Functional model with a list of inputs and a list of outputs.
        inputs: one array per model input, batch first.
        output_names: a name per output, for the manifest.
        settings: what a caller does before the model (vocabularies,
            sequence length), written to ``preprocessing.json``; `None` when
            the model holds its preprocessing.
        preprocessing: one sentence on where the preprocessing lives.
    """

    model: object
    inputs: list
    output_names: list
    settings: dict | None = None
    preprocessing: str = "inside the exported model"

    @property
    def input_names(self) -> list[str]:
        return [tensor.name for tensor in self.model.inputs]


@dataclasses.dataclass
class Parts:
    """What a recipe's saved model offers each format.

    Attributes:
        full: the raw-input model and its examples as model inputs.
        ids: the token-id model for formats without string operations
            (`None` when ``full`` has none).
        streaming: builds the one-step `Target` (only called for ``--streaming``).
        card: the ``.json`` saved beside the model (class names, task), copied into ``export.json``.
        fallback: makes a `Target` with less inside, for when ``full`` does
            not convert (the speech model from log-mel frames).
    """

    full: Target
    ids: Target | None
    streaming: object
    card: dict
    fallback: object = None


def flat(model, inputs, settings=None, preprocessing=None) -> Target:
    """``model`` rebuilt with a list of inputs and a list of outputs, as every runtime numbers them."""
    import keras
    import numpy as np

    if isinstance(model.output, dict):
        names = list(model.output)
        outputs = [model.output[name] for name in names]
    else:
        outputs = list(model.outputs)
        names = [tensor.name for tensor in outputs] if len(outputs) > 1 else ["output"]
    rebuilt = keras.Model(list(model.inputs), outputs, name=model.name)
    feed = [inputs[tensor.name] for tensor in model.inputs] if isinstance(inputs, dict) else list(inputs)
    # Every runtime takes the dtype the model declares (Keras casts, say, uint8 frames; exported files do not).
    feed = [
        value if "string" in str(tensor.dtype) else np.asarray(value).astype(str(tensor.dtype))
        for tensor, value in zip(model.inputs, feed)
    ]
    return Target(rebuilt, feed, names, settings, preprocessing or "inside the exported model")


def keras_outputs(target: Target) -> list:
    """The Keras model's outputs on the target's inputs, as a list of arrays."""
    import keras
    import numpy as np

    feed = target.inputs[0] if len(target.inputs) == 1 else target.inputs
    outputs = target.model.predict_on_batch(feed)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(value)) for value in outputs]


# --------------------------------------------------------------------------
# Each recipe's saved model, its examples as model inputs, and its parts


def _card(model_path) -> dict:
    sidecar = pathlib.Path(model_path).with_suffix(".json")
    return errors.read_json(sidecar) if sidecar.is_file() else {}


def _step_target(core, sequences, settings=None, preprocessing=None) -> Target:
    """The one-step model of ``core`` and (step, state) inputs met while streaming ``sequences`` with Keras.

    Each example is streamed on its own from zero states; the step inputs
    and the states before every step (at most `MAX_STREAM_STEPS` in all) are
    the parity inputs, so the exported step is checked on states it will meet.
    """
    import numpy as np

    from rnn_apps import streaming

    stream = streaming.Stream(core)
    rows: list[list] = []
    for example in range(len(sequences[0])):
        stream.reset()
        for t in range(sequences[0].shape[1]):
            steps = [sequence[example : example + 1, t : t + 1] for sequence in sequences]
            rows.append([*steps, *stream.states])
            stream.step(*steps)
    keep = np.linspace(0, len(rows) - 1, min(len(rows), MAX_STREAM_STEPS)).round().astype(int)
    feed = [np.concatenate([rows[i][k] for i in keep]) for k in range(len(rows[0]))]
    step = stream.step_model
    # The new states are named after the state inputs they feed at the next step.
    states = [tensor.name for tensor in step.inputs[len(step.inputs) - stream.num_states :]]
    names = ["output"] * (len(step.outputs) - stream.num_states) + states
    target = flat(step, feed, settings, preprocessing)
    target.output_names = names
    return target


def _used_length(ids):
    """Ids cut after the last step any example uses (streaming reads no padding)."""
    import numpy as np

    used = np.nonzero(np.any(ids != 0, axis=0))[0]
    return ids[:, : int(used[-1]) + 1 if len(used) else 1]


def _sentiment(path) -> Parts:
    import numpy as np

    from recipes import sentiment
    from rnn_apps import backend

    model, _ = sentiment.load_classifier(path)
    core, words = sentiment.text_parts(model)
    texts = sentiment.RECIPE.examples()
    ids = words(texts)
    settings = {"inputs": {"token_ids": "word ids of the text"}, "vectorizer": words.to_config()}
    outside = "outside: text -> word ids (WordVectorizer; vocabulary and sequence length in preprocessing.json)"
    full = flat(model, [np.asarray(texts, dtype=object)]) if not isinstance(model, backend.TextModel) else None
    id_target = flat(core, [ids], settings, outside)
    return Parts(
        full or id_target,
        id_target if full else None,
        lambda: _step_target(core, [_used_length(ids)], settings, outside),
        _card(path),
    )


TAGGER_TOKENS = 64
"""Tokens a tagger's examples are padded to: what a LiteRT tagger reads (pad with ``""``, id 0)."""


def _text_analysis(path) -> Parts:
    import numpy as np

    from recipes import text_analysis
    from rnn_apps import backend
    from rnn_apps.data import tokenization
    from rnn_apps.harness import recipe as recipe_module
    from rnn_apps.tasks import tagger_inference

    settings = tagger_inference.read_settings(path)
    model = recipe_module.load_saved_model(path, backend.load_tagger)
    tagger_inference.check_tagger(model, settings, path)
    _, token_lists = tagger_inference.tokenized_sentences(text_analysis.RECIPE.examples())
    inputs = tokenization.model_inputs(token_lists, settings.get("char_length"))
    # Padded to a fixed number of tokens, the length a LiteRT file reads (its shapes are static).
    inputs = {
        name: np.pad(
            value,
            [(0, 0), (0, max(0, TAGGER_TOKENS - value.shape[1]))] + [(0, 0)] * (value.ndim - 2),
            constant_values="",
        )
        for name, value in inputs.items()
    }
    core = tagger_inference.id_core(model)
    ids = tagger_inference.lookup_ids(model, inputs)
    if isinstance(model, backend.TaggerModel):
        words = [w for w, _ in sorted(model.words.items(), key=lambda pair: pair[1]) if w]
        chars = [c for c, _ in sorted(model.chars.items(), key=lambda pair: pair[1]) if c]
        lowercase, full = model.lowercase, None
    else:
        lookup = model.get_layer("word_lookup")
        words = [w for w in lookup.get_vocabulary() if w not in ("", "[UNK]")]
        lowercase = not isinstance(lookup, __import__("keras").layers.StringLookup)
        chars = (
            [c for c in model.get_layer("char_lookup").get_vocabulary() if c not in ("", "[UNK]")]
            if "characters" in inputs
            else []
        )
        full = flat(model, inputs)
    vocabulary = {
        "words": words,
        "chars": chars or None,
        "lowercase": lowercase,
        "ids": "'' (padding) is 0, an unknown item 1, vocabulary item i is i + 2",
        "char_length": settings.get("char_length"),
        "tokenizer": settings.get("tokenizer"),
    }
    outside = "outside: tokens -> word (and character) ids (vocabularies in preprocessing.json)"
    id_target = flat(core, ids, vocabulary, outside)
    steps = _used_length(ids["token_ids"]).shape[1]
    sequences = [ids[tensor.name][:, :steps] for tensor in core.inputs]
    return Parts(
        full or id_target,
        id_target if full else None,
        lambda: _step_target(core, sequences, vocabulary, outside),
        _card(path),
    )


def _translation(path) -> Parts:
    import numpy as np

    from recipes import translation
    from rnn_apps import backend
    from rnn_apps.harness import recipe as recipe_module
    from rnn_apps.tasks import seq2seq, seq2seq_decoding

    model = seq2seq.as_translator(recipe_module.load_saved_model(path), path)
    texts = translation.RECIPE.examples()
    prefixes = [seq2seq.START] * len(texts)
    if isinstance(model, seq2seq.IdTranslator):
        id_model, source, target, full = model.model, model.source, model.target, None
    else:
        source_length, longest = seq2seq.model_limits(model)
        source = backend.WordVectorizer.from_layer(model.get_layer("source_vectorizer"), source_length)
        target = backend.WordVectorizer.from_layer(model.get_layer("target_vectorizer"), longest + 1)
        id_model = seq2seq.id_inference_model(seq2seq_decoding.find_core(model), longest + 1, name=model.name)
        full = flat(model, {"source": np.asarray(texts, dtype=object), "prefix": np.asarray(prefixes, dtype=object)})
    settings = {
        "inputs": {"source_ids": "word ids of the source sentence", "prefix_ids": "target word ids decoded so far"},
        "source": source.to_config(),
        "target": target.to_config(),
        "decoding": "start from [start]; append the word of highest log_probs until [end] (see rnn_apps.tasks.seq2seq)",
    }
    outside = "outside: sentences -> ids and the decoding loop (vocabularies in preprocessing.json)"
    id_target = flat(id_model, {"source_ids": source(texts), "prefix_ids": target(prefixes)}, settings, outside)

    def streaming():
        from rnn_apps import streaming as streaming_module

        streaming_module.step_model(seq2seq_decoding.find_core(id_model))  # refuses the attention over the source
        raise errors.expected("a translation model that streams", id_model.name)

    return Parts(full or id_target, id_target if full else None, streaming, _card(path))


def _speech(path) -> Parts:
    import keras
    import numpy as np

    from recipes import speech
    from rnn_apps.data import audio
    from rnn_apps.harness import recipe as recipe_module
    from rnn_apps.tasks import acoustic_inference, acoustic_streaming

    model = recipe_module.load_saved_model(path)
    info = acoustic_inference.model_info(model, path)
    if info["input"] != "waveform":
        raise errors.expected("a speech model that takes waveforms (the bundled keyword sample)", path)
    errors.check_model_inputs(model, path, ranks=(2,), dtype="float")
    clips = [acoustic_inference.read_for_model(clip, info["sample_rate"]) for clip in speech.RECIPE.examples()]
    longest = max(info.get("clip_samples") or 0, max(len(clip) for clip in clips))
    waves = audio.pad_clips(clips, longest)

    def streaming():
        mel, frames, core = acoustic_streaming.split_front_end(model)
        sequences = [np.asarray(keras.ops.convert_to_numpy(frames(mel(waves))), "float32")]
        outside = "outside: waveform -> log-mel frames (front-end settings in preprocessing.json)"
        return _step_target(core, sequences, front_end(), outside)

    def from_frames():
        mel = next(layer for layer in model.layers if isinstance(layer, keras.layers.MelSpectrogram))
        frames = model.get_layer(f"{mel.name}_frames")
        inner = keras.Model(frames.output, model.outputs, name=f"{model.name}_core")
        log_mel = keras.Input(shape=tuple(frames.output.shape[1:]), name="frames")
        core = keras.Model(log_mel, inner(log_mel), name=f"{model.name}_from_frames")
        features = np.asarray(keras.ops.convert_to_numpy(frames(mel(waves))), "float32")
        return flat(
            core, [features], front_end(), "outside: waveform -> log-mel frames (settings in preprocessing.json)"
        )

    def front_end():
        return {
            "inputs": {"frames": "log-mel frames, as the model's MelSpectrogram and '_frames' layers make them"},
            "front_end": info.get("front_end"),
            "sample_rate": info["sample_rate"],
            "clip_samples": info.get("clip_samples"),
        }

    return Parts(flat(model, [waves]), None, streaming, _card(path), fallback=from_frames)


def _video(path) -> Parts:
    import numpy as np

    from recipes import video as video_recipe
    from rnn_apps.data import uea, video
    from rnn_apps.harness import recipe as recipe_module

    settings = video.read_sidecar(path)
    model = recipe_module.load_saved_model(path)
    batch, _ = video.read_inputs(video_recipe.RECIPE.examples(), settings)
    batch = uea.pad_series(batch) if settings["input"] == "joints" else np.stack(batch)
    errors.check_model_inputs(model, path, ranks=(batch.ndim,))
    return Parts(flat(model, [batch]), None, lambda: _step_target(model, [batch]), _card(path))


def _stocks(path) -> Parts:
    import keras
    import numpy as np

    from recipes import stocks
    from rnn_apps.harness import recipe as recipe_module
    from rnn_apps.tasks import forecasting

    model = recipe_module.load_saved_model(path)
    if len(model.inputs) > 1:
        raise errors.expected("a stocks model that reads prices only (not a --volume model)", str(path))
    errors.check_model_inputs(model, path, ranks=(3,), dtype="float")
    window, channels = model.input_shape[1], model.input_shape[2]
    windows = [forecasting.parse_window(item, window, channels) for item in stocks.RECIPE.examples()]
    batch = np.stack(windows).astype("float32")

    def streaming():
        cores = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        scale = model.get_layer("scale_inputs")
        scaled = keras.Model(model.inputs, scale.output)
        sequences = [np.asarray(keras.ops.convert_to_numpy(scaled.predict_on_batch(batch)), "float32")]
        config = scale.get_config()
        settings = {
            "inputs": {"step_input_0": "one standardized step: (log-return or price - mean) / sqrt(variance)"},
            "mean": config.get("mean"),
            "variance": config.get("variance"),
            "outputs": "standardized like the targets (the saved model's unscale_targets layer undoes it)",
        }
        return _step_target(cores[0], sequences, settings, "outside: prices -> standardized returns, and back")

    return Parts(flat(model, [batch]), None, streaming, _card(path))


RECIPES = {
    "sentiment": _sentiment,
    "text_analysis": _text_analysis,
    "translation": _translation,
    "speech": _speech,
    "video": _video,
    "stocks": _stocks,
}
"""Per recipe: saved model path -> `Parts`."""


def parts(recipe: str, model_path) -> Parts:
    """Load a saved model of ``recipe`` and its bundled examples as model inputs."""
    errors.check_choice(recipe, tuple(RECIPES), "recipe")
    model_path = pathlib.Path(model_path)
    if not model_path.is_file():
        raise errors.expected("an existing .keras model file", str(model_path), name="--model")
    return RECIPES[recipe](model_path)


def target(recipe_parts: Parts, format: str, streaming: bool = False) -> Target:
    """What ``format`` gets: the raw-input model where it holds the preprocessing, else the id model."""
    if streaming:
        return recipe_parts.streaming()
    if format == "saved_model" or recipe_parts.ids is None:
        return recipe_parts.full
    return recipe_parts.ids


# --------------------------------------------------------------------------
# Converters


@contextlib.contextmanager
def _quiet():
    """Keep converters' progress lines (tf2onnx's logging, Keras's prints) off the command's output."""
    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(std_io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # NumPy 2's notices about tf2onnx's use of np.object
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _specs(target: Target, fixed: bool):
    """Named `tf.TensorSpec`s of the inputs: dynamic batch (and lengths), or the examples' shapes with batch 1."""
    import tensorflow as tf

    specs = []
    for tensor, value in zip(target.model.inputs, target.inputs):
        shape = (1, *value.shape[1:]) if fixed else tuple(tensor.shape)
        dtype = tf.string if "string" in str(tensor.dtype) else tf.as_dtype(str(tensor.dtype))
        specs.append(tf.TensorSpec(shape, dtype, name=tensor.name))
    return specs if len(specs) == 1 else [specs]


def short(error: BaseException, limit: int = 240) -> str:
    """A converter's error on one line: its first line that says what failed, cut to ``limit`` characters.

    Examples:
        >>> short(ValueError("loc(...): note\\nerror: 'tf.TensorListReserve' op requires element_shape to be static"))
        "ValueError: error: 'tf.TensorListReserve' op requires element_shape to be static"
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    needs = next((line for line in lines if line.startswith(("TF Select ops:", "Flex ops:"))), None)
    if needs:
        return f"{type(error).__name__}: not LiteRT built-in operations: {needs.split(':', 1)[1].strip()}"
    said = next((line for line in lines if "error" in line.lower() and not line.startswith("loc(")), None)
    text = f"{type(error).__name__}: {said or (lines[0] if lines else '')}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def convert(target: Target, format: str, path: pathlib.Path) -> list[str]:
    """Write ``target.model`` to ``path`` in ``format`` with Keras's ``model.export``; return notes.

    Raises:
        Exception: whatever the converter raises (see `export_and_check`).
    """
    with _quiet():
        if format == "saved_model":
            target.model.export(
                str(path), format="tf_saved_model", verbose=False, input_signature=_specs(target, False)
            )
        elif format == "onnx":
            target.model.export(str(path), format="onnx", verbose=False, input_signature=_specs(target, False))
        else:
            return _litert(target, path)
    return []


def onnx_from_saved_model(target: Target, path: pathlib.Path) -> list[str]:
    """tf2onnx's own converter (``python -m tf2onnx.convert --saved-model``) on a SavedModel of ``target``.

    It freezes the graph from the SavedModel, which keeps constants that
    Keras's in-process route (``tf2onnx.convert.from_function``) can leave as
    unfed graph inputs (a `Normalization` layer's mean and variance).
    """
    import subprocess

    with tempfile.TemporaryDirectory() as folder:
        saved = pathlib.Path(folder) / "saved_model"
        convert(target, "saved_model", saved)
        command = [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved), "--output", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode != 0 or not path.is_file():
        lines = [line for line in done.stderr.splitlines() if "Error" in line or "error" in line]
        raise RuntimeError(lines[-1] if lines else f"tf2onnx.convert exited with status {done.returncode}")
    return ["converted by tf2onnx from a SavedModel (python -m tf2onnx.convert --saved-model)"]


def _litert(target: Target, path: pathlib.Path) -> list[str]:
    import tensorflow as tf

    specs = _specs(target, True)
    builtins = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}
    try:
        target.model.export(str(path), format="litert", verbose=False, input_signature=specs, target_spec=builtins)
        return ["LiteRT built-in operations only"]
    except Exception as error:  # noqa: BLE001 - the converter's many failure types; retried with TF ops
        first = short(error)
    target.model.export(str(path), format="litert", verbose=False, input_signature=specs)
    return [
        f"built-in operations were not enough ({first}); converted with SELECT_TF_OPS, so the file needs "
        "the Flex delegate (TensorFlow ops) at run time"
    ]


def size_on_disk(path: pathlib.Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = pathlib.Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


@dataclasses.dataclass
class Exported:
    """One export and its check."""

    format: str
    path: pathlib.Path
    target: Target
    runner: object
    max_abs_difference: float
    notes: list


def _attempt(target: Target, format: str, path: pathlib.Path, converter):
    """One conversion and one run of the file; ``(runner, outputs, notes)``, or the error that stopped it."""
    from rnn_apps.deploy import parity

    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    try:
        notes = converter(target, format, path) if converter is convert else converter(target, path)
    except Exception as error:  # noqa: BLE001 - converters raise many types; the message names the failure
        return None, None, [], f"{format} converter: {short(error)}"
    try:
        runner = parity.Runner(format, path, target.input_names)
        return runner, runner(target.inputs), notes, None
    except Exception as error:  # noqa: BLE001 - runtimes raise their own types for a file they cannot run
        said = "".join(f"{note}; " for note in notes if "only" not in note)
        # The file's name, not the temporary folder it was written to.
        return None, None, notes, f"{said}{format} runtime: {short(error, 400).replace(str(path), path.name)}"[:480]


def export_and_check(target: Target, format: str, folder, bound: float = 1e-4, fallback=None) -> Exported:
    """Convert ``target`` into ``folder``, load it with its runtime, compare with Keras; raise above ``bound``.

    Keras's ``model.export`` is tried first. For ONNX, tf2onnx's converter
    on a SavedModel is tried next (`onnx_from_saved_model`). If neither
    gives a file the runtime runs, and the recipe has a ``fallback`` (the
    speech model from log-mel frames, without the front end), that is
    exported the same way, and a note says so.

    Raises:
        rnn_apps.errors.InputError: every converter or runtime fails (the
            first error, shortened, is in the message), or the outputs differ
            by more than ``bound``.
    """
    from rnn_apps.deploy import parity

    path = pathlib.Path(folder) / FILE_NAMES[format]
    converters = [convert, onnx_from_saved_model] if format == "onnx" else [convert]
    failures = []
    for candidate in [target, fallback] if fallback is not None else [target]:
        if candidate is fallback and callable(fallback):
            try:
                candidate = fallback = fallback()
            except Exception as error:  # noqa: BLE001 - a model without the layers the fallback splits at
                failures.append(f"no fallback ({short(error)})")
                break
        for converter in converters:
            runner, received, notes, failure = _attempt(candidate, format, path, converter)
            if failure is None:
                if failures:
                    notes = [f"first try failed ({failures[0]})", *notes]
                if candidate is fallback:
                    notes.append(
                        f"exported without the preprocessing the format cannot hold: {candidate.preprocessing}"
                    )
                difference = parity.max_abs_difference(keras_outputs(candidate), received)
                parity.check(difference, bound)
                return Exported(format, path, candidate, runner, difference, notes)
            failures.append(failure)
    raise errors.expected(
        f"a model {format} can hold and run",
        f"{target.model.name}: {failures[0]}" + (f"; then {failures[-1]}" if len(failures) > 1 else ""),
    )


# --------------------------------------------------------------------------
# The output folder


def check_output(output, recipe: str, format: str, streaming: bool) -> None:
    """Refuse an ``--output`` that holds anything but a previous export of the same kind.

    Raises:
        rnn_apps.errors.InputError: a file in the way, or a folder with
            other content (nothing in it is touched).
    """
    output = pathlib.Path(output)
    if not output.exists():
        from rnn_apps.harness import cli

        cli.check_output_dir(str(output))
        return
    if not output.is_dir():
        raise errors.expected(
            "a folder for the export (new, empty, or a previous export)", str(output), name="--output"
        )
    present = sorted(item.name for item in output.iterdir())
    if not present:
        return
    manifest = _previous(output)
    same = manifest is not None and (
        manifest.get("recipe"),
        manifest.get("format"),
        bool(manifest.get("streaming")),
    ) == (
        recipe,
        format,
        streaming,
    )
    if not same or set(present) - {MANIFEST, *manifest.get("files", [])}:
        raise errors.expected(
            f"an empty --output, or one holding only a previous {recipe} {format} export (nothing else is replaced)",
            f"{output} with {present[:5]}{' ...' if len(present) > 5 else ''}",
        )


def _previous(output: pathlib.Path) -> dict | None:
    try:
        return json.loads((output / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _move_into_place(staging: pathlib.Path, output: pathlib.Path) -> None:
    """Put the checked export at ``output``; a previous export of the same kind there is replaced whole."""
    if output.exists() and any(output.iterdir()):
        old = output.with_name(f".{output.name}.previous")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(output, old)
        os.replace(staging, output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if output.exists():
            output.rmdir()
        output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, output)


def run(recipe: str, model_path, format: str, output, streaming: bool = False) -> dict:
    """Export, check parity, and write the export with its ``export.json``; return that manifest.

    Raises:
        rnn_apps.errors.InputError: bad input, a converter or runtime
            failure, or parity above 1e-4; ``output`` is left as it was.
    """
    from rnn_apps import io

    errors.check_choice(format, FORMATS, "--format")
    errors.check_choice(recipe, tuple(RECIPES), "recipe")
    output = pathlib.Path(output)
    check_output(output, recipe, format, streaming)
    recipe_parts = parts(recipe, model_path)
    chosen = target(recipe_parts, format, streaming)
    output.absolute().parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.absolute().parent))
    try:
        fallback = None if streaming or format == "saved_model" else recipe_parts.fallback
        done = export_and_check(chosen, format, staging, fallback=fallback)
        chosen = done.target
        files = [done.path.name]
        if chosen.settings is not None:
            io.write_json(staging / PREPROCESSING, chosen.settings)
            files.append(PREPROCESSING)
        manifest = {
            "recipe": recipe,
            "format": format,
            "streaming": streaming,
            "source": str(model_path),
            "files": files,
            "size_bytes": size_on_disk(done.path),
            "inputs": [
                # A LiteRT file's shapes are the examples' (static); the others keep the model's (null: any size).
                {
                    "name": tensor.name,
                    "dtype": str(tensor.dtype),
                    "shape": list(value.shape[1:] if format == "litert" else tensor.shape[1:]),
                }
                for tensor, value in zip(chosen.model.inputs, chosen.inputs)
            ],
            "outputs": chosen.output_names,
            "batch": 1 if format == "litert" else None,
            "preprocessing": chosen.preprocessing,
            "max_abs_difference": done.max_abs_difference,
            "bound": 1e-4,
            "examples": len(chosen.inputs[0]),
            "notes": done.notes,
            "card": recipe_parts.card,
        }
        io.write_json(staging / MANIFEST, manifest)
        _move_into_place(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def parser():
    from rnn_apps.harness import config as config_module

    parser = config_module.ArgumentParser(
        prog="rnn-apps export",
        description="Export a saved recipe model (SavedModel, ONNX, LiteRT) and check it against Keras.",
        epilog="--output must be new, empty, or hold only a previous export of the same recipe and format; the "
        "export is moved there only after parity passes (1e-4).",
    )
    parser.add_argument("recipe", choices=tuple(RECIPES))
    parser.add_argument("--model", required=True, help="path of a saved .keras model")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--output", required=True, help="folder for the exported files")
    parser.add_argument("--streaming", action="store_true", help="export the one-step model (step inputs + states)")
    return parser


def main(argv=None) -> int:
    """``rnn-apps export RECIPE --model PATH --format F --output DIR [--streaming]``; returns the exit status."""
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from rnn_apps.harness import runtime

    runtime.configure()  # before Keras imports TensorFlow, so its start-up notices stay quiet
    from rnn_apps import backend

    if backend.name() != "tensorflow":
        raise errors.expected("the TensorFlow backend for rnn-apps export (KERAS_BACKEND=tensorflow)", backend.name())
    manifest = run(args.recipe, args.model, args.format, args.output, args.streaming)
    size = manifest["size_bytes"]
    print(f"format: {manifest['format']}{' (one-step streaming model)' if args.streaming else ''}")
    print(f"files: {', '.join(str(pathlib.Path(args.output) / name) for name in manifest['files'] + [MANIFEST])}")
    print(f"size: {size / 2**20:.2f} MiB ({size:,} bytes)")
    print(f"preprocessing: {manifest['preprocessing']}")
    for note in manifest["notes"]:
        print(f"note: {note}")
    n = manifest["examples"]
    checked = f"{n} steps of the recipe's bundled examples" if args.streaming else f"the recipe's {n} bundled examples"
    print(f"parity: max abs difference {manifest['max_abs_difference']:.2e} on {checked} (bound 1e-4)")
    return 0
