"""What a batch's sweeps hold in memory, checked before training rather than found by a crash."""

import tensorflow as tf


class MemoryEstimate:
    """The bytes one batch's sweeps keep, per layer: the copies the solver iterates (as the
    problem's layout holds them) times the states a sweep keeps alive at once
    (`ProjectionAlgorithm.live_states`). Affine in the batch size: `fixed + per_sample * batch`.

    Example:

    >>> estimate = model.memory_estimate()
    >>> estimate.bytes(256), estimate.largest_batch(8 * 2**30)
    """

    def __init__(self, fixed, per_sample):
        self.fixed = dict(fixed)
        self.per_sample = dict(per_sample)

    def layers(self, batch_size):
        """`{layer: bytes}` for batches of `batch_size`."""
        return {layer: self.fixed[layer] + self.per_sample[layer] * batch_size for layer in self.fixed}

    def bytes(self, batch_size):
        return sum(self.layers(batch_size).values())

    def largest_batch(self, available):
        """The largest batch whose sweeps fit in `available` bytes (0 if none does)."""
        per_sample = sum(self.per_sample.values())
        room = available - sum(self.fixed.values())
        return max(int(room // per_sample), 0) if per_sample else None


def available_bytes():
    """Memory this process may still take: the smaller of the host's available memory and
    what its cgroup (a container's limit) has left; None where the platform says neither."""
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            limits += [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")]
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as maximum, open("/sys/fs/cgroup/memory.current") as current:
            limit = maximum.read().strip()
            if limit != "max":
                limits.append(int(limit) - int(current.read()))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def check(model, batch_size, available=None):
    """Raises `MemoryError` with the largest batch that fits if the updates of a compiled
    `FeasibleModel` on batches of `batch_size` need more than the memory `available`
    (default: free now). Host memory only: the check is skipped when an accelerator trains."""
    available = available_bytes() if available is None else available
    if available is None or batch_size is None or tf.config.list_logical_devices("GPU"):
        return
    estimated, hint = model.memory_estimate(), model.plan.memory_hint
    needed = estimated.bytes(batch_size)
    if needed <= available:
        return
    largest = sorted(estimated.layers(batch_size).items(), key=lambda item: -item[1])[:3]
    layers = ", ".join(f"{layer} {size / 2**30:.2f} GiB" for layer, size in largest)
    raise MemoryError(
        f"Batches of {batch_size} need about {needed / 2**30:.2f} GiB for {model.optimizer!r}'s updates "
        f"({layers}), more than the {available / 2**30:.2f} GiB of memory free. The largest batch "
        f"that fits is about {estimated.largest_batch(available)}: pass a smaller batch_size"
        + (f", {hint}." if hint else ".")
    )
