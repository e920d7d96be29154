"""Sprig from Python: truly sparse neural networks (CSR weights, no dense masks) trained by the
Swift library through its C interface (no command-line tool in between)."""

import ctypes

from . import challenge, datasets
from ._library import SprigError, check, lib
from .model import MLP, History

__all__ = ["MLP", "History", "SprigError", "challenge", "datasets", "rank"]


def rank():
    """(rank, number of ranks) of this process: under `mpirun -np P python script.py` every rank
    runs the script, passes the full arrays to `fit` and trains its shard of each batch; rank 0
    reports (the others' histories are empty). (0, 1) outside mpirun."""
    r, n = ctypes.c_ssize_t(), ctypes.c_ssize_t()
    check(lib.sprig_rank(ctypes.byref(r), ctypes.byref(n)))
    return r.value, n.value
__version__ = "0.1.0"
