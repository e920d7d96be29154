"""The Sparse DNN Graph Challenge's inference from Python (one process, the CPU engine)."""

import ctypes
import json
import os

from . import _library
from ._library import check, lib


def run(network_dir, neurons, layers, inputs, truth=None, bias=None, threads=None):
    """Runs the first `layers` layers of the network in `network_dir` (n{N}-l{k}.tsv[.gz]) on
    the inputs file (sparse-images-{N}.tsv[.gz]). Returns a dict: "categories" (the 1-based
    indices of the inputs that survive, ascending), "inference_seconds", "read_seconds",
    "edges", "inputs", "rate" (edges per second) and "pass" (with `truth`, a truth file: whether
    the categories match it exactly; None without)."""
    result = {}

    def receive(text, _context):
        result.update(json.loads(text.decode()))
        return 0

    callback = _library.CALLBACK(receive)
    check(lib.sprig_challenge_run(os.fspath(network_dir).encode(), int(neurons), int(layers), os.fspath(inputs).encode(),
                                  os.fspath(truth).encode() if truth is not None else None,
                                  float("nan") if bias is None else float(bias), threads or os.cpu_count() or 1,
                                  callback, None))
    return result
