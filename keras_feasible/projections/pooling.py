"""The max and min primitives behind max pooling and the Maximum and Minimum layers."""

import functools

import tensorflow as tf

from keras_feasible.projections.base import Primitive

# Up to this many entries a sorting network of elementwise minima and maxima sorts them;
# XLA's sort on CPU costs a max-pooling sweep several times its other work.
_NETWORK_SIZE = 16


@functools.cache
def _merge_exchange(n):
    """The comparators `(i, j)`, i < j, of Batcher's merge exchange sorting `n` entries
    (Knuth, TAOCP 5.2.2, Algorithm M)."""
    pairs = []
    t = max(n - 1, 1).bit_length()
    p = 1 << (t - 1)
    while p > 0:
        q, r, d = 1 << (t - 1), 0, p
        while True:
            pairs += [(i, i + d) for i in range(n - d) if i & p == r]
            if q == p:
                break
            d, q, r = q - p, q >> 1, p
        p >>= 1
    return tuple(pairs)


def sort_descending(a):
    """`a` sorted decreasingly along its last axis: by a sorting network while the axis is
    short, else by `tf.sort`."""
    n = a.shape[-1]
    if n is None or n > _NETWORK_SIZE:
        return tf.sort(a, axis=-1, direction="DESCENDING")
    entries = tf.unstack(a, axis=-1)
    for i, j in _merge_exchange(n):
        entries[i], entries[j] = tf.maximum(entries[i], entries[j]), tf.minimum(entries[i], entries[j])
    return tf.stack(entries, axis=-1)


class Max(Primitive):
    """`y = max_k a[..., k]`.

    For a common value v, the cost of the nearest point with max equal to v is
    `(y - v)^2 + sum_k max(a_k - v, 0)^2` (plus raising the largest entry when v exceeds
    it), a convex function of v. With a sorted decreasingly, its minimiser is the mean of
    y and the top m entries, `v_m = (y + a_(1) + ... + a_(m)) / (m + 1)`, for the first m
    with `a_(m+1) <= v_m`; the candidates failing that test form a prefix, so m is one
    plus their count. The result lowers every entry above v to v, raises the arg-max
    entry to v if it was below, and sets y = v.
    """

    def forward(self, a):
        return tf.reduce_max(a, axis=-1)

    def project(self, a, y):
        ranked = sort_descending(a)
        k = tf.shape(a)[-1]
        tied = tf.range(1, k + 1, dtype=a.dtype)
        candidates = (y[..., None] + tf.cumsum(ranked, axis=-1)) / (tied + 1.0)
        too_low = ranked[..., 1:] > candidates[..., :-1]
        m = tf.reduce_sum(tf.cast(too_low, tf.int32), axis=-1)
        v = tf.gather(candidates, m, batch_dims=len(y.shape))
        argmax = tf.one_hot(tf.argmax(a, axis=-1), k, on_value=True, off_value=False)
        a_new = tf.where(argmax, v[..., None], tf.minimum(a, v[..., None]))
        return a_new, v


class Min(Primitive):
    """`y = min_k a[..., k]`: `Max` of the negated entries (negation is an isometry)."""

    def forward(self, a):
        return tf.reduce_min(a, axis=-1)

    def project(self, a, y):
        a_new, y_new = Max().project(-a, -y)
        return -a_new, -y_new
