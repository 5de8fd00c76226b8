"""A fit killed mid-epoch and started again under keras.callbacks.BackupAndRestore ends
with exactly the weights of a run never interrupted."""

import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

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
