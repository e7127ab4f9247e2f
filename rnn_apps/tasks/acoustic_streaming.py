"""Streaming speech: a saved waveform model fed audio chunk by chunk, with the whole clip's features.

A speech model of `rnn_apps.tasks.acoustic` takes a whole waveform. Its
front end (`keras.layers.MelSpectrogram`, then a `Permute` to frames) cuts
the waveform into overlapping windows; everything after it, the recurrent
core, reads one frame at a time. Streaming splits the saved model there:

- `FrameBuffer` keeps the last samples and computes each new frame with the
  saved model's own front-end layers, once its whole window has come in, so
  a frame that straddles two chunks is computed from the same samples as in
  the whole clip;
- the core runs one frame at a time through `rnn_apps.streaming.Stream`,
  which carries the recurrent state from chunk to chunk.

The front end centres its windows: it pads the waveform at both ends with a
reflection of the audio (half an FFT window), so the clip's last frames
depend on where the clip ends. After each chunk the stream therefore also
runs these last frames, computed as if the clip ended there, on a copy of
the state, and then forgets them: what `WaveformStream.push` returns after
``n`` samples is what the whole saved model returns on those ``n`` samples
(the tests check it within float32 rounding), and after the last chunk it is
the whole clip's answer. The front end's other steps (decibels, the floor
that marks padding, the training statistics in `Normalization`) act on each
frame alone, and its decibel clipping (``top_db``) is set too high to ever
act, so no step depends on the rest of the utterance.

Only models whose core reads frames in order can stream: a bidirectional
layer also reads the clip backwards from its end, and a CNN looks at the
frames after the current one; both are refused with an
`rnn_apps.errors.InputError` naming the layer.

Examples:
    >>> from rnn_apps.layers import encoders
    >>> from rnn_apps.tasks import acoustic
    >>> front = acoustic.FrontEnd(8000, num_mel_bins=8)
    >>> model = acoustic.waveform_classifier(encoders.EncoderConfig(model="gru", units=4), 3, front)
    >>> stream = WaveformStream(model)
    >>> wave = np.random.default_rng(0).normal(0, 0.1, 1000).astype("float32")
    >>> first, second = stream.push(wave[:500]), stream.push(wave[500:])
    >>> whole = keras.ops.convert_to_numpy(model(wave[None]))[0]
    >>> bool(np.allclose(second, whole, rtol=1e-5, atol=1e-6))
    True
"""

from __future__ import annotations

import keras
import numpy as np

from rnn_apps import errors, paths, streaming
from rnn_apps.layers import ctc
from rnn_apps.tasks import acoustic, acoustic_inference

CHUNK_SECONDS = 0.1
"""Audio fed to the model at a time by `stream`: ten 10-ms frame steps, one line of output each."""

_ACROSS_FRAMES = (
    acoustic.UtteranceNormalization,  # statistics of the whole clip
    keras.layers.Bidirectional,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
)


def split_front_end(model: keras.Model) -> tuple[keras.layers.MelSpectrogram, keras.layers.Layer, keras.Model]:
    """The saved model's front-end layers and its core, the part from log-mel frames to outputs.

    Args:
        model: a waveform model built with `acoustic.frame_input` (a
            `MelSpectrogram` layer, then its ``{name}_frames`` `Permute`).

    Returns:
        ``(mel, frames, core)``: the `MelSpectrogram` layer, the `Permute`
            that turns its output into ``(batch, frames, mel_bins)``, and a
            Functional model sharing the saved layers from those frames to
            the model's outputs.

    Raises:
        rnn_apps.errors.InputError: a model with no waveform front end, or
            one whose core reads several frames at once (bidirectional
            layers, convolutions, pooling).
    """
    mel = next((layer for layer in model.layers if isinstance(layer, keras.layers.MelSpectrogram)), None)
    names = {layer.name for layer in model.layers}
    if mel is None or f"{mel.name}_frames" not in names:
        raise errors.expected(
            "a speech model that takes raw waveforms (a MelSpectrogram layer, then its '_frames' Permute)",
            f"model {model.name!r} without one",
        )
    frames = model.get_layer(f"{mel.name}_frames")
    core = keras.Model(frames.output, model.outputs, name=f"{model.name}_core")
    for layer in core.layers:
        if isinstance(layer, _ACROSS_FRAMES):
            why = "reads the clip backwards from its end" if isinstance(layer, keras.layers.Bidirectional) else ""
            if isinstance(layer, acoustic.UtteranceNormalization):
                why = "needs the whole clip's statistics (trained with --utterance-norm)"
            raise errors.InputError(
                "Expected a one-direction recurrent speech model (simple_rnn, lstm or gru, trained without "
                f"--bidirectional) to stream chunk by chunk. Received: model {model.name!r}, whose layer "
                f"{layer.name!r} ({type(layer).__name__}) {why or 'reads frames that have not come in yet'}"
            )
    return mel, frames, core


class FrameBuffer:
    """Log-mel frames of a waveform that arrives in chunks, each as the whole clip's front end computes it.

    The front end (STFT centred with a reflection pad of half an FFT window
    at each end) gives a clip of ``n`` samples ``1 + n // frame_step``
    frames; frame ``j`` reads samples ``j * frame_step - half`` to
    ``j * frame_step + half`` (``half = fft_length // 2``). A frame is
    *final* once all its samples have come in; the last frames of the audio
    so far read the reflection of its end, and are *provisional*: they
    change when more audio comes. The buffer keeps only the samples the next
    frames still need, from a frame boundary far enough back that the front
    end's own padding of the buffer never reaches a final frame.

    Args:
        features: the front end: ``(1, samples)`` waveforms to ``(1, frames,
            mel_bins)`` (the saved model's own layers).
        frame_step: samples between frames.
        fft_length: samples in an analysis window, as padded for the FFT.

    Examples:
        >>> from rnn_apps.tasks import acoustic
        >>> front = acoustic.FrontEnd(8000, num_mel_bins=4)
        >>> buffer = FrameBuffer(acoustic.feature_model(front), front.frame_step, front.fft_length)
        >>> final, provisional = buffer.push(np.ones(300, "float32"))
        >>> final.shape, provisional.shape  # frames 0-2 end by sample 300; frame 3 reads the reflected end
        ((3, 4), (1, 4))
        >>> [part.shape for part in buffer.push(np.ones(100, "float32"))]  # 400 samples: 3 is final, 4-5 not
        [(1, 4), (2, 4)]
    """

    def __init__(self, features, frame_step: int, fft_length: int):
        self.features = features
        self.frame_step = int(frame_step)
        self.half = int(fft_length) // 2
        # Frames kept before the next one: they hold the samples its window reaches back to.
        self.context = -(-self.half // self.frame_step) + 1
        self.reset()

    def reset(self) -> None:
        """Forget all audio: the next sample is the first of a new clip."""
        self.samples = np.zeros(0, dtype="float32")
        self.start = 0  # index in the clip of self.samples[0], a multiple of frame_step
        self.received = 0
        self.final = 0  # frames made final so far

    def push(self, samples) -> tuple[np.ndarray, np.ndarray]:
        """Add samples; return the newly final frames and the provisional last frames.

        Returns:
            ``(final, provisional)``, each ``(frames, mel_bins)``: frames
                ``final_before ..`` that became final with these samples, and
                the frames after them up to ``received // frame_step``, as
                the front end gives them for a clip that ends here. Together
                with the earlier final frames, they are the front end's frames
                of all audio so far. Both are empty while the audio so far is
                no longer than ``half`` (the front end cannot pad it yet).
        """
        samples = np.asarray(samples, dtype="float32").reshape(-1)
        self.samples = np.concatenate([self.samples, samples])
        self.received += len(samples)
        if self.received <= self.half:
            return np.zeros((0, 0), "float32"), np.zeros((0, 0), "float32")
        values = keras.ops.convert_to_numpy(self.features(self.samples[None]))[0]
        first = self.start // self.frame_step  # the clip's frame number of values[0]
        last_final = (self.received - self.half) // self.frame_step  # its window ends at or before the last sample
        final = values[self.final - first : last_final + 1 - first]
        provisional = values[last_final + 1 - first :]
        self.final = last_final + 1
        keep_from = max(0, (self.final - self.context) * self.frame_step)
        self.samples = self.samples[keep_from - self.start :]
        self.start = keep_from
        return final, provisional


class WaveformStream:
    """A saved speech model fed audio in chunks: after each, its output on all audio so far.

    Args:
        model: a saved waveform model of `rnn_apps.tasks.acoustic` (or the
            recipe) with a one-direction recurrent core.

    Attributes:
        per_frame: the model gives one output per frame (CTC) rather than
            one per clip.
        frame_buffer: the `FrameBuffer` of the front end.
        stream: the `rnn_apps.streaming.Stream` running the core.

    Raises:
        rnn_apps.errors.InputError: as `split_front_end`.
    """

    def __init__(self, model: keras.Model):
        mel, frames, core = split_front_end(model)
        self.frame_buffer = FrameBuffer(lambda waves: frames(mel(waves)), mel.sequence_stride, mel.fft_length)
        self.stream = streaming.Stream(core)
        self.per_frame = len(model.outputs[0].shape) == 3
        self.sample_rate = mel.sampling_rate
        self.reset()

    def reset(self) -> None:
        """Start a new clip: no audio, zero states."""
        self.frame_buffer.reset()
        self.stream.reset()
        self.outputs: list[np.ndarray] = []  # the core's output for each final frame (clip models: the last)

    def push(self, samples) -> np.ndarray | None:
        """Feed the next samples of the clip; return the model's output on the clip so far.

        Returns:
            What the whole model gives on all samples pushed since `reset`
                (batch axis dropped): ``(frames, classes)`` per-frame outputs
                for a CTC model, the ``(classes,)`` output of a clip model;
                `None` while the audio is too short for the front end.
        """
        final, provisional = self.frame_buffer.push(samples)
        self.outputs += [self._step(frame) for frame in final]
        if not self.per_frame:
            self.outputs = self.outputs[-1:]  # a clip model's answer is its output after the last frame
        if not len(final) and not len(provisional):
            return None
        states = self.stream.states
        tail = [self._step(frame) for frame in provisional]
        self.stream.states = states  # the provisional frames change with the next chunk
        outputs = self.outputs + tail
        return np.stack(outputs) if self.per_frame else outputs[-1]

    def _step(self, frame) -> np.ndarray:
        output = self.stream.step(np.asarray(frame, "float32")[None, None])
        output = np.asarray(keras.ops.convert_to_numpy(output))
        return output[0, 0] if self.per_frame else output[0]


def chunks(samples, size: int):
    """Consecutive pieces of ``size`` samples (the last one shorter).

    Examples:
        >>> [len(piece) for piece in chunks(np.zeros(25), 10)]
        [10, 10, 5]
    """
    errors.check_positive(size, "size")
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def stream(model: keras.Model, info: dict, model_path, inputs, chunk_seconds: float = CHUNK_SECONDS):
    """Stream WAV files through a saved speech model, one output row per chunk of audio.

    The stream is checked (and refused) before any file is read; files are
    read as `acoustic_inference.predict` reads them (resampled to the
    model's rate), one at a time as ``inputs`` yields their paths.

    Args:
        model: the loaded model.
        info: its `acoustic_inference.model_info`.
        model_path: where it was loaded from (for messages).
        inputs: paths of ``.wav`` files, read lazily.
        chunk_seconds: audio fed at a time.

    Returns:
        An iterator of dicts, one per chunk of each file: ``chunk`` (from 0
            in each file), ``seconds`` (the time at the chunk's end), then
            ``label`` and ``probability`` (the top class of the clip so far)
            or, for a CTC model, ``transcript`` (greedy decoding of every
            frame so far); and ``input``.

    Raises:
        rnn_apps.errors.InputError: a model trained on ``.ts`` frames, a
            model that cannot stream (`split_front_end`), an unreadable file.
    """
    if info.get("input") == "frames":
        raise errors.expected(
            "a speech model that takes waveforms (streaming reads .wav files)", f"{model_path}, trained on .ts frames"
        )
    errors.check_model_inputs(model, model_path, ranks=(2,), dtype="float")
    waves = WaveformStream(model)
    size = max(1, int(round(chunk_seconds * waves.sample_rate)))
    return _rows(waves, info, inputs, size)


def _rows(waves: WaveformStream, info: dict, inputs, size: int):
    names = info.get("class_names")
    for value in inputs:
        path = str(paths.input_path(value, "the path of a .wav file"))
        clip = acoustic_inference.read_for_model(path, waves.sample_rate)
        waves.reset()
        end = 0
        for index, piece in enumerate(chunks(clip, size)):
            end += len(piece)
            output = waves.push(piece)
            row = {"chunk": index, "seconds": round(end / waves.sample_rate, 4)}
            if output is None:  # the first samples: no frame yet
                row |= {"transcript": ""} if waves.per_frame else {"label": "", "probability": 0.0}
            elif waves.per_frame:
                symbols = ctc.decode(output[None], [len(output)], "greedy")[0]
                # Digits are words, a sentence's characters are letters: spaced, or joined as they are.
                separator = "" if info.get("task") == "transcripts" else " "
                row["transcript"] = separator.join(names[s] if names else str(s) for s in symbols)
            else:
                label, probability = acoustic_inference.top_label(output, names)
                row |= {"label": label, "probability": probability}
            yield row | {"input": path}
