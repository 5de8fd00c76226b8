"""A fit killed mid-epoch and started again under keras.callbacks.BackupAndRestore ends
with exactly the weights of a run never interrupted."""

import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers.workers import local_workers

ROOT = pathlib.Path(__file__).parents[2]


def job(optimizer, tmp_path, name, *kill_at):
    """Runs tests/keras/resume_job.py with the backup folder `name`; returns the process."""
    arguments = [optimizer, str(tmp_path / name), str(tmp_path / f"{name}.npz"), *kill_at]
    return subprocess.run(
        [sys.executable, "-m", "tests.keras.resume_job", *arguments],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def workers_job(tmp_path, name, *kill_at):
    """The same job as two worker processes of one cluster; returns worker 0's process
    (worker 1 is stopped when worker 0 dies: it would wait for it for ever)."""
    arguments = ["douglas_rachford", str(tmp_path / name), str(tmp_path / f"{name}.npz"), *kill_at]
    command = [sys.executable, "-m", "tests.keras.resume_job", *arguments]
    first, second = local_workers.run_workers(
        command, 2, 600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=ROOT
    )
    assert second.returncode in (0, -signal.SIGKILL), second.stderr[-2000:]
    return first


# Douglas-Rachford keeps no state but the weights and the step count; Alopex keeps its
# last moves and temperature as optimizer variables, which must come back too.
@pytest.mark.parametrize("optimizer", ["douglas_rachford", "alopex"])
def test_a_fit_killed_mid_epoch_resumes_to_the_weights_of_an_uninterrupted_run(optimizer, tmp_path):
    killed = job(optimizer, tmp_path, "backup", "1", "4")  # after the fifth of 8 batches of the second epoch
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "backup.npz").exists() and (tmp_path / "backup").is_dir()
    resumed = job(optimizer, tmp_path, "backup")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = job(optimizer, tmp_path, "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    resumed, straight = np.load(tmp_path / "backup.npz"), np.load(tmp_path / "straight.npz")
    assert list(resumed["epochs"]) == [1, 2] and list(straight["epochs"]) == [0, 1, 2]  # from the epoch killed
    assert int(resumed["iterations"]) == int(straight["iterations"]) == 24
    weights = [key for key in straight.files if key.startswith("arr_")]
    assert weights
    for key in weights:
        np.testing.assert_array_equal(resumed[key], straight[key])


def test_two_workers_killed_mid_epoch_resume_to_the_weights_of_an_uninterrupted_run(tmp_path):
    killed = workers_job(tmp_path, "backup", "1", "4")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = workers_job(tmp_path, "backup")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = workers_job(tmp_path, "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    runs = [np.load(tmp_path / f"{name}_{index}.npz") for name in ("backup", "straight") for index in range(2)]
    assert [list(run["epochs"]) for run in runs] == [[1, 2], [1, 2], [0, 1, 2], [0, 1, 2]]
    weights = [key for key in runs[0].files if key.startswith("arr_")]
    assert weights
    for key in weights:
        for run in runs[1:]:
            np.testing.assert_array_equal(run[key], runs[0][key])
