"""The launcher of examples/local_workers.py, which starts the worker processes of a
cluster on 127.0.0.1 (the examples are scripts, not a package), and what a worker reads of
its `TF_CONFIG`."""

import importlib.util
import json
import os
import pathlib

_path = pathlib.Path(__file__).parents[2] / "examples" / "local_workers.py"
_spec = importlib.util.spec_from_file_location("local_workers", _path)
local_workers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local_workers)


def worker_index():
    """This process's index in its cluster, or None outside one (no `TF_CONFIG`)."""
    config = os.environ.get("TF_CONFIG")
    return None if config is None else json.loads(config)["task"]["index"]
