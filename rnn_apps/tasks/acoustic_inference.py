"""Around the models of `rnn_apps.tasks.acoustic`: prepared data, batched outputs, scores, predictions.

`prepare` turns split clips into what every model is built from (the front
end, the fixed length, the training statistics), and `add_digit_strings`
adds many-digit clips with packed CTC targets. `transcribe` decodes and
scores per-frame outputs. A saved speech model takes raw waveforms at its rate (or ``.ts`` frames); its
``.json`` sidecar names the task, the labels, the rate and the front end.
`predict` turns WAV files (or one ``.ts`` file) into one dict per clip: a
label with its probability, or a transcript for a CTC model.

Examples:
    >>> import keras
    >>> from rnn_apps.layers import encoders
    >>> front = acoustic.FrontEnd(8000, num_mel_bins=8)
    >>> model = acoustic.waveform_transcriber(encoders.EncoderConfig(model="gru", units=2), 3, front)
    >>> clips = [np.full(800, 0.1, "float32"), np.full(1600, 0.1, "float32"), np.full(400, 0.1, "float32")]
    >>> predict_batches(model, clips, None, front, batch_size=2).shape
    (3, 21, 4)
"""

from __future__ import annotations

import dataclasses
import pathlib

import keras
import numpy as np

from rnn_apps import errors, paths
from rnn_apps.data import audio, connected_digits, spoken, text_files, uea
from rnn_apps.layers import ctc, heads, recurrent
from rnn_apps.tasks import acoustic


@dataclasses.dataclass
class SpeechData:
    """Split clips and what every model is built from.

    Attributes:
        clips: the split single-word clips (or ``.ts`` series).
        length: the fixed length the CNN trains on: samples, or frames of
            series; for digit strings, the longest training string.
        front_end: the log-mel settings; `None` for ``.ts`` series, which
            are frames already.
        statistics: mean and variance of each feature over the training frames.
        digits: digit strings, ``{part: (waveforms, transcripts, packed CTC
            targets)}``, when `add_digit_strings` made them.
        speakers: for a fold of a cross-validation by speaker, who is in
            each part (`rnn_apps.data.spoken.speaker_fold`) and every fold's
            test speakers.
    """

    clips: audio.AudioClassificationData
    length: int
    front_end: acoustic.FrontEnd | None
    statistics: tuple
    digits: dict | None = None
    speakers: dict | None = None

    @property
    def name(self) -> str:
        """The data source's name, as ``metrics.json`` records it."""
        return self.clips.name

    @property
    def feature_dim(self) -> int | None:
        """Features per frame of ``.ts`` series (`None` for audio)."""
        return None if self.front_end else self.clips.train[0][0].shape[1]

    def describe(self) -> str:
        rate = f"{self.clips.sample_rate} Hz" if self.clips.sample_rate else "frames"
        return f"{self.clips.name}, classes {self.clips.class_names}, clips {self.clips.sizes()}, {rate}"

    def sizes(self) -> dict:
        if self.digits:
            return {part: len(transcripts) for part, (_, transcripts, _) in self.digits.items()}
        return self.clips.sizes()

    def references(self) -> list[str]:
        """The test digit strings as text (``"3 1 4"``)."""
        return [spoken.transcript_text(words, self.clips.class_names) for words in self.digits["test"][1]]

    def sidecar(self, task: str) -> dict:
        """What `predict` needs beside a saved model: task, labels, rate, input kind, front end."""
        return {
            "task": task,
            "class_names": self.clips.class_names,
            "sample_rate": self.clips.sample_rate,
            "clip_samples": int(self.length),
            "input": "frames" if self.front_end is None else "waveform",
            "front_end": None if self.front_end is None else self.front_end.to_dict(),
        }


def prepare(clips: audio.AudioClassificationData, clip_seconds: float | None, mel_bins: int) -> SpeechData:
    """Cut clips to ``clip_seconds`` (`rnn_apps.data.spoken.limit_length`), set the front end, take statistics.

    Raises:
        rnn_apps.errors.InputError: ``clip_seconds`` under one frame, or more
            mel bins than the rate's FFT has.
    """
    length = spoken.limit_length(clips, clip_seconds, acoustic.FrontEnd.frame_seconds)
    front_end = acoustic.FrontEnd(clips.sample_rate, num_mel_bins=mel_bins) if clips.sample_rate else None
    return SpeechData(clips, length, front_end, clip_statistics(clips.train[0], front_end))


def add_digit_strings(
    data: SpeechData, sequences: int, min_digits: int, max_digits: int, seed: int, speakers: dict | None = None
) -> SpeechData:
    """Join each split's digit clips into digit strings with CTC targets.

    Args:
        data: the prepared single-digit clips.
        sequences: training strings (the other parts get theirs in proportion).
        min_digits, max_digits: words per string.
        seed: random seed.
        speakers: who speaks each clip of each part
            (`rnn_apps.data.connected_digits.speakers_of_parts`). Given, every
            string is one speaker's, with pauses and background noise
            (`rnn_apps.data.connected_digits.connected_digit_strings`);
            otherwise strings join clips of any speaker
            (`rnn_apps.data.spoken.digit_strings`).
    """
    if speakers is None:
        made = spoken.digit_strings(data.clips, sequences, min_digits, max_digits, seed)
    else:
        strings = connected_digits.connected_digit_strings(
            data.clips, speakers, sequences, min_digits, max_digits, seed
        )
        made = {part: (item.waveforms, item.transcripts) for part, item in strings.items()}
    data.digits = {}
    for part, (waves, transcripts) in made.items():
        frames = data.front_end.frames([len(w) for w in waves])
        data.digits[part] = (waves, transcripts, ctc.pack_targets(transcripts, frames, max_digits))
    data.length = max(len(w) for w in data.digits["train"][0])
    return data


def transcribe(outputs, data: SpeechData, name: str, beam_width: int = 16) -> tuple[dict, dict]:
    """Decode per-frame outputs on the test digit strings greedily and with beam search; score both.

    Returns:
        ``(scores, hypotheses)``: ``scores`` holds ``wer``, ``cer`` and
            ``sequence_accuracy`` of greedy decoding, and the same keys ending
            in ``_beam`` for beam search; ``hypotheses`` holds the decoded
            texts under ``name`` and ``name + "_beam"``.
    """
    references, frames = data.references(), data.front_end.frames([len(w) for w in data.digits["test"][0]])
    scores, hypotheses = {}, {}
    for strategy, suffix in (("greedy", ""), ("beam_search", "_beam")):
        decoded = ctc.decode(outputs, frames, strategy, beam_width)
        hypotheses[name + suffix] = [spoken.transcript_text(d, data.clips.class_names) for d in decoded]
        scores |= {key + suffix: value for key, value in ctc.error_rates(references, hypotheses[name + suffix]).items()}
    return scores, hypotheses


def ctc_validation_score(data: SpeechData, text_of, batch_size: int = 64):
    """A `rnn_apps.harness.selection.ValidationScore` score for the CTC tasks: error rates on the validation clips.

    After each epoch the model's per-frame outputs on the validation clips
    are decoded greedily, as the test clips will be, and scored by
    `rnn_apps.layers.ctc.error_rates` (``wer``, ``cer``,
    ``sequence_accuracy``). The CTC loss sums over every alignment of the
    reference; the error rates score the one transcript decoding gives.

    Args:
        data: the prepared data; ``data.digits["validation"]`` holds the
            clips and their symbol ids.
        text_of: symbol ids -> text, as the test references and hypotheses
            are written.
        batch_size: clips per prediction call.
    """
    waves, symbols = data.digits["validation"][:2]
    references = [text_of(ids) for ids in symbols]
    frames = data.front_end.frames([len(wave) for wave in waves])

    def score(model) -> dict:
        outputs = predict_batches(model, waves, None, data.front_end, batch_size)
        return ctc.error_rates(references, [text_of(ids) for ids in ctc.decode(outputs, frames, "greedy")])

    return score


def naive_transcription(data: SpeechData) -> tuple[str, dict]:
    """The majority transcript (`rnn_apps.data.spoken.majority_transcript`) and its scores, named as by `transcribe`."""
    naive = spoken.transcript_text(spoken.majority_transcript(data.digits["train"][1]), data.clips.class_names)
    references = data.references()
    scores = ctc.error_rates(references, [naive] * len(references))
    return naive, scores | {f"{key}_beam": value for key, value in scores.items()}


def first_of_each_label(labels, count: int = 4) -> list[int]:
    """Indices of the first item of each of up to ``count`` different labels, in order.

    Examples:
        >>> first_of_each_label([2, 2, 0, 1, 0], count=2)
        [0, 2]
    """
    firsts = {}
    for index, label in enumerate(labels):
        firsts.setdefault(int(label), index)
    return sorted(firsts.values())[:count]


def clip_statistics(clips, front_end: acoustic.FrontEnd | None, batch_size: int = 64):
    """Mean and variance of each feature over the frames of ``clips`` (padding left out).

    Args:
        clips: waveforms, or ``(time, channels)`` frames when ``front_end`` is `None`.
        front_end: the log-mel settings the frames are computed with.
        batch_size: clips per batch through the front end.

    Returns:
        ``(mean, variance)``, one value per feature.
    """
    if front_end is None:
        return acoustic.frame_statistics(clips)
    features = acoustic.feature_model(front_end)
    frames = []
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        values = keras.ops.convert_to_numpy(features(audio.pad_clips(batch)))
        for row, count in zip(values, front_end.frames([len(c) for c in batch])):
            frames.append(row[:count])
    return acoustic.frame_statistics(frames)


def predict_batches(model, clips, length: int | None, front_end, batch_size: int = 64) -> np.ndarray:
    """Outputs of ``model`` for every clip, batch by batch, each padded to ``length`` (or its longest clip).

    ``front_end`` `None` means the clips are ``.ts`` frames. Per-frame
    outputs (CTC) of batches of different lengths are padded alike.
    """
    outputs = [
        model.predict_on_batch(spoken.pad_inputs(clips[i : i + batch_size], length, front_end is not None))
        for i in range(0, len(clips), batch_size)
    ]
    if outputs[0].ndim == 3:  # per-frame outputs: batches differ in frames; pad them alike
        frames = max(o.shape[1] for o in outputs)
        outputs = [np.pad(o, ((0, 0), (0, frames - o.shape[1]), (0, 0))) for o in outputs]
    return np.concatenate(outputs)


def log_mel_images(clips, front_end: acoustic.FrontEnd) -> list[np.ndarray]:
    """The log-mel frames of each clip, ``(frames, mel_bins)``, padding left out (for plots)."""
    features = acoustic.feature_model(front_end)
    images = []
    for clip in clips:
        values = keras.ops.convert_to_numpy(features(clip[None]))[0]
        images.append(values[: front_end.frames([len(clip)])[0]])
    return images


def read_for_model(path, sample_rate: int) -> np.ndarray:
    """Read one WAV file for a model taking ``sample_rate`` Hz; higher rates are resampled, with a notice.

    Raises:
        rnn_apps.errors.InputError: an unreadable file, or a rate below the model's.
    """
    samples, rate = audio.read_wav(path)
    if rate < sample_rate:
        raise errors.expected(
            f"audio recorded at {sample_rate} Hz or more (the model's rate; upsampling cannot add the missing band)",
            f"{rate} Hz in {path}",
        )
    if rate != sample_rate:
        audio.notice(f"{path} is at {rate} Hz; resampled to {sample_rate} Hz")
    return audio.prepare(samples, rate, sample_rate, source=str(path))


def model_info(model, model_path) -> dict:
    """What predicting with ``model`` needs: its ``.json`` sidecar, or what the model itself tells.

    Returns:
        A dict with ``task`` (``keywords``, ``digits`` or ``transcripts``), ``class_names``
            (or `None`), ``sample_rate``, ``clip_samples``, ``input``
            (``waveform`` or ``frames``) and, for a CTC model, ``front_end``.
    """
    sidecar_path = pathlib.Path(model_path).with_suffix(".json")
    if sidecar_path.exists():
        return errors.read_json(sidecar_path, keys=("task", "input", "sample_rate"))
    mel = next((layer for layer in model.layers if isinstance(layer, keras.layers.MelSpectrogram)), None)
    return {
        "task": "digits" if len(model.output.shape) == 3 else "keywords",
        "class_names": None,
        "sample_rate": mel.sampling_rate if mel is not None else None,
        "clip_samples": None,
        "input": "waveform" if mel is not None else "frames",
    }


def predict(model, info: dict, model_path, inputs, encoding: str = text_files.DEFAULT_ENCODING) -> list[dict]:
    """Label (or transcribe) WAV files, or the series of ``.ts`` files, with a saved speech model.

    Args:
        model: the loaded model.
        info: its `model_info`.
        model_path: where it was loaded from (for messages).
        inputs: paths of ``.wav`` files (or of ``.ts`` files, for a model
            trained on series).
        encoding: the codec of ``.ts`` files.

    Returns:
        One dict per clip: ``label`` and ``probability``, or ``transcript``
            (a digits model); and ``input``.
    """
    inputs = [str(paths.input_path(i, "the path of a .wav file (or of a .ts file)")) for i in inputs]
    if not inputs:
        raise errors.expected("at least one .wav file", "none")
    sound = "a clip with sound above the model's silence floor"
    names = info.get("class_names")
    if info["input"] == "frames":
        errors.check_model_inputs(model, model_path, ranks=(3,), dtype="float")
        rows = []
        for path in inputs:
            content = uea.read_ts(path, encoding)
            if model.input_shape[-1] is not None and content.num_channels != model.input_shape[-1]:
                raise errors.expected(
                    f"series with {model.input_shape[-1]} channels (the model's)", f"{content.num_channels} in {path}"
                )
            rows += [(f"{path}#{i}", series) for i, series in enumerate(content.series)]
        sources = [source for source, _ in rows]
        longest = max(len(series) for _, series in rows)
        batch = uea.pad_series([series for _, series in rows], 0.0, max(info.get("clip_samples") or 0, longest))
        recurrent.guard_fused_kernel(model, batch, sources, "a series with a step that is not all zeros (padding)")
        probabilities = model.predict_on_batch(batch)
    else:
        errors.check_model_inputs(model, model_path, ranks=(2,), dtype="float")
        clips = [read_for_model(path, info["sample_rate"]) for path in inputs]
        sources = inputs
        if info["task"] in ("digits", "transcripts"):  # CTC: digit words, or the characters of a sentence
            front_end = acoustic.FrontEnd(**info["front_end"])
            longest = max(front_end.frame_length, max(len(c) for c in clips))
            batch = audio.pad_clips(clips, longest)
            recurrent.guard_fused_kernel(model, batch, sources, sound)
            probabilities = model.predict_on_batch(batch)
            decoded = ctc.decode(probabilities, front_end.frames([len(c) for c in clips]), "beam_search")
            separator = "" if info["task"] == "transcripts" else " "
            return [
                {"transcript": separator.join(names[s] if names else str(s) for s in symbols), "input": source}
                for symbols, source in zip(decoded, sources)
            ]
        length = info.get("clip_samples") or max(len(c) for c in clips)
        batch = audio.pad_clips(clips, max(length, max(len(c) for c in clips)))
        recurrent.guard_fused_kernel(model, batch, sources, sound)
        probabilities = model.predict_on_batch(batch)
    output = []
    for source, row in zip(sources, probabilities):
        label, probability = top_label(row, names)
        output.append({"label": label, "probability": probability, "input": source})
    return output


def top_label(probabilities, class_names=None) -> tuple[str, float]:
    """The most probable class of one clip's output and its probability (rounded to 4 places).

    Args:
        probabilities: the model's output for one clip: ``(classes,)``, or
            ``(1,)`` (the probability of class 1) for two classes.
        class_names: label names; `None` names classes by their index.

    Examples:
        >>> top_label(np.array([0.1, 0.7, 0.2]), ["yes", "no", "up"])
        ('no', 0.7)
        >>> top_label(np.array([0.25]))
        ('0', 0.75)
    """
    row = np.asarray(probabilities, dtype="float64").reshape(-1)
    num_classes = 2 if row.shape[-1] == 1 else row.shape[-1]
    label = int(heads.probabilities_to_labels(row[None], num_classes)[0])
    probability = (row[0] if label == 1 else 1.0 - row[0]) if num_classes == 2 else row[label]
    return (class_names[label] if class_names else str(label)), round(float(probability), 4)
