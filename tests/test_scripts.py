"""The example and the tools run end to end (with small settings) and print their results."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_script(path, *flags, returncode=0, stream="stdout"):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, str(ROOT / path), *flags], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == returncode, result.stderr[-3000:]
    return getattr(result, stream)


def test_mnist_example_trains_reports_test_accuracy_and_logs_for_tensorboard(tmp_path):
    logs = tmp_path / "logs"
    output = run_script(
        "examples/mnist_mlp.py",
        "--train_images=256",
        "--sweeps=10",
        f"--logdir={logs}",
        "--histograms",
        "--nojit_compile",
    )
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", output).group(1))
    assert accuracy > 0.2  # one batch of 10 sweeps: well above the 10% of chance
    assert f"tensorboard --logdir {logs}" in output
    assert {"feasibility", "train", "validation"} <= set(os.listdir(logs))

    pytest.importorskip("matplotlib")
    picture = tmp_path / "gaps.png"
    output = run_script("tools/plot_feasibility.py", f"--logdir={logs}", f"--out={picture}")
    assert f"wrote {picture}: 10 tags" in output  # 4 batch-wide, 2 for each of 3 Dense layers
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "example", ["mnist_mlp", "mnist_cnn", "shakespeare_rnn", "hard_activations", "distributed_mnist"]
)
def test_every_example_lists_the_flags_it_takes_in_its_help(example):
    output = run_script(f"examples/{example}.py", "--help", returncode=1)  # absl's exit status for --help
    for flag in ("solver", "sweeps", "epochs", "logdir", "update_freq", "histograms", "jit_compile"):
        assert re.search(rf"--(\[no\])?{flag}:", output), flag


def test_relaxation_tool_prints_a_row_per_model():
    output = run_script(
        "tools/relaxation.py", "--models=mlp32", "--seeds=0", "--sweeps=2", "--train_samples=256", "--nojit_compile"
    )
    rows = re.findall(r"^\| (mlp32) \| (\d+\.\d\d)% \| (\d+\.\d\d)% \|$", output, re.MULTILINE)
    assert [row[0] for row in rows] == ["mlp32"]


def test_inner_solves_tool_prints_both_tables():
    output = run_script("tools/inner_solves.py", "--cases=200", "--iterations=2,8")
    assert "Dot product" in output and "Cross-entropy proximal step" in output
    assert output.count("| MNIST-like layer |") == 1


def test_activation_speed_tool_times_each_projection_with_and_without_xla():
    output = run_script("tools/activation_speed.py", "--activations=tanh,leaky_relu", "--shape=4,3", "--repeats=1")
    rows = re.findall(r"^\| (\w+) \| ([\d.]+) \| [\d.]+ \| ([\d.]+) \| [\d.]+ \|$", output, re.MULTILINE)
    assert [row[0] for row in rows] == ["tanh", "leaky_relu"]
    assert all(float(xla) > 0 and float(plain) > 0 for _, xla, plain in rows)
    refused = run_script("tools/activation_speed.py", "--activations=relu", returncode=1, stream="stderr")
    assert "Unknown activations ['relu']" in refused


def test_quality_bar_tool_prints_a_row_per_seed_and_the_verdict():
    output = run_script(
        "tools/mnist_quality_bar.py", "--seeds=0", "--epochs=1", "--sweeps=1", "--train_images=512", "--nojit_compile"
    )
    assert re.search(r"\| 0 \| \d+\.\d\d% \| \d+\.\d \|", output)
    assert re.search(r"target after epoch 1: 92\.5%, mean \d+\.\d\d%: (met|NOT met)", output)


def test_cnn_example_trains_and_reports_test_accuracy():
    output = run_script("examples/mnist_cnn.py", "--train_images=256", "--sweeps=10", "--filters=4", "--nojit_compile")
    assert float(re.search(r"test accuracy: (\d\.\d+)", output).group(1)) > 0.2


TINY_RNN = (
    "--train_windows=256",
    "--test_windows=2048",
    "--sweeps=2",
    "--window=2",
    "--units=8",
    "--embedding_dim=4",
    "--nojit_compile",
)


def test_rnn_example_reports_accuracy_and_predictions_then_adam_beside_it():
    output = run_script("examples/shakespeare_rnn.py", *TINY_RNN, "--adam_epochs=2")
    assert re.search(r"test accuracy: \d\.\d+\nmost frequent character alone: \d\.\d+", output)
    assert output.count("predicted:") == 1
    assert re.search(r"Adam test accuracy after epochs 1-2: \d\.\d{4}, \d\.\d{4}\n", output)


def test_per_step_rnn_example_reports_the_last_and_all_positions():
    output = run_script("examples/shakespeare_rnn.py", *TINY_RNN, "--per_step")
    all_positions = float(re.search(r"all-positions accuracy: (\d\.\d+)", output).group(1))
    assert float(re.search(r"test accuracy: (\d\.\d+)", output).group(1)) == pytest.approx(all_positions, abs=1e-4)
    assert re.search(r"last-position accuracy: \d\.\d+\n", output)
    assert output.count("predicted:") == 1


def test_hard_activations_example_shows_both_trainings():
    output = run_script(
        "examples/hard_activations.py",
        "--train_images=256",
        "--sweeps=5",
        "--epochs=1",
        "--adam_epochs=1",
        "--nojit_compile",
    )
    assert re.search(r"Adam \(gradients\)\s+test accuracy \d\.\d+; first-layer weights changed: 0\.0%", output)
    assert re.search(r"projection\s+test accuracy \d\.\d+; first-layer weights changed: \d+\.\d%", output)
    assert re.search(r"projection minus Adam: [+-]\d+\.\d\d points", output)


def test_mnist1d_tool_prints_both_models_next_to_adam_and_the_published_baselines():
    pytest.importorskip("mnist1d")
    output = run_script("tools/mnist1d_baselines.py", "--epochs=2", "--sweeps=2")
    last_and_best = r"\d+\.\d% \| \d+\.\d% \(epoch [12]\)"
    assert re.search(rf"\| MLP \| {last_and_best} \| {last_and_best} \| 68% \|", output)
    assert re.search(rf"\| CNN \| {last_and_best} \| {last_and_best} \| 94% \|", output)
    assert re.search(r"mlp: Adam's test accuracy per epoch \[\d+\.\d, \d+\.\d\]", output)


def test_mnist1d_tool_trains_with_the_solver_and_penalty_it_is_given():
    pytest.importorskip("mnist1d")
    output = run_script(
        "tools/mnist1d_baselines.py",
        "--models=cnn",
        "--solver=alternating_projections",
        "--epochs=1",
        "--sweeps=2",
        "--l2=1e-3",
        "--nobaseline",
    )
    assert "AlternatingProjections(sweeps=2), batch 256, L2 0.001 on every kernel" in output
    assert re.search(r"\| CNN \| \d+\.\d% \| .* \| not run \| not run \| 94% \|", output)
    assert "| MLP |" not in output


def test_mnist1d_tool_refuses_a_model_it_does_not_have_by_name():
    output = run_script("tools/mnist1d_baselines.py", "--models=cnn,rnn", returncode=1, stream="stderr")
    assert "Unknown models ['rnn']; choose from mlp, cnn." in output


def test_communication_tool_prints_bytes_next_to_compute_for_each_model():
    output = run_script("tools/communication.py", "--batch_size=32", "--sweeps=3", "--nojit_compile")
    rows = re.findall(r"^\| MNIST (?:MLP|CNN).*\| ([\d,]+) \| ([\d,]+) B \| ([\d,]+) B \| ([\d,]+) B \|", output, re.M)
    assert len(rows) == 2
    for parameters, per_sweep, one_sweep, three_sweeps in rows:
        parameters, per_sweep, one_sweep, three_sweeps = (
            int(v.replace(",", "")) for v in (parameters, per_sweep, one_sweep, three_sweeps)
        )
        assert per_sweep == 4 * parameters  # one float32 sum per weight entry
        assert three_sweeps == one_sweep + 2 * per_sweep


def test_distributed_example_trains_on_two_replicas_that_agree():
    output = run_script(
        "examples/distributed_mnist.py", "--strategy=mirrored", "--train_images=512", "--sweeps=3", "--nojit_compile"
    )
    assert "on 2 replica(s) (MirroredStrategy)" in output
    assert "replicas hold identical weights: True" in output
    assert float(re.search(r"test accuracy: (\d\.\d+)", output).group(1)) > 0.1


def test_distributed_trace_tool_prints_a_row_per_sweep_count():
    output = run_script("tools/distributed_trace.py", "--sweeps=1", "--images=512", "--nojit_compile")
    rows = [line.split("|")[1:-1] for line in output.splitlines() if line.startswith("| 1 ")]
    assert len(rows) == 1 and all(float(cell) > 0 for cell in rows[0])


def test_benchmark_tool_prints_a_row_per_solver_beside_adam():
    output = run_script(
        "tools/benchmark.py",
        "--train_samples=600",
        "--sweeps=3",
        "--timing_steps=2",
        "--model=mlp_noskip",
        "--solvers=alternating_projections,admm",
        "--target=0.5",
        "--nobaseline",  # the gradient baseline's row: in the hard model's test below
        "--nojit_compile",
    )
    rows = [line.split("|")[1:-1] for line in output.splitlines() if line.startswith("| ") and "solver" not in line]
    assert [row[0].strip() for row in rows] == ["alternating_projections (factored)", "admm"]
    for row in rows:
        accuracy, samples_per_second, peak = (row[i].strip() for i in (2, 6, 7))
        assert 0.0 <= float(accuracy.rstrip("%")) <= 100.0 and float(samples_per_second.replace(",", "")) > 0
        assert float(peak.split()[0]) > 0.1
    assert re.fullmatch(r"\d+\.\d", rows[1][3].strip())  # ADMM reaches the 50% target: the column says when
    assert float(rows[0][10]) > 0 and rows[1][10].strip() == "-"  # a sweep's cost over a gradient step's


def test_benchmark_tool_restarts_douglas_rachford_every_k_sweeps_that_divide_its_sweeps_with_the_loss_asked():
    flags = ("--train_samples=64", "--batch=32", "--timing_steps=0", "--solvers=douglas_rachford", "--nobaseline")
    flags += ("--nojit_compile",)
    refused = run_script("tools/benchmark.py", *flags, "--sweeps=4", "--restart_every=3", returncode=1, stream="stderr")
    assert "restarts douglas_rachford alone, and must divide --sweeps" in refused
    output = run_script("tools/benchmark.py", *flags, "--sweeps=4", "--restart_every=2", "--loss=cross_entropy")
    assert "restarted every 2 sweeps" in output and "cross_entropy loss" in output
    (row,) = [line.split("|")[1:-1] for line in output.splitlines() if line.startswith("| douglas_rachford")]
    assert 0.0 <= float(row[2].strip().rstrip("%")) <= 100.0
    assert [cell.strip() for cell in row[8:]] == ["-", "-", "-"]  # --timing_steps=0: trained, not timed


def test_benchmark_tool_compares_a_hard_model_with_the_straight_through_estimator():
    output = run_script(
        "tools/benchmark.py",
        "--train_samples=512",
        "--sweeps=3",
        "--timing_steps=2",
        "--model=binarized_mlp",
        "--solvers=alternating_projections",
        "--linear_kernel_scale=0.5",  # the real output kernel's; the binary kernels keep their values
        "--nostraight_through",  # projection's hard layers only: the STE's row is the same either way
        "--nojit_compile",
    )
    assert "linear kernels scaled by 0.5" in output and "projected onto their staircases" in output
    rows = [line.split("|")[1:-1] for line in output.splitlines() if line.startswith("| ") and "solver" not in line]
    assert [row[0].strip().split()[0] for row in rows] == ["alternating_projections", "straight_through"]
    assert all(0.0 <= float(row[2].strip().rstrip("%")) <= 100.0 for row in rows)


def test_explicit_softmax_tool_prints_the_solution_adam_and_the_warm_start():
    output = run_script(
        "tools/explicit_softmax.py",
        "--train_images=1000",
        "--adam_epochs=1",
        "--seeds=0",
        "--sweeps=2",
        "--nojit_compile",
    )
    solution = re.search(r"explicit solution .*\| (\d+\.\d+)% \|", output)
    assert float(solution.group(1)) > 60.0
    assert "| from the explicit solution |" in output and "| from Keras's initialisation |" in output
    assert re.search(r"^\| 0 \| \d+\.\d+% \| \d+\.\d+% \| \d+\.\d+% \|$", output, re.MULTILINE)


def test_zoo_tool_prints_each_model_beside_adam():
    output = run_script(
        "tools/zoo.py",
        "--models=regression_mlp",
        "--solver=ap",
        "--sweeps=5",
        "--train_samples=256",
        "--test_samples=256",
        "--epochs=2",
        "--curve",
        "--nojit_compile",
    )
    row = next(line for line in output.splitlines() if line.startswith("| regression_mlp |"))
    adam, projection, lead = row.split(" | ")[2:5]
    assert float(adam) > 0 and float(projection) > 0
    assert lead.endswith("x Adam's MSE")
    assert abs(float(lead.split("x")[0]) - float(projection) / float(adam)) <= 0.01
    curves = dict(re.findall(r"^\| regression_mlp \| (adam|projection) \| (.+) \|$", output, re.MULTILINE))
    assert [scores.split(", ")[-1] for scores in (curves["adam"], curves["projection"])] == [adam, projection]
    assert all(len(scores.split(", ")) == 2 for scores in curves.values())
    pattern = r"^\| regression_mlp \| (adam|projection), on the training samples \| (.+) \|$"
    training = dict(re.findall(pattern, output, re.MULTILINE))
    assert set(training) == {"adam", "projection"}
    assert all(len(scores.split(", ")) == 2 and min(map(float, scores.split(", "))) > 0 for scores in training.values())
    pattern = r"^\| regression_mlp \| (adam|projection), each kernel's move from its start, relative \| (.+) \|$"
    moves = {method: list(map(float, text.split(", "))) for method, text in re.findall(pattern, output, re.MULTILINE)}
    assert set(moves) == {"adam", "projection"}
    assert all(len(kernels) == 3 and kernels[-1] > 0 for kernels in moves.values())  # the labels reach the output


def test_readout_tool_trains_the_output_layer_alone_beside_adam_and_least_squares():
    output = run_script("tools/readout.py", "--train_samples=256", "--test_samples=256", "--epochs=2", "--sweeps=3")
    assert float(re.search(r"^least-squares readout: ([\d.]+)%$", output, re.MULTILINE).group(1)) > 20.0
    rows = re.findall(
        r"^(adam|projection), epoch (\d): ([\d.]+)%, predicted classes \[(.+)\], kernel move ([\d.]+)",
        output,
        re.MULTILINE,
    )
    assert [(method, epoch) for method, epoch, *_ in rows] == [
        ("adam", "1"),
        ("adam", "2"),
        ("projection", "1"),
        ("projection", "2"),
    ]
    assert all(sum(map(int, counts.split(", "))) == 256 for *_, counts, _ in rows)
    assert float(rows[-1][-1]) > 0  # the labels move the output kernel


def test_extrapolation_tool_trains_the_deep_mlp_and_prints_each_kernels_move():
    output = run_script("tools/extrapolation.py", "--train_samples=256", "--sweeps=3", "--nojit_compile")
    found = re.search(r"test accuracy (\d+\.\d\d)%, (\d+\.\d) s, moves (.+)$", output, re.MULTILINE)
    assert 0.0 <= float(found.group(1)) <= 100.0
    moves = [float(move) for move in found.group(3).split(", ")]
    assert len(moves) == 7 and moves[-1] > 0  # six hidden kernels and the output's, which the labels move


def test_layer_pull_tool_prints_each_kernels_move_beside_the_gradient():
    output = run_script("tools/layer_pull.py", "--hidden=1", "--sweeps=3", "--batch=32")
    rows = re.findall(r"^\| (\d) \| (\S+) \| (\S+) \| (\S+) \|$", output, re.MULTILINE)
    assert [row[0] for row in rows] == ["1", "2"]
    output_move, output_gradient = float(rows[1][1]), float(rows[1][2])
    assert output_move > 0 and output_gradient > 0  # the labels move the output layer at once


def test_latent_flips_tool_shows_a_smaller_latent_kernel_flipping_more_weights():
    output = run_script(
        "tools/latent_flips.py", "--train_samples=256", "--sweeps=2", "--fractions=1,0.001", "--nojit_compile"
    )
    assert "douglas_rachford 2 sweeps" in output
    rows = [line.split("|")[1:-1] for line in output.splitlines() if re.match(r"^\| [\d.]+ \|", line)]
    assert [row[0].strip() for row in rows] == ["1", "0.001"]
    flipped = [sum(float(share) for share in row[3].split("/")) for row in rows]
    assert flipped[1] > flipped[0], flipped  # measured: 0 and 1.8e-4 of the weights


def test_epoch_schedule_tool_trains_each_epoch_with_its_settings_and_damping_zero_keeps_the_weights():
    output = run_script(
        "tools/epoch_schedule.py",
        "--model=sign_mlp",  # real kernels instead of quantized ones: half the binarized MLP's time
        "--train_samples=512",
        "--schedule=10:0.5,10:0.25:0,10:0.5",
        "--nojit_compile",
    )
    rows = re.findall(r"^\| (\d) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)% \|$", output, re.MULTILINE)
    assert [row[:4] for row in rows] == [("1", "10", "0.5", "1"), ("2", "10", "0.25", "0"), ("3", "10", "0.5", "1")]
    accuracies = [float(row[4]) for row in rows]
    assert accuracies[1] == accuracies[0]  # no share of the second epoch's moves: the same network
    assert accuracies[2] != accuracies[1] and accuracies[2] > 15  # measured: 28.85% (chance: 10%)
