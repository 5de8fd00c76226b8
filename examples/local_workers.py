"""Start N worker processes of a multi-worker job on this machine, as a cluster would.

    python examples/local_workers.py --workers=2 -- examples/distributed_mnist.py --strategy=multi_worker

Picks N free ports on 127.0.0.1, starts the script after `--` once per worker with
`TF_CONFIG` naming the cluster and the worker's index (what a cluster scheduler sets on
each host), waits for all of them, and prints each one's output. If one fails or the
time runs out, the others are stopped: a worker left alone would wait for its peers'
all-reduce for ever.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_integer("workers", 2, "Worker processes to start.")
flags.DEFINE_integer("timeout", 900, "Seconds before every worker is stopped.")
FLAGS = flags.FLAGS


def free_ports(count):
    """`count` distinct ports free on 127.0.0.1 now (held open together so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_workers(command, workers, timeout, env=None, cwd=None):
    """Runs `command` (a list) as `workers` processes of one cluster on 127.0.0.1.

    Returns:
        One `subprocess.CompletedProcess` per worker, in index order (stdout and stderr
        captured as text). A worker still running when another fails or at `timeout`
        seconds is killed, and its return code says so.
    """
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}
    # Files, not pipes: a worker whose pipe filled up would block before finishing.
    outputs = [(tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")) for _ in range(workers)]
    processes = []
    for index, (stdout, stderr) in enumerate(outputs):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        environment = {**(os.environ if env is None else env), "TF_CONFIG": config}
        processes.append(subprocess.Popen(command, env=environment, cwd=cwd, stdout=stdout, stderr=stderr, text=True))
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in processes):
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in processes):
                break
            time.sleep(0.2)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    return [
        subprocess.CompletedProcess(p.args, p.wait(), _read(stdout), _read(stderr))
        for p, (stdout, stderr) in zip(processes, outputs)
    ]


def _read(file):
    with file:
        file.seek(0)
        return file.read()


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("Name the worker script after --, e.g. -- examples/distributed_mnist.py")
    finished = run_workers([sys.executable, *argv[1:]], FLAGS.workers, FLAGS.timeout)
    for index, result in enumerate(finished):
        print(f"--- worker {index} (exit status {result.returncode})\n{result.stdout}")
        if result.returncode:
            print(result.stderr[-3000:])
    sys.exit(max(abs(result.returncode) for result in finished))


if __name__ == "__main__":
    app.run(main)
