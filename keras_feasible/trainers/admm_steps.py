"""The closed-form sub-problem solutions of ADMM training (Taylor et al., 2016).

Rows are samples. For a layer, `a` is its input activations, `m = a W + b` the affine
map, `z` its pre-activation and `h` its activation; `beta` weighs the affine
constraints `z = m` and `gamma` the activation constraints `a_next = h(z)`. Each
function returns the exact minimiser of its sub-problem (tests/trainers check the
optimality conditions).
"""

import tensorflow as tf


def least_squares(gram, cross, ridge):
    """`argmin_W |Z - A W|^2 + r |W|^2` from the Gram sums `gram = A^T A` and
    `cross = A^T Z`, with `r = ridge * mean(diag(gram))` (the ridge makes it unique
    when `A` has fewer rows than columns or constant columns, as MNIST's border pixels)."""
    scale = ridge * (tf.reduce_mean(tf.linalg.diag_part(gram)) + 1e-6)
    system = gram + scale * tf.eye(tf.shape(gram)[0], dtype=gram.dtype)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(system), cross)


def activation(kernel, bias, z_next, target, beta, gamma):
    """`argmin_a beta |z_next - a W - b|^2 + gamma |a - target|^2` per row, where `W, b`
    are the next layer's kernel and bias and `target = h(z)` this layer's activation:
    `a = (beta (z_next - b) W^T + gamma target) (beta W W^T + gamma I)^-1`."""
    system = beta * tf.matmul(kernel, kernel, transpose_b=True)
    system += gamma * tf.eye(tf.shape(kernel)[0], dtype=kernel.dtype)
    right = beta * tf.matmul(z_next - bias, kernel, transpose_b=True) + gamma * target
    return tf.transpose(tf.linalg.cholesky_solve(tf.linalg.cholesky(system), tf.transpose(right)))


def relu_preactivation(a, m, beta, gamma):
    """`argmin_z gamma (a - relu(z))^2 + beta (z - m)^2` per entry: the better of the
    minimiser on `z >= 0`, `max((gamma a + beta m) / (gamma + beta), 0)`, and on `z <= 0`,
    `min(m, 0)`."""
    positive = tf.maximum((gamma * a + beta * m) / (gamma + beta), 0.0)
    negative = tf.minimum(m, 0.0)

    def cost(z):
        return gamma * tf.square(a - tf.nn.relu(z)) + beta * tf.square(z - m)

    return tf.where(cost(positive) <= cost(negative), positive, negative)


def linear_preactivation(a, m, beta, gamma):
    """`argmin_z gamma (a - z)^2 + beta (z - m)^2`: the weighted mean."""
    return (gamma * a + beta * m) / (gamma + beta)


PREACTIVATIONS = {"relu": relu_preactivation, "linear": linear_preactivation}


def hinge_output(m, true_class, multiplier, beta, on=1.0, off=0.0):
    """`argmin_z loss(z) + multiplier z + beta (z - m)^2` per entry for the one-vs-all hinge:
    `loss = max(on - z, 0)` where `true_class`, else `max(z - off, 0)`. On each side of
    the hinge's kink the minimiser is a shifted `m` clipped to that side; the better of
    the two is kept."""

    def better(first, second, loss):
        def cost(z):
            return loss(z) + multiplier * z + beta * tf.square(z - m)

        return tf.where(cost(first) <= cost(second), first, second)

    true = better(
        tf.maximum(m - multiplier / (2 * beta), on),
        tf.minimum(m + (1.0 - multiplier) / (2 * beta), on),
        lambda z: tf.nn.relu(on - z),
    )
    other = better(
        tf.minimum(m - multiplier / (2 * beta), off),
        tf.maximum(m - (1.0 + multiplier) / (2 * beta), off),
        lambda z: tf.nn.relu(z - off),
    )
    return tf.where(true_class, true, other)


def squared_output(m, target, multiplier, beta):
    """`argmin_z (z - target)^2 + multiplier z + beta (z - m)^2` per entry."""
    return (2.0 * target - multiplier + 2.0 * beta * m) / (2.0 + 2.0 * beta)
