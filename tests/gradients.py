"""Gradients of a scalar function of arrays on whichever backend is active."""

import keras
import numpy as np


def gradients(function, *arrays):
    """Returns the gradient of `function(*tensors)` for each array, in numpy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(array) for array in arrays]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = function(*tensors)
        return [np.asarray(g) for g in tape.gradient(value, tensors)]
    if backend == "jax":
        import jax

        grads = jax.grad(function, argnums=tuple(range(len(arrays))))(*arrays)
        return [np.asarray(g) for g in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(array, requires_grad=True) for array in arrays]
        function(*tensors).backward()
        return [t.grad.detach().cpu().numpy() for t in tensors]
    raise NotImplementedError(f"No gradient helper for backend {backend!r}")


def assert_gradients_match(layer, arrays, upstream, expected, rtol=1e-4, atol=1e-5):
    """Gradients of `sum(layer(*arrays) * upstream)` equal `expected`.

    `expected` holds one array per input: the book's backward pass given the
    same upstream gradient.
    """
    grads = gradients(
        lambda *tensors: keras.ops.sum(keras.ops.multiply(layer(*tensors), upstream)), *arrays
    )
    for grad, want in zip(grads, expected):
        np.testing.assert_allclose(grad, want, rtol=rtol, atol=atol)
