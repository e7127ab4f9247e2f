"""GPU benchmark of the Keras backends (see README.md)."""
