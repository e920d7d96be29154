"""`mpirun -np 2 python` trains as one process does (weights within 1e-5), with and without
mpi4py having initialised MPI first."""

import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import sys
{preamble}
import sprig
(x, y), _ = sprig.datasets.fashion_mnist()
model = sprig.MLP([784, 64, 10], overall_density=0.2, seed=5)
history = model.fit(x[:2000], y[:2000], epochs=2, threads=1{fit})
rank, size = sprig.rank()
assert size == int(sys.argv[2]), (size, sys.argv)
if rank == 0:
    assert len(history) == 2
    model.save(sys.argv[1])
"""


def run(tmp_path, ranks, name, preamble="", fit=""):
    script = tmp_path / f"{name}.py"
    script.write_text(SCRIPT.format(preamble=preamble, fit=fit))
    out = tmp_path / f"{name}.npz"
    command = [sys.executable, str(script), str(out), str(ranks)]
    if ranks > 1:
        command = ["timeout", "300", "mpirun", "-np", str(ranks), "--oversubscribe", "--allow-run-as-root",
                   "--bind-to", "none", "-x", "PYTHONPATH", "-x", "SPRIG_LIBRARY"] + command
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr
    return np.load(out)


def close(a, b):
    for name in a.files:
        scale = max(np.abs(a[name]).max(), 1e-12) if a[name].dtype.kind == "f" else 1
        assert a[name].shape == b[name].shape, name
        assert np.abs(a[name].astype(np.float64) - b[name]).max() / scale <= 1e-5, name


def test_two_ranks_equal_one_process(tmp_path):
    one = run(tmp_path, 1, "one")
    two = run(tmp_path, 2, "two")
    close(one, two)


def test_two_ranks_after_mpi4py(tmp_path):
    one = run(tmp_path, 1, "one")
    two = run(tmp_path, 2, "after_mpi4py", preamble="from mpi4py import MPI\nassert MPI.Is_initialized()")
    close(one, two)


def test_two_ranks_over_an_mpi4py_communicator(tmp_path):
    """fit(comm=...) trains over (a duplicate of) the communicator given."""
    one = run(tmp_path, 1, "one")
    two = run(tmp_path, 2, "comm", preamble="from mpi4py import MPI\ncomm = MPI.COMM_WORLD.Dup()", fit=", comm=comm")
    close(one, two)
