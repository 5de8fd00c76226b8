"""Shape transforms: reshape, flatten, transpose, concatenate, slice, zero padding, repetition,
image patches.

A shape transform is not a constraint to satisfy but a re-indexing: every entry of its
output copies one entry of its inputs. Copies of a variable travel through the transform
(`forward`) and back (`adjoint`, the transpose of the selection: split, un-transpose,
zero-pad), so the consensus of a variable read through a transform is still a plain mean.

Transforms map a list of tensors to a list of tensors and act on the trailing dimensions
named by `input_shapes`; any leading (batch) dimensions pass through.

Example:

>>> join = Concatenate([(128,), (784,)])      # a skip connection [h, x]
>>> [hx] = join.forward([h, x])               # shape [batch, 912]
>>> h_sum, x_sum = join.adjoint([copies])     # back to [batch, 128] and [batch, 784]
"""

import math

import numpy as np
import tensorflow as tf


class Transform:
    """A linear map in which every output entry is a copy of exactly one input entry."""

    def __init__(self, input_shapes):
        self.input_shapes = [tuple(int(d) for d in shape) for shape in input_shapes]

    @property
    def output_shapes(self):
        raise NotImplementedError

    def forward(self, inputs):
        raise NotImplementedError

    def adjoint(self, outputs):
        """The transposed map: each input entry receives the sum of its copies."""
        raise NotImplementedError

    def _leading(self, tensor, shape):
        return tf.shape(tensor)[: tensor.shape.rank - len(shape)]

    def __repr__(self):
        return f"{type(self).__name__}({self.input_shapes} -> {self.output_shapes})"


class Identity(Transform):
    """The tensor unchanged (a view that reads a variable as is)."""

    def __init__(self, input_shape):
        super().__init__([input_shape])

    @property
    def output_shapes(self):
        return self.input_shapes

    def forward(self, inputs):
        return list(inputs)

    def adjoint(self, outputs):
        return list(outputs)


class Reshape(Transform):
    """Reshape the trailing `input_shape` dimensions to `target_shape`."""

    def __init__(self, input_shape, target_shape):
        super().__init__([input_shape])
        self.target_shape = tuple(int(d) for d in target_shape)
        if math.prod(self.target_shape) != math.prod(self.input_shapes[0]):
            raise ValueError(f"Cannot reshape {self.input_shapes[0]} to {self.target_shape}.")

    @property
    def output_shapes(self):
        return [self.target_shape]

    def forward(self, inputs):
        (x,) = inputs
        return [tf.reshape(x, tf.concat([self._leading(x, self.input_shapes[0]), self.target_shape], 0))]

    def adjoint(self, outputs):
        (y,) = outputs
        return [tf.reshape(y, tf.concat([self._leading(y, self.target_shape), self.input_shapes[0]], 0))]


class Flatten(Reshape):
    """Flatten the trailing `input_shape` dimensions into one."""

    def __init__(self, input_shape):
        super().__init__(input_shape, (math.prod(input_shape),))


class Transpose(Transform):
    """Permute the trailing dimensions: `perm` indexes `input_shape`."""

    def __init__(self, input_shape, perm):
        super().__init__([input_shape])
        if sorted(perm) != list(range(len(input_shape))):
            raise ValueError(f"{perm} is not a permutation of {len(input_shape)} axes.")
        self.perm = tuple(int(p) for p in perm)

    @property
    def output_shapes(self):
        return [tuple(self.input_shapes[0][p] for p in self.perm)]

    def _permute(self, x, perm):
        lead = x.shape.rank - len(perm)
        return tf.transpose(x, list(range(lead)) + [lead + p for p in perm])

    def forward(self, inputs):
        return [self._permute(inputs[0], self.perm)]

    def adjoint(self, outputs):
        inverse = sorted(range(len(self.perm)), key=self.perm.__getitem__)
        return [self._permute(outputs[0], inverse)]


class Reverse(Transform):
    """The trailing dimensions read backwards along `axis` (an index of `input_shape`): a
    permutation, its own adjoint."""

    def __init__(self, input_shape, axis):
        super().__init__([input_shape])
        self.axis = int(axis) % len(self.input_shapes[0])

    @property
    def output_shapes(self):
        return self.input_shapes

    def forward(self, inputs):
        (x,) = inputs
        return [tf.reverse(x, [x.shape.rank - len(self.input_shapes[0]) + self.axis])]

    def adjoint(self, outputs):
        return self.forward(outputs)


class Concatenate(Transform):
    """Join inputs along one trailing axis (`axis` counts from the end, -1 the last)."""

    def __init__(self, input_shapes, axis=-1):
        super().__init__(input_shapes)
        if axis >= 0:
            raise ValueError("Concatenate takes a negative axis (counted from the end).")
        ranks = {len(shape) for shape in self.input_shapes}
        if len(ranks) != 1 or -axis > min(ranks):
            raise ValueError(f"Cannot concatenate shapes {self.input_shapes} on axis {axis}.")
        at = ranks.pop() + axis
        if len({shape[:at] + shape[at + 1 :] for shape in self.input_shapes}) != 1:
            raise ValueError(f"Cannot concatenate shapes {self.input_shapes} on axis {axis}.")
        self.axis = int(axis)
        self.sizes = [shape[axis] for shape in self.input_shapes]

    @property
    def output_shapes(self):
        shape = list(self.input_shapes[0])
        shape[self.axis] = sum(self.sizes)
        return [tuple(shape)]

    def forward(self, inputs):
        return [tf.concat(inputs, axis=self.axis)]

    def adjoint(self, outputs):
        return tf.split(outputs[0], self.sizes, axis=self.axis)


class Slice(Transform):
    """Take `input[..., begin : begin + size]` over the trailing dimensions.

    The adjoint pads with zeros: the entries it leaves out have no copies (count zero) in
    the consensus.
    """

    def __init__(self, input_shape, begin, size):
        super().__init__([input_shape])
        shape = self.input_shapes[0]
        if not (len(begin) == len(size) == len(shape)) or any(
            b < 0 or s < 1 or b + s > d for b, s, d in zip(begin, size, shape)
        ):
            raise ValueError(f"Slice begin={begin}, size={size} does not fit shape {shape}.")
        self.begin = tuple(int(b) for b in begin)
        self.size = tuple(int(s) for s in size)

    @property
    def output_shapes(self):
        return [self.size]

    def forward(self, inputs):
        (x,) = inputs
        lead = x.shape.rank - len(self.begin)
        return [tf.slice(x, [0] * lead + list(self.begin), [-1] * lead + list(self.size))]

    def adjoint(self, outputs):
        (y,) = outputs
        lead = y.shape.rank - len(self.begin)
        pads = [[b, d - b - s] for b, s, d in zip(self.begin, self.size, self.input_shapes[0])]
        return [tf.pad(y, [[0, 0]] * lead + pads)]


class Pad(Transform):
    """Surround the trailing dimensions with zeros: `paddings` holds `(before, after)` per axis.

    The zeros are constants, not copies: the adjoint drops them (a slice), so they count for
    nothing in the consensus.
    """

    def __init__(self, input_shape, paddings):
        super().__init__([input_shape])
        self.paddings = tuple((int(before), int(after)) for before, after in paddings)
        if len(self.paddings) != len(self.input_shapes[0]) or min(sum(self.paddings, ())) < 0:
            raise ValueError(f"Paddings {paddings} do not fit shape {self.input_shapes[0]}.")

    @property
    def output_shapes(self):
        return [tuple(d + before + after for d, (before, after) in zip(self.input_shapes[0], self.paddings))]

    def forward(self, inputs):
        (x,) = inputs
        return [tf.pad(x, [[0, 0]] * (x.shape.rank - len(self.paddings)) + [list(p) for p in self.paddings])]

    def adjoint(self, outputs):
        (y,) = outputs
        lead = y.shape.rank - len(self.paddings)
        begin = [0] * lead + [before for before, _ in self.paddings]
        return [tf.slice(y, begin, [-1] * lead + list(self.input_shapes[0]))]


class Repeat(Transform):
    """Every entry repeated `repeats` times in a row along trailing `axis` (NumPy's `repeat`):
    nearest-neighbour upsampling, or a vector repeated over a new axis of size one."""

    def __init__(self, input_shape, axis, repeats):
        super().__init__([input_shape])
        self.axis = int(axis) % len(self.input_shapes[0])
        self.repeats = int(repeats)
        if self.repeats < 1:
            raise ValueError(f"repeats must be at least 1, got {repeats}.")

    @property
    def output_shapes(self):
        shape = list(self.input_shapes[0])
        shape[self.axis] *= self.repeats
        return [tuple(shape)]

    def _at(self, tensor):
        return tensor.shape.rank - len(self.input_shapes[0]) + self.axis

    def forward(self, inputs):
        (x,) = inputs
        return [tf.repeat(x, self.repeats, axis=self._at(x))]

    def adjoint(self, outputs):
        (y,) = outputs
        at = self._at(y)
        size = self.input_shapes[0][self.axis]
        split = tf.concat([tf.shape(y)[:at], [size, self.repeats], tf.shape(y)[at + 1 :]], 0)
        return [tf.reduce_sum(tf.reshape(y, split), axis=at + 1)]


class Gather(Transform):
    """Any re-indexing: output entry `i` copies input entry `indices.flat[i]` (a flat index
    into the trailing `input_shape`); `indices` has the output's shape. The adjoint adds
    each output entry back onto the input entry it copies."""

    def __init__(self, input_shape, indices):
        super().__init__([input_shape])
        self.indices = np.asarray(indices, np.int32)
        if self.indices.size and not 0 <= self.indices.min() <= self.indices.max() < math.prod(input_shape):
            raise ValueError(f"Indices outside an input of shape {self.input_shapes[0]}.")

    @classmethod
    def mirrored_padding(cls, input_shape, paddings):
        """Padding that mirrors the edges (NumPy's "symmetric" mode): each padded entry copies
        the entry as far inside the edge as it is outside."""
        positions = np.arange(math.prod(input_shape)).reshape(input_shape)
        return cls(input_shape, np.pad(positions, paddings, mode="symmetric"))

    @property
    def output_shapes(self):
        return [self.indices.shape]

    def forward(self, inputs):
        (x,) = inputs
        lead = self._leading(x, self.input_shapes[0])
        flat = tf.reshape(x, tf.concat([lead, [-1]], 0))
        return [tf.reshape(tf.gather(flat, self.indices.ravel(), axis=-1), tf.concat([lead, self.indices.shape], 0))]

    def adjoint(self, outputs):
        (y,) = outputs
        lead = self._leading(y, self.indices.shape)
        rows = tf.transpose(tf.reshape(y, [-1, self.indices.size]))  # segments run along the first axis
        sums = tf.math.unsorted_segment_sum(rows, self.indices.ravel(), math.prod(self.input_shapes[0]))
        return [tf.reshape(tf.transpose(sums), tf.concat([lead, self.input_shapes[0]], 0))]


class Patches(Transform):
    """The patches a 2-D convolution or pooling window reads from an image `[H, W, C]`.

    Output `[H', W', kh * kw * C]`, ordered like a Keras Conv2D kernel `[kh, kw, C, F]`
    flattened over its first three axes, so `patches @ kernel.reshape(-1, F)` is the
    convolution; with `dilations` the window reads every d-th pixel. `padding` is "valid" or
    "same" (Keras's meaning); padded entries are zeros, not copies: they have no source and
    count for nothing in the consensus.

    Both directions are copies: one strided slice of the image per pixel of the window, and
    their transpose, each slice padded back into place and summed (exact in floating
    point; a convolution with a one-hot kernel would cost `kh * kw * C` times more).
    """

    def __init__(self, input_shape, kernel_size, strides=(1, 1), padding="valid", dilations=(1, 1)):
        super().__init__([input_shape])
        if len(self.input_shapes[0]) != 3:
            raise ValueError(f"Patches reads images [H, W, C]; got shape {self.input_shapes[0]}.")
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.strides = tuple(int(s) for s in strides)
        self.padding = padding
        self.dilations = tuple(int(d) for d in dilations)
        if self.dilations != (1, 1) and self.strides != (1, 1):
            raise ValueError(f"Dilations {self.dilations} need strides (1, 1), got {self.strides}.")
        height, width, _ = self.input_shapes[0]
        extent = self._extent
        if padding == "valid" and (extent[0] > height or extent[1] > width):
            raise ValueError(f"A {self.kernel_size} window does not fit in an image of shape {self.input_shapes[0]}.")

    @property
    def _extent(self):
        """The window's span on the image: a dilated kernel spreads over `(k - 1) * d + 1`."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilations))

    @property
    def output_shapes(self):
        height, width, channels = self.input_shapes[0]
        (kh, kw), (sh, sw), (eh, ew) = self.kernel_size, self.strides, self._extent
        if self.padding == "same":
            spatial = (-(-height // sh), -(-width // sw))
        else:
            spatial = ((height - eh) // sh + 1, (width - ew) // sw + 1)
        return [spatial + (kh * kw * channels,)]

    def _padding(self):
        """`((top, bottom), (left, right))` of zeros around the image: TensorFlow's "SAME" split."""
        if self.padding == "valid":
            return ((0, 0), (0, 0))
        pads = []
        for size, out, stride, extent in zip(
            self.input_shapes[0][:2], self.output_shapes[0][:2], self.strides, self._extent
        ):
            total = max((out - 1) * stride + extent - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)

    def _offsets(self):
        """The window's read pixels, `(row, column)` from its corner, in the kernel's order."""
        (kh, kw), (dh, dw) = self.kernel_size, self.dilations
        return [(i * dh, j * dw) for i in range(kh) for j in range(kw)]

    def _images(self, tensor, shape):
        """The tensor as a batch of images of `shape`, and a function restoring its leading axes."""
        lead = self._leading(tensor, shape)
        images = tf.reshape(tensor, tf.concat([[-1], shape], 0))
        return images, lambda result, result_shape: tf.reshape(result, tf.concat([lead, result_shape], 0))

    def forward(self, inputs):
        images, restore = self._images(inputs[0], self.input_shapes[0])
        (top, bottom), (left, right) = self._padding()
        framed = tf.pad(images, [[0, 0], [top, bottom], [left, right], [0, 0]])
        (height, width, _), (sh, sw) = self.output_shapes[0], self.strides
        reads = [
            framed[:, i : i + (height - 1) * sh + 1 : sh, j : j + (width - 1) * sw + 1 : sw, :]
            for i, j in self._offsets()
        ]
        return [restore(tf.concat(reads, axis=-1), self.output_shapes[0])]  # the kernel's order

    def adjoint(self, outputs):
        patches, restore = self._images(outputs[0], self.output_shapes[0])
        (height, width, _), (sh, sw) = self.output_shapes[0], self.strides
        in_height, in_width, channels = self.input_shapes[0]
        (top, bottom), (left, right) = self._padding()
        frame = (in_height + top + bottom, in_width + left + right)
        reads = tf.split(patches, len(self._offsets()), axis=-1)
        spread = (height - 1) * sh + 1, (width - 1) * sw + 1  # the rows and columns one offset reads
        images = []
        for (i, j), read in zip(self._offsets(), reads):
            # Every sh-th row and sw-th column of the frame, from (i, j): zeros in between.
            strided = tf.pad(read[:, :, None, :, None, :], [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
            strided = tf.reshape(strided, [-1, height * sh, width * sw, channels])[:, : spread[0], : spread[1]]
            padding = [[0, 0], [i, frame[0] - i - spread[0]], [j, frame[1] - j - spread[1]], [0, 0]]
            images.append(tf.pad(strided, padding))
        images = tf.add_n(images)[:, top : top + in_height, left : left + in_width, :]
        return [restore(images, self.input_shapes[0])]


class OneHot(Transform):
    """Integer ids `[...]` to one-hot rows `[..., depth]`: how an Embedding reads its token ids.

    Not a re-indexing of copies: it applies to data (pinned inputs) only, which never take
    part in a consensus. Its adjoint sums the rows back, so copy counts stay defined.
    """

    def __init__(self, input_shape, depth):
        super().__init__([input_shape])
        self.depth = int(depth)

    @property
    def output_shapes(self):
        return [self.input_shapes[0] + (self.depth,)]

    def forward(self, inputs):
        return [tf.one_hot(tf.cast(inputs[0], tf.int32), self.depth, dtype=tf.float32)]

    def adjoint(self, outputs):
        return [tf.reduce_sum(outputs[0], axis=-1)]


class Parallel(Transform):
    """Several transforms side by side, each on its own consecutive inputs (block diagonal)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        super().__init__([shape for t in self.transforms for shape in t.input_shapes])

    @property
    def output_shapes(self):
        return [shape for t in self.transforms for shape in t.output_shapes]

    def _apply(self, tensors, counts, method):
        result, start = [], 0
        for transform, n in zip(self.transforms, counts):
            result += getattr(transform, method)(tensors[start : start + n])
            start += n
        return result

    def forward(self, inputs):
        return self._apply(inputs, [len(t.input_shapes) for t in self.transforms], "forward")

    def adjoint(self, outputs):
        return self._apply(outputs, [len(t.output_shapes) for t in self.transforms], "adjoint")

    def __repr__(self):
        return f"Parallel({self.transforms!r})"


class Chain(Transform):
    """Transforms applied one after the other (`transforms[0]` first)."""

    def __init__(self, transforms):
        transforms = list(transforms)
        if not transforms:
            raise ValueError("Chain needs at least one transform.")
        for first, second in zip(transforms, transforms[1:]):
            if first.output_shapes != second.input_shapes:
                raise ValueError(f"{first} produces {first.output_shapes}, {second} expects {second.input_shapes}.")
        super().__init__(transforms[0].input_shapes)
        self.transforms = transforms

    @property
    def output_shapes(self):
        return self.transforms[-1].output_shapes

    def forward(self, inputs):
        for transform in self.transforms:
            inputs = transform.forward(inputs)
        return inputs

    def adjoint(self, outputs):
        for transform in reversed(self.transforms):
            outputs = transform.adjoint(outputs)
        return outputs

    def __repr__(self):
        return f"Chain({self.transforms!r})"
