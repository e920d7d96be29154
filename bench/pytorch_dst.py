#!/usr/bin/env python3
"""Dynamic sparse training (SET, RigL) in PyTorch with binary masks, for Sprig benchmarks.

The peer of ``sprig train --prune … --grow …``: the masked-dense MLP of
``pytorch_masked.py`` (dense ``nn.Linear`` weights, zeros off the mask, masks re-applied
after every optimizer step), plus a prune/regrow topology step with Sprig's semantics:

* A regrow happens after the optimizer update of step t (1-based global step) when
  t % N == 0, t < T and t <= R·T (N = --regrow-every, default the steps per epoch, i.e.
  after each epoch but the last; T = total steps; R = --regrow-until).
* Layers of density 1 are never pruned; every sparse layer keeps its nonzero count.
* Prune: ``magnitude:F`` drops round(F·nnz) smallest |w| (ties by slot order, i.e. the
  row-major position in the K×D weight); ``set:F`` is Nerva's prune_SET
  (include/nerva/neural_networks/prune.h): lround(F·#positive) smallest positive and
  lround(F·#negative) smallest-magnitude negative weights (exact zeros are neither), the sum
  limited to half the empty positions (limit_prune_counts), ties by slot order;
  ``threshold:V`` drops |w| < V.  With ``--regrow-schedule cosine`` F becomes
  F/2·(1+cos(π·t/(R·T))).
* Grow as many as were pruned: ``random`` uniformly among the positions empty after
  pruning (just-pruned ones included); ``gradient`` (RigL) the empty positions with the
  largest |∂L/∂W| of the step-t batch's dense gradient (W is dense with zeros off the mask,
  so autograd's W.grad is the dense gradient; ties by slot order).
* Grown weights get --grow-weights values (dense fans) and zero momentum; surviving weights
  keep theirs; pruned weights become 0 with zero momentum.

Metrics: JSON lines like pytorch_masked.py's plus "test_loss", "learning_rate",
"regrown" (weights regrown in the epoch, all layers) and "topology_seconds" (time in the
topology step, included in "seconds").  Every regrow also prints a JSON line on stdout.
"""

import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import pytorch_masked as pm  # noqa: E402

GROW_WEIGHTS = ["zero"] + pm.INITIALIZERS


def round_half_up(x):
    return int(math.floor(x + 0.5))


def parse_prune(text):
    if text is None:
        return None
    name, _, arg = text.partition(":")
    name = name.strip().lower()
    if name not in ("magnitude", "set", "threshold") or not arg:
        raise SystemExit(f"--prune: expected magnitude:F, set:F or threshold:V, got {text!r}")
    value = float(arg)
    if name in ("magnitude", "set") and not (0.0 <= value <= 1.0):
        raise SystemExit(f"--prune {text}: the fraction must be in [0, 1]")
    if name == "threshold" and value < 0:
        raise SystemExit(f"--prune {text}: the threshold must be >= 0")
    return name, value


def smallest(values, k):
    """Positions (into values) of the k smallest, ties by position (a stable sort)."""
    if k <= 0:
        return torch.empty(0, dtype=torch.int64)
    order = torch.sort(values, stable=True).indices
    return order[:k]


def prune_layer(w, active, rule, value, total):
    """Flat indices (into w) of the weights to drop.  active: the occupied flat indices,
    ascending (slot order)."""
    vals = w[active]
    if rule == "magnitude":
        k = min(round_half_up(value * active.numel()), active.numel())
        return active[smallest(vals.abs(), k)]
    if rule == "threshold":
        return active[vals.abs() < value]
    # Nerva's prune_SET with limit_prune_counts.
    pos = (vals > 0).nonzero().squeeze(1)
    neg = (vals < 0).nonzero().squeeze(1)
    pc = round_half_up(value * pos.numel())
    nc = round_half_up(value * neg.numel())
    unused = total - active.numel()
    maximum = min(pc + nc, unused // 2)
    if maximum < pc + nc:
        factor = nc / (pc + nc)
        nc = round_half_up(factor * maximum)
        pc = maximum - nc
    drop_pos = pos[smallest(vals[pos], pc)]            # smallest positive values
    drop_neg = neg[smallest(-vals[neg], nc)]           # smallest magnitudes among negatives
    return active[torch.cat([drop_pos, drop_neg])]


def random_empty(occupied, k, generator):
    """k distinct flat positions, uniformly among those with occupied == False."""
    total = occupied.numel()
    found = torch.empty(0, dtype=torch.int64)
    while found.numel() < k:
        need = k - found.numel()
        draw = torch.randint(0, total, (2 * need + 16,), generator=generator)
        draw = draw[~occupied[draw]]
        found = torch.unique(torch.cat([found, draw]))
    keep = torch.randperm(found.numel(), generator=generator)[:k]
    return found[keep]


def gradient_empty(occupied, scores, k):
    """The k empty positions with the largest score, ties by position."""
    if k <= 0:
        return torch.empty(0, dtype=torch.int64)
    s = scores.clone()
    s[occupied] = -1.0      # scores are |gradient| >= 0
    order = torch.sort(s, descending=True, stable=True).indices
    return order[:k]


class Topology:
    def __init__(self, args, model, optimizer, steps_per_epoch, total_steps):
        self.prune = parse_prune(args.prune)
        self.grow = args.grow
        self.grow_weights = args.grow_weights
        self.every = args.regrow_every or steps_per_epoch
        self.schedule = args.regrow_schedule
        self.until = args.regrow_until
        self.total = total_steps
        self.model = model
        self.optimizer = optimizer
        self.generator = torch.Generator().manual_seed(args.seed + 13)
        self.check = args.check_topology
        if self.every <= 0:
            raise SystemExit("--regrow-every must be positive")
        if not (0.0 <= self.until <= 1.0):
            raise SystemExit("--regrow-until must be in [0, 1]")

    def due(self, t):
        return (self.prune is not None and t % self.every == 0 and t < self.total
                and t <= self.until * self.total)

    def needs_gradient(self, t):
        return self.grow == "gradient" and self.due(t)

    def fraction(self, t):
        rule, value = self.prune
        if rule == "threshold" or self.schedule == "constant":
            return value
        return value / 2.0 * (1.0 + math.cos(math.pi * t / (self.until * self.total)))

    @torch.no_grad()
    def step(self, t, grads):
        """Prune and regrow every sparse layer; returns per-layer (pruned, grown, nnz)."""
        rule, _ = self.prune
        value = self.fraction(t)
        out = []
        for i, (layer, mask) in enumerate(zip(self.model.layers, self.model.masks)):
            if mask is None:
                continue
            w = layer.weight.view(-1)
            m = mask.view(-1)
            occupied = m != 0
            active = occupied.nonzero().squeeze(1)
            drop = prune_layer(w, active, rule, value, w.numel())
            k = drop.numel()
            occupied[drop] = False
            if self.grow == "random":
                grow = random_empty(occupied, k, self.generator)
            else:
                grow = gradient_empty(occupied, grads[i], k)
            buf = self.optimizer.state.get(layer.weight, {}).get("momentum_buffer")
            moved = int((m[grow] == 0).sum())      # grown at positions not held before
            m[drop] = 0
            w[drop] = 0
            m[grow] = 1
            n_out, n_in = layer.weight.shape
            if self.grow_weights == "zero":
                w[grow] = 0
            else:
                w[grow] = pm.init_values(self.grow_weights, (grow.numel(),), n_in, n_out,
                                         self.generator)
            if buf is not None:
                bv = buf.view(-1)
                bv[drop] = 0
                bv[grow] = 0
            nnz = active.numel() - k + grow.numel()
            out.append((i, k, grow.numel(), nnz, moved))
        return value, out

    def verify(self, out):
        for i, _, _, nnz, _ in out:
            actual = int(self.model.masks[i].count_nonzero())
            if actual != nnz or actual != self.model.nonzeros[i]:
                raise SystemExit(f"layer {i}: {actual} nonzeros in the mask after regrow, "
                                 f"expected {self.model.nonzeros[i]}")


def build_parser():
    p = pm.build_parser()
    p.description = "Masked-dense PyTorch peer for Sprig's dynamic sparse training (SET, RigL)."
    p.add_argument("--prune", default=None,
                   help="magnitude:F | set:F | threshold:V (none: static training)")
    p.add_argument("--grow", choices=["random", "gradient"], default="random")
    p.add_argument("--grow-weights", choices=GROW_WEIGHTS, default="zero",
                   help="values of grown weights (dense fans)")
    p.add_argument("--regrow-every", type=int, default=None,
                   help="steps between regrows (default: the steps per epoch)")
    p.add_argument("--regrow-schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--regrow-until", type=float, default=1.0,
                   help="fraction R of the total steps after which the topology is frozen")
    p.add_argument("--check-topology", action="store_true",
                   help="after every regrow, count the masks' nonzeros (untimed) and fail "
                        "unless every sparse layer kept its count")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    pm.configure_torch(args)
    sizes, densities = pm.layer_densities(args)
    gen, mask_dtype = pm.seed_everything(args)

    xtr, ytr, xte, yte = pm.load_data(args, sizes)

    model = pm.MaskedMLP(sizes, densities, gen, mask_dtype)
    pm.initialize(model, args.initializer, gen)
    optimizer = pm.make_optimizer(args.optimizer, model.parameters(), args.learning_rate)
    pm.preallocate_training_state(model, optimizer)
    loss_fn = nn.CrossEntropyLoss()

    n_batches = pm.batch_count(xtr.shape[0], args.batch_size)
    total_steps = n_batches * args.epochs
    topo = Topology(args, model, optimizer, n_batches, total_steps)

    print(json.dumps({**pm.model_summary(model, sizes),
                      "threads": torch.get_num_threads(),
                      "initializer": args.initializer,
                      "prune": args.prune, "grow": args.grow,
                      "grow_weights": args.grow_weights,
                      "regrow_every": topo.every, "regrow_schedule": args.regrow_schedule,
                      "regrow_until": args.regrow_until, "total_steps": total_steps,
                      "torch": torch.__version__}), flush=True)

    metrics_file = open(args.metrics, "w") if args.metrics else None
    shuffle_gen = torch.Generator().manual_seed(args.seed + 7)
    sparse = [i for i, m in enumerate(model.masks) if m is not None]
    step = {"t": 0, "regrown": 0, "topology_seconds": 0.0, "logs": []}

    def before_step():
        step["t"] += 1
        if topo.needs_gradient(step["t"]):
            # The dense gradient of this batch, kept before the optimizer step (which may
            # update gradients in place).
            t0 = time.perf_counter()
            grads = {i: model.layers[i].weight.grad.detach().view(-1).abs() for i in sparse}
            step["topology_seconds"] += time.perf_counter() - t0
            return grads
        return None

    def after_step(grads):
        t = step["t"]
        if topo.due(t) and t % n_batches == 0:
            # After an epoch's last step: wait for the epoch's evaluation (as Sprig does), so
            # that an epoch is evaluated on the network it trained; counted in the next epoch.
            step["deferred"] = (t, grads)
            return
        regrow(t, grads)

    def regrow(t, grads):
        if topo.due(t):
            t0 = time.perf_counter()
            fraction, layers = topo.step(t, grads)
            step["topology_seconds"] += time.perf_counter() - t0
            step["regrown"] += sum(e[2] for e in layers)
            step["logs"].append({"regrow_step": t, "fraction": fraction,
                                 "pruned": [e[1] for e in layers],
                                 "grown": [e[2] for e in layers],
                                 "new_positions": [e[4] for e in layers],
                                 "nonzeros": [e[3] for e in layers]})
            if args.check_topology:
                topo.verify(layers)

    for epoch in range(1, args.epochs + 1):
        xs, ys = pm.shuffled(xtr, ytr, shuffle_gen)
        loss_sum, correct, seconds, cpu_seconds = pm.train_epoch(
            model, optimizer, loss_fn, xs, ys, args.batch_size, n_batches,
            before_step, after_step)
        del xs, ys
        for entry in step["logs"]:
            print(json.dumps(entry), flush=True)

        record = pm.evaluate_and_record(model, xte, yte, epoch, loss_sum, correct, n_batches, args.batch_size,
                                        seconds, cpu_seconds, args.learning_rate,
                                        extra={"regrown": step["regrown"],
                                               "topology_seconds": step["topology_seconds"]})
        if not pm.write_metrics(record, metrics_file):
            break
        deferred = step.pop("deferred", None)
        step.update(regrown=0, topology_seconds=0.0, logs=[])
        if deferred is not None:
            regrow(*deferred)
    if metrics_file:
        metrics_file.close()
    print(json.dumps({"peak_rss_mb": round(pm.peak_rss_mb(), 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
