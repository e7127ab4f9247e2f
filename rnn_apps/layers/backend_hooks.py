"""Keras's backend LSTM and GRU functions, swapped for a faster route and given back.

Keras's ``LSTM`` and ``GRU`` layers call ``keras.src.backend.lstm`` and
``.gru`` first and fall back to their generic step loop when that call raises
``NotImplementedError``. `rnn_apps.layers.torch_kernels` and
`rnn_apps.layers.jax_kernels` each put their own function in those two places;
a `BackendHooks` holds what both need: the functions they replaced, the
install and uninstall pair, and the probes told about each routed call. The
saved models never see any of it: the layers stay Keras's own.

The TensorFlow backend gets no route: on a CPU it keeps Keras's own loop.
``bench/tf_loops.py`` measures the candidates against it (the step compiled
by XLA, the input projection of all steps before the loop, TensorFlow's
fused ``BlockLSTMV2`` op); ``bench/results/tf_loops.md`` holds the figures
and says which were both equal to Keras's loop and faster.
"""

from __future__ import annotations

import functools
import inspect

KINDS = ("lstm", "gru")


class BackendHooks:
    """Route Keras's ``lstm``/``gru`` backend calls to ``route(kind, *args, **kwargs)`` on one backend."""

    def __init__(self, backend: str, route):
        self.backend = backend
        # One callable per kind, made once: Keras's hook is the same object after each install.
        self._routes = {kind: functools.partial(route, kind) for kind in KINDS}
        self.replaced: dict = {}  # kind -> the Keras function replaced
        self.listeners: list = []  # callables told ``(kind, masked)`` about each routed call

    def installed(self) -> bool:
        """Whether Keras's hooks currently point at the route."""
        return bool(self.replaced)

    def install(self, enabled: bool) -> bool:
        """Put the route in Keras's two hooks; `False` (nothing done) off this backend or when not ``enabled``."""
        import keras

        if self.installed():
            return True
        if keras.backend.backend() != self.backend or not enabled:
            return False
        from keras.src import backend as keras_backend

        for kind in KINDS:
            self.replaced[kind] = getattr(keras_backend, kind)
            setattr(keras_backend, kind, self._routes[kind])
        return True

    def uninstall(self) -> None:
        """Give Keras its own functions back; harmless when not installed."""
        from keras.src import backend as keras_backend

        for kind, original in self.replaced.items():
            setattr(keras_backend, kind, original)
        self.replaced.clear()

    def listen(self, callback) -> None:
        """Call ``callback(kind, masked)`` on each routed call."""
        self.listeners.append(callback)

    def stop_listening(self, callback) -> None:
        """Forget a callback given to `listen`; harmless if it was never given."""
        if callback in self.listeners:
            self.listeners.remove(callback)

    def tell(self, kind: str, masked: bool) -> None:
        """Tell every listener about one routed call."""
        for callback in list(self.listeners):
            callback(kind, masked)

    def arguments(self, kind: str, args, kwargs) -> dict:
        """The replaced Keras function's arguments by name, defaults filled in."""
        bound = _signature(self.replaced[kind]).bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.arguments

    def keras(self, kind: str, *args, **kwargs):
        """Call the Keras function replaced (it may raise ``NotImplementedError``: the generic loop then runs)."""
        return self.replaced[kind](*args, **kwargs)


@functools.cache
def _signature(function) -> inspect.Signature:
    return inspect.signature(function)
