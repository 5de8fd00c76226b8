"""Data-parallel comparisons: mirrored replicas against each other and against one device."""

import numpy as np
import tensorflow as tf


def mirrored(replicas):
    # Collective all-reduces (the default on CPU) of strategies of different sizes in one
    # process collide on their group keys, so these tests reduce to one device.
    devices = [f"/cpu:{i}" for i in range(replicas)]
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def assert_replicas_identical(strategy, variables):
    """Each of `variables` holds the same value on every replica of `strategy`."""
    for variable in variables:
        copies = [np.asarray(v) for v in strategy.experimental_local_results(variable.value)]
        assert len(copies) == strategy.num_replicas_in_sync
        for copy in copies[1:]:
            np.testing.assert_array_equal(copy, copies[0])


def assert_mirrored_fits_as_one_device(build, x, y, batch_size=256, rtol=1e-4, atol=1e-6):
    """`build()` (a compiled wrapped model) fitted on `(x, y)` on one device and under two
    mirrored replicas: every variable, the optimizer's included, is the same on both
    replicas and as on one device."""
    alone = build()
    alone.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    strategy = mirrored(2)
    with strategy.scope():
        spread = build()
    spread.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    assert_replicas_identical(strategy, spread.weights + spread.optimizer.variables)
    for a, b in zip(alone.weights + alone.optimizer.variables, spread.weights + spread.optimizer.variables):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=atol)
