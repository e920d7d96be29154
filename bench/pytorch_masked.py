#!/usr/bin/env python3
"""Masked-dense PyTorch baseline for Sprig benchmarks.

This is the baseline used in the Nerva paper: an MLP built from ordinary dense
``nn.Linear`` layers, each with a binary mask that is re-applied to the weights
(``W.mul_(mask)``) after every optimizer step.  Sparsity is only *simulated*:
every matrix product is still dense, and the masks cost extra memory.

The command line mirrors ``sprig train``.  Per-epoch metrics are written as JSON
lines (``--metrics``); the per-layer densities and the peak resident set size
are printed on stdout, the latter as the JSON line ``{"peak_rss_mb": ...}``.

Exit status 3 with the JSON line ``{"error": "out of memory"}`` means that the
model (weights, masks, gradients, momentum buffers) could not be allocated.
"""

import argparse
import gzip
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn

EXIT_OOM = 3


# --------------------------------------------------------------------------------------
# Densities
# --------------------------------------------------------------------------------------

def erdos_renyi_densities(layer_sizes, overall_density):
    """Erdős–Rényi allocation of an overall density over the layers (as in Nerva).

    Layer i (n_in x n_out) gets raw score s_i = (n_in + n_out) / (n_in * n_out) and
    density eps * s_i, with eps chosen so that the total number of nonzeros is
    overall_density * (total number of weights).  Layers whose density would exceed 1
    are made dense and eps is solved again for the remaining layers, until no layer
    exceeds 1.  (Nerva makes only the layers with the largest score dense per round;
    since capping a layer only frees budget, eps never decreases between rounds, so
    making every offending layer dense at once gives the same result.)
    """
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    if overall_density >= 1.0:
        return [1.0] * len(shapes)
    sizes = [n_in * n_out for n_in, n_out in shapes]
    scores = [(n_in + n_out) / (n_in * n_out) for n_in, n_out in shapes]
    target = overall_density * sum(sizes)
    dense = set()
    while True:
        rest = [i for i in range(len(shapes)) if i not in dense]
        if not rest:
            return [1.0] * len(shapes)
        budget = target - sum(sizes[i] for i in dense)
        eps = budget / sum(scores[i] * sizes[i] for i in rest)
        over = [i for i in rest if eps * scores[i] > 1.0]
        if not over:
            break
        dense.update(over)
    return [1.0 if i in dense else eps * scores[i] for i in range(len(shapes))]


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------

def random_subset(total, k, generator):
    """k distinct indices in [0, total), every k-subset equally likely.

    Uses O(k) memory rather than a full randperm(total) (which needs 8 bytes per weight):
    draw indices with replacement until k distinct ones are found, then keep a random k
    of them.  The procedure is invariant under permutations of [0, total), so the result
    is a uniformly random k-subset.  Intended for k <= total / 2.
    """
    found = torch.empty(0, dtype=torch.int64)
    while found.numel() < k:
        need = k - found.numel()
        draw = torch.randint(0, total, (need + need // 8 + 16,), generator=generator)
        found = torch.unique(torch.cat([found, draw]))
    keep = torch.randperm(found.numel(), generator=generator)[:k]
    return found[keep]


class MaskedMLP(nn.Module):
    """Dense nn.Linear layers + binary masks; ReLU on hidden layers, linear output."""

    def __init__(self, layer_sizes, densities, generator, mask_dtype):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
        self.masks = []      # None for fully dense layers (masking would be a no-op)
        self.nonzeros = []
        for layer, density in zip(self.layers, densities):
            n_out, n_in = layer.weight.shape
            total = n_in * n_out
            k = int(math.floor(density * total + 0.5))   # round half up
            k = max(0, min(total, k))
            self.nonzeros.append(k)
            if k == total:
                self.masks.append(None)
                continue
            # Exactly k ones at uniformly random positions.
            if k <= total - k:
                mask = torch.zeros(total, dtype=mask_dtype)
                if k > 0:
                    mask[random_subset(total, k, generator)] = 1
            else:   # mostly ones: choose the zeros instead
                mask = torch.ones(total, dtype=mask_dtype)
                mask[random_subset(total, total - k, generator)] = 0
            self.masks.append(mask.view(n_out, n_in))
        self.apply_masks()   # PyTorch default init, then masked

    @torch.no_grad()
    def apply_masks(self):
        for layer, mask in zip(self.layers, self.masks):
            if mask is not None:
                layer.weight.mul_(mask)

    def forward(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = torch.relu(x)
        return x


INITIALIZERS = ["xavier", "xavier-normalized", "he", "pytorch"]


def init_values(name, shape, fan_in, fan_out, generator):
    """Weights drawn as Sprig's Initializer (Sources/Sprig/Model/Initializer.swift) with
    fan-in n and fan-out m: xavier U(+-1/sqrt n), xavier-normalized U(+-sqrt(6/(n+m)))
    (Glorot uniform), he N(0, 2/n), pytorch U(+-1/sqrt n) (nn.Linear's weight default)."""
    n, m = max(float(fan_in), 1.0), max(float(fan_out), 1.0)
    if name in ("xavier", "pytorch"):
        a = 1.0 / math.sqrt(n)
    elif name == "xavier-normalized":
        a = math.sqrt(6.0 / (n + m))
    elif name == "he":
        return torch.randn(shape, generator=generator) * math.sqrt(2.0 / n)
    else:
        raise SystemExit(f"unknown initializer {name!r} (use {', '.join(INITIALIZERS)})")
    return torch.empty(shape).uniform_(-a, a, generator=generator)


@torch.no_grad()
def initialize(model, name, generator):
    """Re-initialise a MaskedMLP with the dense fans (n = D, m = K, as Sprig's --fan-in dense),
    biases zero, then re-apply the masks.  'pytorch' keeps nn.Linear's own default
    initialisation (weights and biases), i.e. the script's historical behaviour."""
    if name == "pytorch":
        return
    for layer in model.layers:
        n_out, n_in = layer.weight.shape
        layer.weight.copy_(init_values(name, (n_out, n_in), n_in, n_out, generator))
        layer.bias.zero_()
    model.apply_masks()


def make_optimizer(spec, params, lr):
    """'sgd', 'momentum:MU' or 'nesterov:MU'."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    mu = float(arg) if arg else 0.9
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=mu)
    if name == "nesterov":
        # PyTorch's Nesterov keeps v <- mu*v + g and steps W <- W - lr*(g + mu*v), whereas
        # Keras/Nerva keep the velocity in parameter units (v <- mu*v - lr*g,
        # W <- W + mu*v - lr*g).  The two differ only in how the velocity is stored
        # (scaled by -lr); with a constant learning rate the weight trajectory is the same.
        return torch.optim.SGD(params, lr=lr, momentum=mu, nesterov=True)
    raise SystemExit(f"unknown optimizer: {spec!r} (use sgd, momentum:MU or nesterov:MU)")


def preallocate_training_state(model, optimizer):
    """Allocate (and touch) gradients and momentum buffers up front.

    This makes an out-of-memory condition surface at model creation rather than in the
    middle of the first epoch.  A zero momentum buffer is equivalent to PyTorch's lazy
    initialisation (buf = g on the first step, since dampening is 0).
    """
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    for group in optimizer.param_groups:
        if group.get("momentum", 0) != 0:
            for p in group["params"]:
                optimizer.state[p]["momentum_buffer"] = torch.zeros_like(p)


# --------------------------------------------------------------------------------------
# Memory helpers
# --------------------------------------------------------------------------------------

def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _meminfo_kb(key):
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _vm_size_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def limit_address_space(fraction):
    """Cap the address space at (current size + fraction * MemAvailable).

    With Linux overcommit a too-large allocation would otherwise 'succeed' and the process
    (or a neighbour) would be killed by the OOM killer later; with the cap, allocation
    fails with a RuntimeError that we can report.
    """
    avail = _meminfo_kb("MemAvailable")
    vm = _vm_size_kb()
    if avail is None or vm is None:
        return
    limit = (vm + int(fraction * avail)) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def estimated_bytes(layer_sizes, nonzeros, mask_bytes, momentum, batch_size):
    """Weights + gradients (+ momentum) + masks + a little for activations."""
    params = sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    copies = 3 if momentum else 2
    masked = sum(a * b for (a, b), k in zip(zip(layer_sizes[:-1], layer_sizes[1:]), nonzeros)
                 if k != a * b)
    activations = 4 * batch_size * sum(layer_sizes) * 4
    return 4 * params * copies + mask_bytes * masked + activations


def out_of_memory():
    print(json.dumps({"error": "out of memory"}), flush=True)
    sys.exit(EXIT_OOM)


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def _read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dtype_code = (magic >> 8) & 0xFF
    if dtype_code != 0x08:
        raise SystemExit(f"{path}: unsupported IDX element type 0x{dtype_code:02x}")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_fashion_mnist(data_dir, train_size, test_size):
    def path(name):
        p = os.path.join(data_dir, name)
        if not os.path.exists(p):
            raise SystemExit(f"missing {p} (Debian package dataset-fashion-mnist, or --data-dir)")
        return p

    xtr = _read_idx_gz(path("train-images-idx3-ubyte.gz")).reshape(-1, 28 * 28)
    ytr = _read_idx_gz(path("train-labels-idx1-ubyte.gz"))
    xte = _read_idx_gz(path("t10k-images-idx3-ubyte.gz")).reshape(-1, 28 * 28)
    yte = _read_idx_gz(path("t10k-labels-idx1-ubyte.gz"))
    if train_size:
        xtr, ytr = xtr[:train_size], ytr[:train_size]
    if test_size:
        xte, yte = xte[:test_size], yte[:test_size]
    xtr = xtr.astype(np.float32) / 255.0
    xte = xte.astype(np.float32) / 255.0
    # Standardise with the training set's scalar mean and standard deviation.
    mean = float(xtr.mean(dtype=np.float64))
    std = float(xtr.std(dtype=np.float64))
    xtr = (xtr - mean) / std
    xte = (xte - mean) / std
    return (torch.from_numpy(np.ascontiguousarray(xtr, dtype=np.float32)),
            torch.from_numpy(ytr.astype(np.int64)),
            torch.from_numpy(np.ascontiguousarray(xte, dtype=np.float32)),
            torch.from_numpy(yte.astype(np.int64)))


def make_synthetic(n_features, n_classes, train_size, test_size, generator):
    """i.i.d. N(0,1) inputs, uniformly random labels: for timing only."""
    xtr = torch.randn(train_size, n_features, generator=generator)
    ytr = torch.randint(0, n_classes, (train_size,), generator=generator)
    xte = torch.randn(test_size, n_features, generator=generator)
    yte = torch.randint(0, n_classes, (test_size,), generator=generator)
    return xtr, ytr, xte, yte


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------

def parse_int_list(text):
    return [int(v) for v in text.split(",") if v.strip()]


def parse_float_list(text):
    return [float(v) for v in text.split(",") if v.strip()]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--layer-sizes", required=True, type=parse_int_list,
                   help="comma-separated layer sizes, e.g. 3072,1024,512,10")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--overall-density", type=float, default=None,
                   help="overall density, spread over the layers by Erdős–Rényi allocation")
    g.add_argument("--densities", type=parse_float_list, default=None,
                   help="comma-separated per-layer densities")
    p.add_argument("--optimizer", default="nesterov:0.9", help="sgd | momentum:MU | nesterov:MU")
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (interop threads are always 1)")
    p.add_argument("--dataset", choices=["synthetic", "fashion-mnist"], default="synthetic")
    p.add_argument("--train-size", type=int, default=None,
                   help="number of training examples (synthetic default 50000; "
                        "fashion-mnist default all 60000)")
    p.add_argument("--test-size", type=int, default=None,
                   help="number of test examples (synthetic default 1000; "
                        "fashion-mnist default all 10000)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--initializer", choices=INITIALIZERS, default="pytorch",
                   help="weight initialisation (Sprig's names); all but pytorch set biases to 0")
    p.add_argument("--fan-in", choices=["dense"], default="dense",
                   help="fan counting for --initializer: only dense (n = D, m = K), as "
                        "masked dense layers count; accepted for command-line parity with Sprig")
    p.add_argument("--metrics", default=None, help="write per-epoch metrics as JSON lines here")
    p.add_argument("--mask-dtype", choices=["float32", "bool"], default="float32",
                   help="element type of the masks (float32: 4 bytes per weight, bool: 1)")
    p.add_argument("--flush-denormal", action=argparse.BooleanOptionalAction, default=True,
                   help="flush subnormal floats to zero (FTZ/DAZ), as Sprig does; subnormals "
                        "can slow MKL matrix products down by two orders of magnitude")
    p.add_argument("--memory-fraction", type=float, default=0.9,
                   help="cap the address space at this fraction of MemAvailable so that "
                        "running out of memory is reported (exit 3) instead of the process "
                        "being OOM-killed; 0 disables the cap")
    return p


def configure_torch(args):
    """Threads and denormals; must happen before any parallel work (worker threads inherit
    the FP environment)."""
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.set_num_interop_threads(1)
    if args.threads:
        torch.set_num_threads(args.threads)


def layer_densities(args):
    """(layer sizes, per-layer densities) from --layer-sizes and --densities or --overall-density."""
    sizes = args.layer_sizes
    if len(sizes) < 2:
        raise SystemExit("--layer-sizes needs at least two sizes")
    n_layers = len(sizes) - 1
    if args.densities is not None:
        densities = args.densities
        if len(densities) != n_layers:
            raise SystemExit(f"--densities needs {n_layers} values, got {len(densities)}")
    else:
        densities = erdos_renyi_densities(sizes, 1.0 if args.overall_density is None
                                          else args.overall_density)
    return sizes, densities


def load_data(args, sizes):
    """(x_train, y_train, x_test, y_test): synthetic data or Fashion-MNIST."""
    if args.dataset == "synthetic":
        train_size = args.train_size if args.train_size is not None else 50000
        test_size = args.test_size if args.test_size is not None else 1000
        data_gen = torch.Generator().manual_seed(args.seed + 1000003)
        return make_synthetic(sizes[0], sizes[-1], train_size, test_size, data_gen)
    if sizes[0] != 784:
        raise SystemExit("fashion-mnist needs 784 inputs")
    return load_fashion_mnist(args.data_dir, args.train_size, args.test_size)


def check_densities(densities):
    if any(not (0.0 <= d <= 1.0) for d in densities):
        raise SystemExit(f"densities must be in [0, 1]: {densities}")


def seed_everything(args):
    """Seed torch; (the model's generator, the masks' dtype)."""
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    mask_dtype = torch.float32 if args.mask_dtype == "float32" else torch.bool
    return gen, mask_dtype


def check_classes(ytr, sizes):
    if ytr.numel() and int(ytr.max()) >= sizes[-1]:
        raise SystemExit("more classes in the data than outputs")


def model_summary(model, sizes):
    """The first keys of a run's header line: sizes, actual densities, nonzeros."""
    total_w = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"layer_sizes": sizes,
            "densities": [round(k / (a * b), 6) for k, a, b in
                          zip(model.nonzeros, sizes[:-1], sizes[1:])],
            "nonzeros": model.nonzeros,
            "overall_density": round(sum(model.nonzeros) / total_w, 6)}


def batch_count(n_train, batch_size):
    """Full batches per epoch (the last partial batch, if any, is dropped)."""
    n_batches = n_train // batch_size
    if n_batches == 0:
        raise SystemExit("fewer training examples than one batch")
    return n_batches


def shuffled(x, y, generator):
    """x and y in a new random order (data handling: not timed)."""
    perm = torch.randperm(x.shape[0], generator=generator)
    return x[perm], y[perm]


def train_epoch(model, optimizer, loss_fn, xs, ys, batch_size, n_batches,
                before_step=None, after_step=None):
    """One timed pass over n_batches batches: forward, loss, backward, [before_step()],
    optimizer step, masks, [after_step(what before_step returned)].  Returns (summed loss,
    correct predictions, wall seconds, CPU seconds of all threads)."""
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.int64)
    bs = batch_size
    start = time.perf_counter()
    cpu_start = time.process_time()
    for b in range(n_batches):
        x = xs[b * bs:(b + 1) * bs]
        y = ys[b * bs:(b + 1) * bs]
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        state = before_step() if before_step else None
        optimizer.step()
        model.apply_masks()
        if after_step:
            after_step(state)
        with torch.no_grad():
            loss_sum += loss.detach()
            correct += (out.argmax(dim=1) == y).sum()
    return loss_sum, correct, time.perf_counter() - start, time.process_time() - cpu_start


def evaluate(model, x, y, batch=1000):
    """(summed cross-entropy, correct predictions) on x, y in eval mode (not timed)."""
    model.eval()
    correct = 0
    loss = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch])
            loss += float(nn.functional.cross_entropy(out, y[i:i + batch], reduction="sum"))
            correct += int((out.argmax(dim=1) == y[i:i + batch]).sum())
    return loss, correct


def epoch_record(epoch, loss_sum, correct, n_batches, batch_size, seconds, cpu_seconds,
                 test_correct, n_test, test_loss=None, learning_rate=None,
                 evaluation_seconds=None, extra=None):
    """An epoch's metrics line; test_loss (summed), learning_rate, evaluation_seconds and
    extra (a dict, before cpu_seconds) only when given."""
    n_seen = n_batches * batch_size
    record = {"epoch": epoch,
              "loss": float(loss_sum) / n_batches,
              "train_accuracy": int(correct) / n_seen}
    if test_loss is not None:
        record["test_loss"] = test_loss / n_test if n_test else None
    record["test_accuracy"] = test_correct / n_test if n_test else None
    if learning_rate is not None:
        record["learning_rate"] = learning_rate
    record["seconds"] = seconds
    record["examples_per_second"] = n_seen / seconds
    if evaluation_seconds is not None:
        record["evaluation_seconds"] = evaluation_seconds
    record.update(extra or {})
    # CPU time of all threads; far below threads*seconds means CPU contention
    record["cpu_seconds"] = cpu_seconds
    return record


def evaluate_and_record(model, xte, yte, epoch, loss_sum, correct, n_batches, batch_size, seconds,
                        cpu_seconds, learning_rate, extra=None):
    """Evaluates on the test set (timed as evaluation_seconds) and returns the epoch's record
    with the test loss and accuracy: the epilogue of every peer's epoch that reports them."""
    eval_start = time.perf_counter()
    test_loss, test_correct = evaluate(model, xte, yte)
    return epoch_record(epoch, loss_sum, correct, n_batches, batch_size, seconds, cpu_seconds,
                        test_correct, xte.shape[0], test_loss=test_loss, learning_rate=learning_rate,
                        evaluation_seconds=time.perf_counter() - eval_start, extra=extra)


def write_metrics(record, metrics_file):
    """Print the epoch's record and append it to the metrics file (if any); False when the
    loss is not finite (then stop training)."""
    print(json.dumps(record), flush=True)
    if metrics_file:
        metrics_file.write(json.dumps(record) + "\n")
        metrics_file.flush()
    if not math.isfinite(record["loss"]):
        print("loss is not finite; stopping", file=sys.stderr)
        return False
    return True


def main(argv=None):
    args = build_parser().parse_args(argv)
    rss_after_import = peak_rss_mb()   # the CUDA-enabled PyPI wheel alone costs ~0.5 GB
    configure_torch(args)
    sizes, densities = layer_densities(args)
    check_densities(densities)

    gen, mask_dtype = seed_everything(args)
    mask_bytes = 4 if mask_dtype == torch.float32 else 1

    # ---- data (excluded from all timings) ----
    xtr, ytr, xte, yte = load_data(args, sizes)
    check_classes(ytr, sizes)

    # ---- model ----
    nonzeros_est = [int(math.floor(d * a * b + 0.5)) for d, a, b in zip(densities, sizes[:-1], sizes[1:])]
    momentum = not args.optimizer.strip().lower().startswith("sgd")
    need = estimated_bytes(sizes, nonzeros_est, mask_bytes, momentum, args.batch_size)
    avail_kb = _meminfo_kb("MemAvailable")
    if avail_kb is not None and need > avail_kb * 1024:
        print(f"estimated model memory {need / 2**20:.0f} MiB > MemAvailable "
              f"{avail_kb / 1024:.0f} MiB", file=sys.stderr)
        out_of_memory()
    if args.memory_fraction > 0:
        limit_address_space(args.memory_fraction)
    try:
        model = MaskedMLP(sizes, densities, gen, mask_dtype)
        initialize(model, args.initializer, gen)
        optimizer = make_optimizer(args.optimizer, model.parameters(), args.learning_rate)
        preallocate_training_state(model, optimizer)
    except (RuntimeError, MemoryError) as e:
        if isinstance(e, MemoryError) or "memory" in str(e).lower() or "alloc" in str(e).lower():
            print(str(e).splitlines()[0] if str(e) else "MemoryError", file=sys.stderr)
            out_of_memory()
        raise
    loss_fn = nn.CrossEntropyLoss()

    print(json.dumps({**model_summary(model, sizes),
                      "threads": torch.get_num_threads(),
                      "flush_denormal": bool(args.flush_denormal),
                      "torch": torch.__version__,
                      "rss_after_import_mb": round(rss_after_import, 1)}), flush=True)

    metrics_file = open(args.metrics, "w") if args.metrics else None
    n_batches = batch_count(xtr.shape[0], args.batch_size)
    shuffle_gen = torch.Generator().manual_seed(args.seed + 7)

    for epoch in range(1, args.epochs + 1):
        xs, ys = shuffled(xtr, ytr, shuffle_gen)
        loss_sum, correct, seconds, cpu_seconds = train_epoch(
            model, optimizer, loss_fn, xs, ys, args.batch_size, n_batches)
        del xs, ys
        _, test_correct = evaluate(model, xte, yte)
        record = epoch_record(epoch, loss_sum, correct, n_batches, args.batch_size, seconds,
                              cpu_seconds, test_correct, xte.shape[0])
        if not write_metrics(record, metrics_file):
            break

    if metrics_file:
        metrics_file.close()
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
