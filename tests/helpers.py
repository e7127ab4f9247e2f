"""One helper for every factory test: shape, weights, a fit step, a save/load round trip."""

import keras
import numpy as np


def check_model(model: keras.Model, inputs, targets, expected_shape, tmp_path, loss="binary_crossentropy"):
    """Check a freshly built model end to end.

    - the output has ``expected_shape`` (``None`` entries match anything);
    - it has trainable weights, and one fit step changes them;
    - it saves to ``.keras`` and reloads with the same outputs.
    """
    outputs = keras.ops.convert_to_numpy(model(inputs))
    assert len(outputs.shape) == len(expected_shape), (outputs.shape, expected_shape)
    for got, want in zip(outputs.shape, expected_shape):
        assert want is None or got == want, (outputs.shape, expected_shape)
    assert model.trainable_weights, "model has no trainable weights"

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    before = [w.copy() for w in model.get_weights()]
    model.fit(inputs, targets, epochs=1, batch_size=len(targets), verbose=0)
    after = model.get_weights()
    assert any(not np.array_equal(b, a) for b, a in zip(before, after)), "a fit step changed no weight"

    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(inputs)),
        keras.ops.convert_to_numpy(reloaded(inputs)),
        rtol=1e-5,
        atol=1e-6,
    )
    return reloaded


def wrap(encoder_output_fn, input_shape, name="wrapped", dtype="float32"):
    """A model whose body is one encoder call, for testing tensor factories."""
    inputs = keras.Input(shape=input_shape, dtype=dtype)
    return keras.Model(inputs, encoder_output_fn(inputs), name=name)


def check_streaming(model: keras.Model, sequences, per_step: bool = False, rtol: float = 1e-5, atol: float = 1e-6):
    """Feeding ``sequences`` one step at a time gives what the whole model gives.

    Args:
        model: a Functional recurrent model (`rnn_apps.streaming.step_model` derives its step model).
        sequences: one array (or a list, one per model input) with time on axis 1.
        per_step: the model returns one output per step (a tagger, a CTC
            model): step ``t`` is compared with the whole sequence's output at
            ``t``; otherwise with the model's output on the first ``t + 1`` steps.

    Returns:
        The streamed outputs, one per step.
    """
    from rnn_apps import streaming

    sequences = list(sequences) if isinstance(sequences, (list, tuple)) else [sequences]
    stream = streaming.Stream(model, batch_size=sequences[0].shape[0])
    streamed = stream.run(*sequences)

    def whole(parts):
        return keras.ops.convert_to_numpy(model.predict_on_batch(parts[0] if len(parts) == 1 else parts))

    every_step = whole(sequences) if per_step else None
    for t, output in enumerate(streamed):
        if per_step:
            expected = every_step[:, t : t + 1]
        else:
            expected = whole([sequence[:, : t + 1] for sequence in sequences])
        np.testing.assert_allclose(np.asarray(output), expected, rtol=rtol, atol=atol, err_msg=f"step {t}")
    return streamed
