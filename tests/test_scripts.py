"""The example and the tools run end to end (with small settings) and print their results."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_script(path, *flags):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, str(ROOT / path), *flags], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_mnist_example_trains_and_reports_test_accuracy():
    output = run_script("examples/mnist_mlp.py", "--train_images=256", "--sweeps=10")
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", output).group(1))
    assert accuracy > 0.2  # one batch of 10 sweeps: well above the 10% of chance


def test_inner_solves_tool_prints_both_tables():
    output = run_script("tools/inner_solves.py", "--cases=200", "--iterations=2,8")
    assert "Dot product" in output and "Cross-entropy proximal step" in output
    assert output.count("| MNIST-like layer |") == 1


def test_quality_bar_tool_prints_a_row_per_seed_and_the_verdict():
    output = run_script("tools/mnist_quality_bar.py", "--seeds=0", "--epochs=1", "--sweeps=1")
    assert re.search(r"\| 0 \| \d+\.\d\d% \| \d+\.\d \|", output)
    assert re.search(r"target after epoch 1: 92\.5%, mean \d+\.\d\d%: (met|NOT met)", output)
