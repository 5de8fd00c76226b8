"""The interface every projection primitive follows."""


class Primitive:
    """An elementary operation paired with the orthogonal projection onto its graph.

    The graph of `f` is the set `{(x, y) : y = f(x)}`. `project(*inputs, output)` returns
    the point of that set nearest (in Euclidean distance over all arguments together) to
    the given point, as a tuple `(*inputs', output')` with `output' == forward(*inputs')`.

    Primitives act elementwise over any leading batch dimensions, use only TensorFlow ops
    that compile under XLA (`tf.function(jit_compile=True)`), and hold no state.

    Example:

    >>> dot = Dot()
    >>> a, b, z = dot.project(a, b, z)      # now z == dot.forward(a, b)
    """

    def forward(self, *inputs):
        raise NotImplementedError

    def project(self, *inputs_and_output):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"
