"""What the backend-kernel tests share: a padded batch and one layer built twice with the same weights.

`tests/test_torch_kernels.py` and `tests/test_jax_kernels.py` compare a layer
that their route may take (``use_cudnn="auto"``, as the factories build it)
with its twin on Keras's generic loop (``use_cudnn=False``).
"""

import keras
import numpy as np

LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def batch(padding: str, seed: int = 0):
    """Four rows of 7 steps and 5 features, and the mask for ``padding`` (none, right, left or holes)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 7, 5)).astype("float32")
    lengths = np.array([7, 3, 5, 1])
    steps = np.arange(7)[None, :]
    masks = {
        "none": None,
        "right": steps < lengths[:, None],
        "left": steps >= (7 - lengths)[:, None],
        "holes": (steps + np.arange(4)[:, None]) % 3 != 0,
    }
    return x, masks[padding]


def twin_layers(cell: str, **options):
    """``(routable, plain)``: the same 6-unit layer and weights, the second kept on Keras's own loop."""
    routable = LAYERS[cell](6, **options)
    plain = LAYERS[cell](6, use_cudnn=False, **options)
    routable.build((None, 7, 5))
    plain.build((None, 7, 5))
    rng = np.random.default_rng(1)
    # Non-zero biases, so a misplaced bias (input side against recurrent side) shows.
    weights = [rng.normal(scale=0.4, size=w.shape).astype("float32") for w in routable.get_weights()]
    routable.set_weights(weights)
    plain.set_weights(weights)
    return routable, plain


def as_list(out):
    """A layer's output, or its output and states, as a list of NumPy arrays."""
    return [keras.ops.convert_to_numpy(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def initial_states(cell: str, seed: int = 3):
    """Non-zero initial states for a 6-unit layer over the batch of `batch`: ``[h, c]`` or ``[h]``."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 6)).astype("float32") for _ in range(2 if cell == "lstm" else 1)]
