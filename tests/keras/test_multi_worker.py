"""Two worker processes on 127.0.0.1 train one model, as the hosts of a cluster do: each
ends with the same weights, bit for bit, and with those one device computes on the same
global batches."""

import os
import pathlib
import subprocess
import sys

import numpy as np

from tests.helpers.workers import local_workers

ROOT = pathlib.Path(__file__).parents[2]

JOB = [sys.executable, "-m", "tests.keras.multi_worker_job"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def weights_and_logs(path):
    saved = np.load(path)
    weights = [saved[key] for key in saved.files if key.startswith("arr_")]
    return weights, {key: saved[key] for key in saved.files if key.startswith("log:")}, int(saved["replicas"])


def test_two_workers_end_with_the_weights_one_device_computes_for_each_solver(tmp_path):
    # One launch trains both solvers: starting the worker processes costs more than training.
    solvers = ("douglas_rachford", "alternating_projections")
    job = [*JOB, str(tmp_path), *solvers]
    workers = local_workers.run_workers(job, 2, 400, env=ENV, cwd=ROOT)
    for worker in workers:
        assert worker.returncode == 0, worker.stderr[-3000:]
    alone = subprocess.run(job, env=ENV, cwd=ROOT, timeout=400, capture_output=True, text=True)
    assert alone.returncode == 0, alone.stderr[-3000:]

    for solver in solvers:
        (first, first_logs, replicas), (second, second_logs, _) = (
            weights_and_logs(tmp_path / f"{solver}_worker_{index}.npz") for index in range(2)
        )
        single, single_logs, _ = weights_and_logs(tmp_path / f"{solver}_alone.npz")

        assert replicas == 2
        assert len(first) == len(second) == len(single) == 6
        for a, b, c in zip(first, second, single):
            np.testing.assert_array_equal(a, b, err_msg=solver)
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5, err_msg=solver)
        assert first_logs.keys() == second_logs.keys() == single_logs.keys()
        for key, values in first_logs.items():  # loss, accuracy, every feasibility gap
            np.testing.assert_array_equal(values, second_logs[key], err_msg=f"{solver} {key}")
            np.testing.assert_allclose(values, single_logs[key], rtol=1e-4, atol=1e-6, err_msg=f"{solver} {key}")
