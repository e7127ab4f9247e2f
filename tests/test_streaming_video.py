"""Streaming clips frame by frame (`rnn_apps.tasks.video_inference.clip_stream`, ``rnn-apps stream video``).

Untrained models from the factories and the recipe's builders, wrapped as
the recipe saves them (raw frames of any size in): after frame ``t`` the
stream gives what the saved model gives on the clip's first ``t`` frames
(a model of ``t`` frames with the same weights). The factory tests run on
every backend through `tests/test_backends.py`.
"""

import json

import keras
import numpy as np
import pytest
from helpers import check_streaming

from recipes import video as video_recipe
from rnn_apps import errors, paths
from rnn_apps.harness import cli
from rnn_apps.layers import encoders
from rnn_apps.tasks import video_inference, video_models

FRAMES, SIZE = 3, 8
RNG = np.random.default_rng(5)
CLIP = RNG.integers(0, 256, size=(1, FRAMES, 11, 13, 1)).astype("float32")  # resized to SIZE inside


def frames_model(config, frames=FRAMES, num_classes=3):
    core = video_models.frames_classifier(config, num_classes, frames, SIZE, SIZE, 1, frame_filters=(2,), dense_units=6)
    return video_models.raw_frames_model(core)


def check_prefixes(saved, build):
    """Frame ``t`` of the stream equals ``build(t)``, given ``saved``'s weights, on the first ``t`` frames."""
    stream = video_inference.clip_stream(saved)
    streamed = list(video_inference.stream_probabilities(stream, CLIP[0]))
    for t in range(1, FRAMES + 1):
        shorter = build(t)
        shorter.set_weights(saved.get_weights())
        want = keras.ops.convert_to_numpy(shorter.predict_on_batch(CLIP[:, :t]))[0]
        np.testing.assert_allclose(streamed[t - 1], want, rtol=1e-5, atol=1e-6, err_msg=f"frame {t}")
    return streamed


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_a_cnn_rnn_streams_what_the_saved_model_gives_on_each_prefix(cell):
    config = encoders.EncoderConfig(model=cell, units=5)
    streamed = check_prefixes(frames_model(config), lambda t: frames_model(config, frames=t))
    assert not np.allclose(streamed[0], streamed[-1])  # the state is carried


def test_the_recipes_own_model_streams_too():
    cfg = video_recipe.RECIPE.parse(["--units", "4", "--layers", "2", "--filters", "2", "--dense-units", "5"])

    def build(t):
        return video_models.raw_frames_model(video_recipe.build_frames_model("lstm", cfg, (t, SIZE, SIZE, 1), 2))

    check_prefixes(build(FRAMES), build)


def test_a_convlstm_streams_its_state_map():
    config = encoders.EncoderConfig(model="cnn", cnn_kind="convlstm", units=2, filters=(2,))
    check_prefixes(frames_model(config), lambda t: frames_model(config, frames=t))


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_a_joints_model_streams_step_by_step(cell):
    tracks = RNG.normal(3.0, 2.0, size=(2, 7, 4)).astype("float32")
    normalizer = keras.layers.Normalization(axis=-1, name="normalize")
    normalizer.adapt(tracks.reshape(-1, 4))
    model = video_models.sequence_model(encoders.EncoderConfig(model=cell, units=4), 3, 4, normalizer)
    streamed = check_streaming(model, tracks)
    stream = video_inference.clip_stream(model)
    rows = list(video_inference.stream_probabilities(stream, tracks[1]))
    np.testing.assert_allclose(rows[-1], np.asarray(streamed[-1])[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "config, layer",
    [
        (encoders.EncoderConfig(model="gru", units=3, bidirectional=True), "needs the future"),
        (encoders.EncoderConfig(model="cnn", cnn_kind="conv3d", filters=(2,)), "cnn3d_conv_1"),
        (encoders.EncoderConfig(model="cnn", cnn_kind="frame_average"), "frame_average"),
    ],
)
def test_models_that_need_later_frames_are_refused_with_the_reason(config, layer):
    with pytest.raises(errors.InputError, match=layer) as error:
        video_inference.clip_stream(frames_model(config))
    assert "needs frames it has not seen yet" in str(error.value)


def test_the_fcn_over_joints_is_refused():
    fcn = encoders.EncoderConfig(model="cnn", cnn_kind="fcn", filters=(2, 2), kernel_sizes=(3, 3))
    with pytest.raises(errors.InputError, match="Conv1D"):
        video_inference.clip_stream(video_models.sequence_model(fcn, 2, feature_dim=3))


# The command ------------------------------------------------------------------

GIF = str(paths.bundled("video/examples/clockwise.gif"))  # 9 frames, 32x32 grey


def save_untrained(folder, config):
    core = video_models.frames_classifier(config, 2, 9, 32, 32, 1, frame_filters=(2,), dense_units=6)
    path = folder / f"{core.name}.keras"
    video_models.raw_frames_model(core).save(path)
    sidecar = dict(class_names=["anticlockwise", "clockwise"], input="frames", frames=9, stride=1, channels=1, size=32)
    path.with_suffix(".json").write_text(json.dumps(sidecar | {"short_clips": "refuse"}))
    return path


def test_stream_prints_one_line_per_frame_and_ends_on_the_clips_label(tmp_path, capsys):
    path = save_untrained(tmp_path, encoders.EncoderConfig(model="gru", units=4))
    assert cli.main(["stream", "video", "--model", str(path), GIF]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(line[0], line[1]) for line in lines] == [(GIF, str(frame)) for frame in range(1, 10)]
    whole = video_recipe.RECIPE.predict(path, [GIF])[0]
    assert lines[-1][2] == whole["label"]
    assert float(lines[-1][3]) == pytest.approx(whole["probability"], abs=2e-4)


def test_stream_refuses_a_bidirectional_model(tmp_path, capsys):
    path = save_untrained(tmp_path, encoders.EncoderConfig(model="lstm", units=3, bidirectional=True))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stream", "video", "--model", str(path), "--format", "json", GIF])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "needs the future" in captured.err
