"""Recurrent layers unrolled over the time axis: SimpleRNN, LSTM and GRU cells built from the
graph's operations (dot products, sums through activations, products entry by entry), every
step reading the same parameters, named and laid out as Keras names and lays them out."""

from keras_feasible.projections import piecewise_linear, shapes


def simple_rnn(builder, x, units, name, activation="relu", use_bias=True, return_sequences=False, reverse=False):
    """`h[t] = f(x[t] @ kernel + h[t-1] @ recurrent_kernel + bias)` from `h[-1] = 0` over
    per-sample sequences `[T, F]`, `f` the `activation` (None, "relu" or an activation
    primitive); parameters `<name>/kernel`, `<name>/recurrent_kernel`, `<name>/bias`.

    Returns the last state, or every state `[T, units]` (in the order processed, as Keras
    returns them, reversed for `reverse`, Keras's `go_backwards`).
    """
    inputs, features = _steps(builder, x, name, reverse)
    kernel = builder.parameter(f"{name}/kernel", (features, units), "glorot_uniform")
    recurrent = builder.parameter(f"{name}/recurrent_kernel", (units, units), "orthogonal")
    bias = builder.parameter(f"{name}/bias", (units,)) if use_bias else None
    states = []
    for t, x_t in enumerate(inputs):
        h = states[-1] if states else None
        states.append(_gate(builder, x_t, h, kernel, recurrent, [bias], activation, f"{name}/state_{t}"))
    return _output(builder, states, units, return_sequences)


def lstm(
    builder, x, units, name, activation, recurrent_activation, use_bias=True, return_sequences=False, reverse=False
):
    """Keras's LSTM cell, step by step from zero states: gates `i, f, o = r(...)` and the
    candidate `g = a(...)` (`a` the `activation`, `r` the `recurrent_activation`), each a sum
    through its activation of `x[t] @ kernel_gate + h[t-1] @ recurrent_kernel_gate + bias_gate`
    (the gates' columns of Keras's `[.., 4 units]` weights, order i, f, c, o); then
    `c[t] = f * c[t-1] + i * g` and `h[t] = o * a(c[t])`, products entry by entry."""
    inputs, features = _steps(builder, x, name, reverse)
    kernel = builder.parameter(f"{name}/kernel", (features, 4 * units), "glorot_uniform")
    recurrent = builder.parameter(f"{name}/recurrent_kernel", (units, 4 * units), "orthogonal")
    bias = builder.parameter(f"{name}/bias", (4 * units,)) if use_bias else None
    gates = [("input", recurrent_activation), ("forget", recurrent_activation)]
    gates += [("cell", activation), ("output", recurrent_activation)]
    states, cell = [], None
    for t, x_t in enumerate(inputs):
        h, step = (states[-1] if states else None), f"{name}/{t}"
        opened = {}
        for k, (gate, function) in enumerate(gates):
            columns = (_columns(kernel, k, units), _columns(recurrent, k, units), [_part(bias, k, units)])
            opened[gate] = _gate(builder, x_t, h, *columns, function, f"{step}/{gate}")
        written = builder.multiply(opened["input"], opened["cell"], f"{step}/written")
        if cell is not None:
            kept = builder.multiply(opened["forget"], cell, f"{step}/kept")
            written = builder.add([kept, written], f"{step}/cell_state")
        cell = written
        states.append(builder.multiply(opened["output"], _activated(builder, cell, activation, step), f"{step}/state"))
    return _output(builder, states, units, return_sequences)


def gru(
    builder,
    x,
    units,
    name,
    activation,
    recurrent_activation,
    use_bias=True,
    reset_after=True,
    return_sequences=False,
    reverse=False,
):
    """Keras's GRU cell, step by step from a zero state: `z, r = r(...)` and, with
    `reset_after` (Keras's default), the candidate `hh = a(x W_h + b_h + r * (h U_h + b'_h))`,
    else `hh = a(x W_h + (r * h) U_h + b_h)`; then `h[t] = hh + z * (h[t-1] - hh)`, Keras's
    `z h[t-1] + (1 - z) hh`. Weights in Keras's layout (`[.., 3 units]`, order z, r, h; the
    bias `[2, 3 units]`, input and recurrent rows, with `reset_after`)."""
    inputs, features = _steps(builder, x, name, reverse)
    kernel = builder.parameter(f"{name}/kernel", (features, 3 * units), "glorot_uniform")
    recurrent = builder.parameter(f"{name}/recurrent_kernel", (units, 3 * units), "orthogonal")
    bias = builder.parameter(f"{name}/bias", (2, 3 * units) if reset_after else (3 * units,)) if use_bias else None

    def biases(k):
        """The input and recurrent biases of gate k (one of them without `reset_after`)."""
        if bias is None:
            return [None, None]
        if not reset_after:
            return [_part(bias, k, units), None]
        return [_row_part(bias, row, k, units) for row in (0, 1)]

    states = []
    for t, x_t in enumerate(inputs):
        h, step = (states[-1] if states else None), f"{name}/{t}"
        update, reset = (
            _gate(
                builder,
                x_t,
                h,
                _columns(kernel, k, units),
                _columns(recurrent, k, units),
                biases(k),
                function,
                f"{step}/{gate}",
            )
            for k, gate, function in ((0, "update", recurrent_activation), (1, "reset", recurrent_activation))
        )
        input_bias, recurrent_bias = biases(2)
        terms = [builder.dot(x_t, _columns(kernel, 2, units), f"{step}/candidate/input"), input_bias]
        if reset_after:
            read = [builder.dot(h, _columns(recurrent, 2, units), f"{step}/candidate/recurrent")] if h else []
            read += [recurrent_bias] if recurrent_bias is not None else []
            if read:
                recalled = builder.add(read, f"{step}/recalled") if read[0].per_sample else read[0]
                terms.append(builder.multiply(reset, recalled, f"{step}/reset_recalled"))
        elif h is not None:
            terms.append(
                builder.dot(
                    builder.multiply(reset, h, f"{step}/reset_state"),
                    _columns(recurrent, 2, units),
                    f"{step}/candidate/recurrent",
                )
            )
        candidate = builder.add(
            [term for term in terms if term is not None], f"{step}/candidate", activation=activation
        )
        if h is None:  # h[-1] = 0: h = hh - z * hh
            gap = builder.add([candidate], f"{step}/gap", coefficients=(-1.0,))
        else:
            gap = builder.add([h, candidate], f"{step}/gap", coefficients=(1.0, -1.0))
        moved = builder.multiply(update, gap, f"{step}/moved")
        states.append(builder.add([candidate, moved], f"{step}/state"))
    return _output(builder, states, units, return_sequences)


def _steps(builder, x, name, reverse):
    """The per-step inputs `[F]` of per-sample sequences `[T, F]`, in the order processed."""
    if not x.per_sample or len(x.shape) != 2:
        raise ValueError(f"{name}: expected per-sample sequences [T, features], got shape {x.shape}.")
    steps, features = x.shape
    order = reversed(range(steps)) if reverse else range(steps)
    return [builder.reshape(builder.slice(x, (t, 0), (1, features)), (features,)) for t in order], features


def _gate(builder, x_t, h, kernel, recurrent, biases, activation, name):
    """`activation(x_t @ kernel + h @ recurrent + biases)`, a sum through the activation."""
    terms = [builder.dot(x_t, kernel, f"{name}/input")]
    if h is not None:
        terms.append(builder.dot(h, recurrent, f"{name}/recurrent"))
    terms += [bias for bias in biases if bias is not None]
    return builder.add(terms, name, activation=activation)


def _activated(builder, x, activation, name):
    """`activation(x)`, an activation node (none for the identity)."""
    if activation is None:
        return x
    primitive = piecewise_linear.relu_like() if activation == "relu" else activation
    return builder.unary(x, primitive, f"{name}/activated_cell")


def _columns(kernel, k, units):
    """The k-th block of `units` columns of a `[rows, blocks * units]` kernel: a view."""
    rows, _ = kernel.shape
    return kernel.then(shapes.Slice(kernel.shape, (0, k * units), (rows, units)))


def _part(bias, k, units):
    """The k-th block of `units` entries of a bias (None for none)."""
    return None if bias is None else bias.then(shapes.Slice(bias.shape, (k * units,), (units,)))


def _row_part(bias, row, k, units):
    """The k-th block of `units` entries of a `[2, blocks * units]` bias's row."""
    block = bias.then(shapes.Slice(bias.shape, (row, k * units), (1, units)))
    return block.then(shapes.Reshape(block.shape, (units,)))


def _output(builder, states, units, return_sequences):
    """The last state, or every state joined `[T, units]`."""
    if not return_sequences:
        return states[-1]
    return builder.concatenate([builder.reshape(h, (1, units)) for h in states], axis=-2)
