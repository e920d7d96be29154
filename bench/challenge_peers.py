"""The Sparse DNN Graph Challenge recurrence with SciPy, SuiteSparse:GraphBLAS
(python-graphblas) and PyTorch (CSR × dense: cuSPARSE's SpMM on a GPU), on the challenge's
files, for bench/challenge.sh and gpu/checks.sh.

  challenge_peers.py {scipy|graphblas|torch} --network DIR --neurons N --layers L --inputs FILE
                     [--threads T] [--bias B] [--repeat R] [--batch M] [--categories-out FILE]
                     [--device cpu|cuda]

Y ← min(32, ReLU(Y·W + b)) as the challenge's reference codes do it: the bias is added to the
entries present in Y·W (the others would give b < 0 and be cut by the ReLU anyway), entries
≤ 0 are dropped, the rest clamped at 32. Prints one JSON line: seconds (inference only, the
best of R runs), rate (inputs × edges / s), categories. With --batch M the inputs go through
in batches of M (as Sprig's do): GraphBLAS's products need ~12 MB per input at N = 16384, so
2000 inputs at once exhaust 24 GiB. The torch engine keeps Yᵀ dense and feature-major (N × M,
as Sprig's GPU engine does), computes Zᵀ = Wᵀ·Yᵀ with Wᵀ in CSR, adds the bias, clamps to
[0, 32] and drops the inputs whose column became zero after every layer; on --device cuda the
clock stops after the device has finished.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np


def read_tsv(path):
    """(rows, columns, values), 0-based, from a challenge TSV file (plain or .gz): with pyarrow's
    multithreaded reader where it is installed (5× NumPy's on one core: N = 65536 × 120 is 6.3 GB
    of text), else NumPy's."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pc
    except ImportError:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            a = np.loadtxt(f, delimiter="\t", dtype=np.float64, ndmin=2)
        return a[:, 0].astype(np.int64) - 1, a[:, 1].astype(np.int64) - 1, a[:, 2].astype(np.float32)
    t = pc.read_csv(path, read_options=pc.ReadOptions(autogenerate_column_names=True),
                    parse_options=pc.ParseOptions(delimiter="\t"),
                    convert_options=pc.ConvertOptions(column_types={"f0": pa.int64(), "f1": pa.int64(), "f2": pa.float64()}))
    column = lambda k: t.column(k).to_numpy()
    return column(0) - 1, column(1) - 1, column(2).astype(np.float32)


def layer_path(directory, n, k):
    base = os.path.join(directory, f"n{n}-l{k}.tsv")
    return base if os.path.exists(base) else base + ".gz"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("engine", choices=["scipy", "graphblas", "torch"])
    p.add_argument("--network", required=True)
    p.add_argument("--neurons", type=int, required=True)
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--bias", type=float)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--categories-out")
    p.add_argument("--device", default="cpu", help="torch only: cpu or cuda")
    a = p.parse_args()
    n = a.neurons
    bias = a.bias if a.bias is not None else {1024: -0.3, 4096: -0.35, 16384: -0.4, 65536: -0.45}[n]
    layers = [read_tsv(layer_path(a.network, n, k)) for k in range(1, a.layers + 1)]
    rows, cols, vals = read_tsv(a.inputs)
    count = int(rows.max()) + 1
    edges = sum(len(v) for _, _, v in layers)

    if a.engine == "scipy":
        import scipy.sparse as sp
        W = [sp.csr_matrix((v, (r, c)), shape=(n, n), dtype=np.float32) for r, c, v in layers]
        Y0 = sp.csr_matrix((vals, (rows, cols)), shape=(count, n), dtype=np.float32)

        def infer(first, last):
            Y = Y0[first:last]
            for w in W:
                Y = Y @ w
                Y.data += np.float32(bias)
                np.clip(Y.data, 0, 32, out=Y.data)
                Y.eliminate_zeros()
            return first + np.flatnonzero(np.diff(Y.indptr) > 0)
    elif a.engine == "torch":
        import warnings
        import torch
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        torch.set_num_threads(a.threads)
        device = torch.device(a.device)
        # Wᵀ[c, r] = W[r, c]: the rows of Wᵀ are the layer's outputs.
        WT = [torch.sparse_coo_tensor(np.stack([c, r]), v, (n, n), check_invariants=True).coalesce().to_sparse_csr().to(device)
              for r, c, v in layers]
        image, pixel, value = (torch.from_numpy(x).to(device) for x in (rows, cols, vals))
        b32 = torch.tensor(bias, dtype=torch.float32, device=device)

        def infer(first, last):
            mine = (image >= first) & (image < last)
            Y = torch.zeros(n, last - first, dtype=torch.float32, device=device)
            Y[pixel[mine], image[mine] - first] = value[mine]
            live = torch.arange(first, last, device=device)
            for w in WT:
                keep = (Y != 0).any(dim=0)
                Y, live = Y[:, keep], live[keep]
                if live.numel() == 0:
                    break
                Y = torch.clamp_(w @ Y + b32, 0, 32)
            live = live[(Y != 0).any(dim=0)]
            return live.cpu().numpy()
    else:
        import graphblas as gb
        gb.init("suitesparse", blocking=True)
        gb.ss.config["nthreads"] = a.threads
        from graphblas import binary, dtypes, monoid, semiring
        W = [gb.Matrix.from_coo(r, c, v, nrows=n, ncols=n, dtype=dtypes.FP32) for r, c, v in layers]
        Y0 = gb.Matrix.from_coo(rows, cols, vals, nrows=count, ncols=n, dtype=dtypes.FP32)
        # Everything in FP32, as Sprig and SciPy compute (a Python float would promote to FP64).
        b32, cap = np.float32(bias), np.float32(32)

        def infer(first, last):
            Y = Y0[first:last, :].new()
            for w in W:
                Z = Y.mxm(w, semiring.plus_times[dtypes.FP32]).new(dtype=dtypes.FP32)
                Z = Z.apply(binary.plus[dtypes.FP32], right=b32).new(dtype=dtypes.FP32)
                Z = Z.select(">", 0).new()
                Y = Z.apply(binary.min[dtypes.FP32], right=cap).new(dtype=dtypes.FP32)
            return first + np.sort(Y.reduce_rowwise(monoid.any).new().to_coo()[0])
    batch = a.batch if a.batch > 0 else count
    if a.engine in ("graphblas", "torch"):
        infer(0, min(batch, count))   # untimed: SuiteSparse's JIT and CUDA's libraries start on first use
    seconds = float("inf")
    for _ in range(a.repeat):
        start = time.perf_counter()
        alive = np.concatenate([infer(f, min(f + batch, count)) for f in range(0, count, batch)])
        seconds = min(seconds, time.perf_counter() - start)
    if a.categories_out:
        with open(a.categories_out, "w") as f:
            f.write("".join(f"{i + 1}\n" for i in alive))
    print(json.dumps({"engine": a.engine, "seconds": seconds, "rate": count * edges / seconds,
                      "inputs": count, "edges": edges, "categories": int(len(alive)), "threads": a.threads,
                      **({"device": a.device} if a.engine == "torch" else {})}))


if __name__ == "__main__":
    main()
