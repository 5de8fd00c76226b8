"""The launcher of examples/local_workers.py, which starts the worker processes of a
cluster on 127.0.0.1 (the examples are scripts, not a package)."""

import importlib.util
import pathlib

_path = pathlib.Path(__file__).parents[2] / "examples" / "local_workers.py"
_spec = importlib.util.spec_from_file_location("local_workers", _path)
local_workers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local_workers)
