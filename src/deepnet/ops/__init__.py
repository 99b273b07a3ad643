"""Keras 3 `keras.ops` on torch tensors (skeleton; the ops helpers fill it)."""
