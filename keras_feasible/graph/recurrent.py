"""Recurrent layers over a time axis: SimpleRNN, LSTM and GRU cells built from the graph's
operations (dot products, sums through activations, products entry by entry), each over all
steps at once, every step reading the same parameters, named and laid out as Keras names and
lays them out. Step t reads the states of step t-1 as a view of the states (a recurrence):
the graph's size does not grow with the number of steps."""

from keras_feasible.projections import piecewise_linear, shapes


def simple_rnn(builder, x, units, name, activation="relu", use_bias=True, return_sequences=False, reverse=False):
    """`h[t] = f(x[t] @ kernel + h[t-1] @ recurrent_kernel + bias)` from `h[-1] = 0` over
    per-sample sequences `[T, F]`, `f` the `activation` (None, "relu" or an activation
    primitive); parameters `<name>/kernel`, `<name>/recurrent_kernel`, `<name>/bias`.

    Returns the last state, or every state `[T, units]` (in the order processed, as Keras
    returns them, reversed for `reverse`, Keras's `go_backwards`).
    """
    steps, features = _checked(x, name)
    kernel = builder.parameter(f"{name}/kernel", (features, units), "glorot_uniform")
    recurrent = builder.parameter(f"{name}/recurrent_kernel", (units, units), "orthogonal")
    bias = builder.parameter(f"{name}/bias", (units,)) if use_bias else None
    with builder.recurrence(steps):
        inputs, states = _ordered(builder, x, reverse), builder.later(f"{name}/state", (steps, units))
        _gate(builder, inputs, _previous(builder, states), kernel, recurrent, [bias], activation, f"{name}/state")
    return _output(builder, states, return_sequences)


def lstm(
    builder, x, units, name, activation, recurrent_activation, use_bias=True, return_sequences=False, reverse=False
):
    """Keras's LSTM cell over all steps from zero states: gates `i, f, o = r(...)` and the
    candidate `g = a(...)` (`a` the `activation`, `r` the `recurrent_activation`), each a sum
    through its activation of `x[t] @ kernel_gate + h[t-1] @ recurrent_kernel_gate + bias_gate`
    (the gates' columns of Keras's `[.., 4 units]` weights, order i, f, c, o); then
    `c[t] = f * c[t-1] + i * g` and `h[t] = o * a(c[t])`, products entry by entry."""
    steps, features = _checked(x, name)
    kernel = builder.parameter(f"{name}/kernel", (features, 4 * units), "glorot_uniform")
    recurrent = builder.parameter(f"{name}/recurrent_kernel", (units, 4 * units), "orthogonal")
    bias = builder.parameter(f"{name}/bias", (4 * units,)) if use_bias else None
    gates = [("input", recurrent_activation), ("forget", recurrent_activation)]
    gates += [("cell", activation), ("output", recurrent_activation)]
    with builder.recurrence(steps):
        inputs = _ordered(builder, x, reverse)
        states = builder.later(f"{name}/state", (steps, units))
        cells = builder.later(f"{name}/cell_state", (steps, units))
        previous = _previous(builder, states)
        opened = {}
        for k, (gate, function) in enumerate(gates):
            columns = (_columns(kernel, k, units), _columns(recurrent, k, units), [_part(bias, k, units)])
            opened[gate] = _gate(builder, inputs, previous, *columns, function, f"{name}/{gate}")
        terms = [builder.multiply(opened["input"], opened["cell"], f"{name}/written")]
        if previous is not None:
            kept = builder.multiply(_later_steps(builder, opened["forget"]), _previous(builder, cells), f"{name}/kept")
            terms.append(_from_second_step(builder, kept))
        builder.add(terms, f"{name}/cell_state")
        builder.multiply(opened["output"], _activated(builder, cells, activation, name), f"{name}/state")
    return _output(builder, states, return_sequences)


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
    """Keras's GRU cell over all steps from a zero state: `z, r = r(...)` and, with
    `reset_after` (Keras's default), the candidate `hh = a(x W_h + b_h + r * (h U_h + b'_h))`,
    else `hh = a(x W_h + (r * h) U_h + b_h)`; then `h[t] = hh + z * (h[t-1] - hh)`, Keras's
    `z h[t-1] + (1 - z) hh`. Weights in Keras's layout (`[.., 3 units]`, order z, r, h; the
    bias `[2, 3 units]`, input and recurrent rows, with `reset_after`)."""
    steps, features = _checked(x, name)
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

    with builder.recurrence(steps):
        inputs, states = _ordered(builder, x, reverse), builder.later(f"{name}/state", (steps, units))
        previous = _previous(builder, states)
        update, reset = (
            _gate(
                builder,
                inputs,
                previous,
                _columns(kernel, k, units),
                _columns(recurrent, k, units),
                biases(k),
                function,
                f"{name}/{gate}",
            )
            for k, gate, function in ((0, "update", recurrent_activation), (1, "reset", recurrent_activation))
        )
        input_bias, recurrent_bias = biases(2)
        terms = [builder.dot(inputs, _columns(kernel, 2, units), f"{name}/candidate/input"), input_bias]
        if reset_after:
            read = [recurrent_bias] if recurrent_bias is not None else []
            if previous is not None:
                recalled = builder.dot(previous, _columns(recurrent, 2, units), f"{name}/candidate/recurrent")
                read.insert(0, _from_second_step(builder, recalled))
            if read:
                recalled = builder.add(read, f"{name}/recalled") if read[0].per_sample else read[0]
                terms.append(builder.multiply(reset, recalled, f"{name}/reset_recalled"))
        elif previous is not None:
            reset_state = builder.multiply(_later_steps(builder, reset), previous, f"{name}/reset_state")
            recalled = builder.dot(reset_state, _columns(recurrent, 2, units), f"{name}/candidate/recurrent")
            terms.append(_from_second_step(builder, recalled))
        terms = [term for term in terms if term is not None]
        candidate = builder.add(terms, f"{name}/candidate", activation=activation)
        if previous is None:  # h[-1] = 0: h = hh - z * hh
            gap = builder.add([candidate], f"{name}/gap", coefficients=(-1.0,))
        else:
            before = _from_second_step(builder, previous)
            gap = builder.add([before, candidate], f"{name}/gap", coefficients=(1.0, -1.0))
        moved = builder.multiply(update, gap, f"{name}/moved")
        builder.add([candidate, moved], f"{name}/state")
    return _output(builder, states, return_sequences)


def _checked(x, name):
    """The steps and features of per-sample sequences `[T, F]`."""
    if not x.per_sample or len(x.shape) != 2:
        raise ValueError(f"{name}: expected per-sample sequences [T, features], got shape {x.shape}.")
    return x.shape


def _ordered(builder, x, reverse):
    """The sequences in the order processed: read backwards for `reverse`."""
    return builder.reverse(x, axis=0) if reverse else x


def _previous(builder, sequence):
    """Steps `0 .. T-2` of a `[T, units]` sequence: what steps `1 .. T-1` read as the step
    before (None for a single step)."""
    steps, units = sequence.shape
    return builder.slice(sequence, (0, 0), (steps - 1, units)) if steps > 1 else None


def _later_steps(builder, sequence):
    """Steps `1 .. T-1` of a `[T, units]` sequence: those with a step before them."""
    steps, units = sequence.shape
    return builder.slice(sequence, (1, 0), (steps - 1, units))


def _from_second_step(builder, sequence):
    """A `[T-1, units]` sequence of steps `1 .. T-1` joined to a zero first step: the zero
    state before the first step, a constant (a padded view)."""
    return builder.pad(sequence, ((1, 0), (0, 0)))


def _gate(builder, x, previous, kernel, recurrent, biases, activation, name):
    """`activation(x[t] @ kernel + h[t-1] @ recurrent + biases)` over all steps, `h[-1] = 0`:
    a sum through the activation."""
    terms = [builder.dot(x, kernel, f"{name}/input")]
    if previous is not None:
        terms.append(_from_second_step(builder, builder.dot(previous, recurrent, f"{name}/recurrent")))
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


def _output(builder, states, return_sequences):
    """The last state, or every state `[T, units]`."""
    if return_sequences:
        return states
    steps, units = states.shape
    return builder.reshape(builder.slice(states, (steps - 1, 0), (1, units)), (units,))
