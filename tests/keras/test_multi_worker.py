"""Two worker processes on 127.0.0.1 train one model, as the hosts of a cluster do: each
ends with the same weights, bit for bit, and with those one device computes on the same
global batches."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers.workers import local_workers

ROOT = pathlib.Path(__file__).parents[2]

JOB = [sys.executable, "-m", "tests.keras.multi_worker_job"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def weights_and_logs(path):
    saved = np.load(path)
    weights = [saved[key] for key in saved.files if key.startswith("arr_")]
    return weights, {key: saved[key] for key in saved.files if key.startswith("log:")}, int(saved["replicas"])


@pytest.mark.parametrize("solver", ["douglas_rachford", "alternating_projections"])
def test_two_workers_end_with_the_weights_one_device_computes(solver, tmp_path):
    workers = local_workers.run_workers([*JOB, solver, str(tmp_path)], 2, 300, env=ENV, cwd=ROOT)
    for worker in workers:
        assert worker.returncode == 0, worker.stderr[-3000:]
    alone = subprocess.run(
        [*JOB, solver, str(tmp_path)], env=ENV, cwd=ROOT, timeout=300, capture_output=True, text=True
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    (first, first_logs, replicas), (second, second_logs, _) = (
        weights_and_logs(tmp_path / f"worker_{index}.npz") for index in range(2)
    )
    single, single_logs, _ = weights_and_logs(tmp_path / "alone.npz")

    assert replicas == 2
    assert len(first) == len(second) == len(single) == 6
    for a, b, c in zip(first, second, single):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)
    assert first_logs.keys() == second_logs.keys() == single_logs.keys()
    for key, values in first_logs.items():  # loss, accuracy, every feasibility gap
        np.testing.assert_array_equal(values, second_logs[key], err_msg=key)
        np.testing.assert_allclose(values, single_logs[key], rtol=1e-4, atol=1e-6, err_msg=key)
