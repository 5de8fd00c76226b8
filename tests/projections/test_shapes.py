"""Shape transforms: they re-index like NumPy, their adjoint is their transpose, bijective
ones invert, and the projection onto their graph is the least-squares nearest point."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible.projections import shapes
from tests.helpers.checks import assert_close

LEAD = (2, 3)  # leading batch dimensions every transform must pass through


def numpy_patches(kernel, strides, padding, dilations=(1, 1)):
    """Image patches by explicit loops over a zero-padded image, as Keras's Conv2D reads them."""

    def extract(x):
        (height, width), (kh, kw), (sh, sw), (dh, dw) = x[0].shape[-3:-1], kernel, strides, dilations
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if padding == "same":
            out_h, out_w = -(-height // sh), -(-width // sw)
            pad_h, pad_w = max((out_h - 1) * sh + eh - height, 0), max((out_w - 1) * sw + ew - width, 0)
        else:
            out_h, out_w, pad_h, pad_w = (height - eh) // sh + 1, (width - ew) // sw + 1, 0, 0
        pads = [(0, 0)] * (x[0].ndim - 3) + [(pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)]
        image = np.pad(x[0], pads)
        rows = [
            [
                image[..., i * sh : i * sh + eh : dh, j * sw : j * sw + ew : dw, :].reshape(image.shape[:-3] + (-1,))
                for j in range(out_w)
            ]
            for i in range(out_h)
        ]
        return [np.stack([np.stack(row, -2) for row in rows], -3)]

    return extract


TRANSFORMS = {
    "identity": (shapes.Identity((4,)), lambda x: [x[0]]),
    "reshape": (shapes.Reshape((2, 6), (3, 4)), lambda x: [x[0].reshape(LEAD + (3, 4))]),
    "flatten": (shapes.Flatten((2, 3, 2)), lambda x: [x[0].reshape(LEAD + (12,))]),
    "transpose": (shapes.Transpose((2, 3, 4), (2, 0, 1)), lambda x: [np.moveaxis(x[0], -1, -3)]),
    "concatenate_last": (shapes.Concatenate([(2,), (3,)]), lambda x: [np.concatenate(x, -1)]),
    "concatenate_inner": (shapes.Concatenate([(1, 3), (2, 3)], axis=-2), lambda x: [np.concatenate(x, -2)]),
    "slice": (shapes.Slice((5, 4), (1, 0), (3, 2)), lambda x: [x[0][..., 1:4, 0:2]]),
    "pad": (
        shapes.Pad((3, 2, 2), ((1, 2), (0, 3), (0, 0))),
        lambda x: [np.pad(x[0], [(0, 0)] * len(LEAD) + [(1, 2), (0, 3), (0, 0)])],
    ),
    "mirrored_padding": (
        shapes.Gather.mirrored_padding((3, 4, 2), ((2, 1), (0, 2), (0, 0))),
        lambda x: [np.pad(x[0], [(0, 0)] * len(LEAD) + [(2, 1), (0, 2), (0, 0)], mode="symmetric")],
    ),
    "repeat_inner": (shapes.Repeat((3, 2, 2), 1, 3), lambda x: [np.repeat(x[0], 3, axis=-2)]),
    "repeat_new_axis": (
        shapes.Chain([shapes.Reshape((4,), (1, 4)), shapes.Repeat((1, 4), 0, 5)]),
        lambda x: [np.repeat(x[0][..., None, :], 5, axis=-2)],
    ),
    "chain": (
        shapes.Chain([shapes.Slice((4, 3), (0, 1), (4, 2)), shapes.Flatten((4, 2))]),
        lambda x: [x[0][..., :, 1:3].reshape(LEAD + (8,))],
    ),
    "parallel_then_concatenate": (
        shapes.Chain(
            [
                shapes.Parallel([shapes.Transpose((2, 3), (1, 0)), shapes.Identity((3, 1))]),
                shapes.Concatenate([(3, 2), (3, 1)]),
            ]
        ),
        lambda x: [np.concatenate([np.swapaxes(x[0], -1, -2), x[1]], -1)],
    ),
    "patches_valid": (shapes.Patches((5, 4, 2), (3, 2)), numpy_patches((3, 2), (1, 1), "valid")),
    "patches_valid_strided": (shapes.Patches((7, 6, 1), (3, 3), (2, 3)), numpy_patches((3, 3), (2, 3), "valid")),
    "patches_same": (shapes.Patches((4, 5, 2), (3, 2), padding="same"), numpy_patches((3, 2), (1, 1), "same")),
    "patches_valid_dilated": (
        shapes.Patches((7, 6, 2), (3, 2), dilations=(2, 3)),
        numpy_patches((3, 2), (1, 1), "valid", (2, 3)),
    ),
    "patches_same_dilated": (
        shapes.Patches((5, 6, 1), (2, 3), padding="same", dilations=(3, 2)),
        numpy_patches((2, 3), (1, 1), "same", (3, 2)),
    ),
    "patches_same_strided": (
        shapes.Patches((5, 5, 1), (2, 3), (2, 2), "same"),
        numpy_patches((2, 3), (2, 2), "same"),
    ),
}


def _inputs(transform, rng, lead=LEAD):
    return [rng.normal(size=lead + shape) for shape in transform.input_shapes]


def _outputs(transform, rng, lead=LEAD):
    return [rng.normal(size=lead + shape) for shape in transform.output_shapes]


@pytest.mark.parametrize("name", TRANSFORMS)
def test_forward_reindexes_like_numpy(name, rng):
    transform, reference = TRANSFORMS[name]
    x = _inputs(transform, rng)
    result = transform.forward([tf.constant(v) for v in x])
    for got, want, shape in zip(result, reference(x), transform.output_shapes):
        assert got.shape == LEAD + shape
        assert_close(got, want, 0)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_adjoint_is_the_transpose(name, rng):
    transform, _ = TRANSFORMS[name]
    x, y = _inputs(transform, rng), _outputs(transform, rng)
    forward = transform.forward([tf.constant(v) for v in x])
    adjoint = transform.adjoint([tf.constant(v) for v in y])
    lhs = sum(np.sum(np.asarray(f) * v) for f, v in zip(forward, y))
    rhs = sum(np.sum(v * np.asarray(a)) for v, a in zip(x, adjoint))
    assert lhs == pytest.approx(rhs, rel=1e-10)


def test_one_hot_encodes_ids_and_counts_them_back():
    one_hot = shapes.OneHot((3,), 4)
    ids = tf.constant([[0, 3, 1], [2, 2, 0]])
    [rows] = one_hot.forward([ids])
    np.testing.assert_array_equal(rows, np.eye(4)[ids.numpy()])
    np.testing.assert_array_equal(one_hot.adjoint([rows])[0], np.ones((2, 3)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: shapes.Reshape((2, 3), (4,)),
        lambda: shapes.Transpose((2, 3), (0, 0)),
        lambda: shapes.Concatenate([(2, 3), (2, 4)], axis=-2),
        lambda: shapes.Concatenate([(2,), (3,)], axis=0),
        lambda: shapes.Slice((4,), (3,), (2,)),
        lambda: shapes.Chain([shapes.Flatten((2, 3)), shapes.Reshape((5,), (5,))]),
        lambda: shapes.Patches((4, 4), (2, 2)),
        lambda: shapes.Patches((4, 4, 1), (5, 2)),
        lambda: shapes.Patches((4, 4, 1), (2, 2), padding="causal"),
        lambda: shapes.Patches((5, 5, 1), (2, 2), (2, 2), dilations=(2, 2)),
        lambda: shapes.Patches((4, 4, 1), (3, 3), dilations=(2, 1)),
        lambda: shapes.Pad((2, 3), ((1, 1),)),
        lambda: shapes.Pad((2,), ((1, -1),)),
        lambda: shapes.Repeat((2,), 0, 0),
        lambda: shapes.Gather((2, 2), [[0, 4]]),
    ],
)
def test_malformed_transforms_are_rejected(make):
    with pytest.raises(ValueError):
        make()
