#!/usr/bin/env python3
"""PyTorch peer with binary masks for Sprig's per-layer activations, BatchNorm, dropout and Adam.

The masked-dense MLP of ``pytorch_masked.py`` (dense ``nn.Linear`` weights, exactly k ones
per mask, zeros off the mask, masks re-applied after every optimizer step; same masks and
initial weights for the same seed), plus:

* ``--layers "ReLU;BatchNorm;ReLU;BatchNorm;Linear"`` — Nerva's semicolon list: one entry per
  linear layer naming the activation after it (``Linear`` = identity, ``ReLU``,
  ``LeakyReLU(a)`` = max(z, a·z), ``AllReLU(a)`` = z < 0 ? a·z : z, ``Sigmoid``, ``Tanh``),
  plus extra ``BatchNorm`` entries, each inserted after the activation before it.  With sizes
  784,1024,1024,10 the example is Linear1→ReLU→BatchNorm1d(1024)→Linear2→ReLU→
  BatchNorm1d(1024)→Linear3.  BatchNorm1d has PyTorch's defaults (eps 1e-5, momentum 0.1,
  affine); evaluation uses ``model.eval()``, i.e. the running statistics.  Default: ReLU on
  the hidden layers, Linear on the output (pytorch_masked.py's model).
* ``--dropouts p1,p2,…`` — one rate per linear layer, ``nn.Dropout`` (inverted dropout) on
  that layer's input; 0 = none.
* ``--optimizer adam:B1,B2,EPS`` (``torch.optim.Adam``) and ``adamw:B1,B2,EPS,WD``
  (``torch.optim.AdamW``) besides ``sgd``, ``momentum:MU`` and ``nesterov:MU``.

Metrics: JSON lines as pytorch_dst.py's: epoch, loss, train_accuracy, test_loss,
test_accuracy, learning_rate, seconds, examples_per_second, evaluation_seconds (+ cpu_seconds).
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import pytorch_masked as pm  # noqa: E402

ACTIVATIONS = "Linear, ReLU, LeakyReLU(a), AllReLU(a), Sigmoid, Tanh, BatchNorm"


class LeakyReLU(nn.Module):
    """Nerva's LeakyReLU(a): max(z, a·z)."""

    def __init__(self, a):
        super().__init__()
        self.a = a

    def forward(self, x):
        return torch.maximum(x, self.a * x)

    def extra_repr(self):
        return f"a={self.a}"


class AllReLU(nn.Module):
    """Nerva's AllReLU(a): z < 0 ? a·z : z (any a)."""

    def __init__(self, a):
        super().__init__()
        self.a = a

    def forward(self, x):
        return torch.where(x < 0, self.a * x, x)

    def extra_repr(self):
        return f"a={self.a}"


def parse_activation(text):
    """An nn.Module (None for Linear/identity) from one entry of --layers."""
    t = text.strip()
    m = re.fullmatch(r"([A-Za-z_]+)\s*(?:\(\s*([^)]*)\s*\))?", t)
    if not m:
        raise SystemExit(f"--layers: cannot parse {text!r} (use {ACTIVATIONS})")
    name, arg = m.group(1).lower(), m.group(2)
    needs_arg = name in ("leakyrelu", "allrelu")
    if needs_arg != (arg is not None and arg != ""):
        raise SystemExit(f"--layers: {text!r}: " + ("needs an argument, e.g. "
                         f"{m.group(1)}(0.1)" if needs_arg else "takes no argument"))
    if name in ("linear", "identity"):
        return None
    if name == "relu":
        return nn.ReLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    try:
        a = float(arg) if needs_arg else None
    except ValueError:
        raise SystemExit(f"--layers: {text!r}: {arg!r} is not a number")
    if name == "leakyrelu":
        return LeakyReLU(a)
    if name == "allrelu":
        return AllReLU(a)
    raise SystemExit(f"--layers: unknown entry {text!r} (use {ACTIVATIONS})")


def parse_layers(spec, sizes):
    """Per linear layer i, the list of modules after it: [activation?] + [BatchNorm1d]*."""
    n_linear = len(sizes) - 1
    if spec is None:
        return [[nn.ReLU()] if i < n_linear - 1 else [] for i in range(n_linear)]
    entries = [e.strip() for e in spec.split(";") if e.strip()]
    after = []
    for e in entries:
        if e.lower() in ("batchnorm", "batchnorm1d", "bn"):
            if not after:
                raise SystemExit("--layers: BatchNorm must follow a layer's activation")
            if len(after) > n_linear:
                raise SystemExit("--layers: too many entries")
            after[-1].append(nn.BatchNorm1d(sizes[len(after)]))
        else:
            if len(after) == n_linear:
                raise SystemExit(f"--layers: {len(entries)} entries give more activations "
                                 f"than the {n_linear} linear layers of --layer-sizes")
            act = parse_activation(e)
            after.append([act] if act is not None else [])
    if len(after) != n_linear:
        raise SystemExit(f"--layers: {len(after)} activation(s) for {n_linear} linear layers "
                         f"(one entry per linear layer, plus BatchNorm entries)")
    return after


def parse_dropouts(text, n_linear):
    if text is None:
        return [0.0] * n_linear
    rates = pm.parse_float_list(text)
    if len(rates) != n_linear:
        raise SystemExit(f"--dropouts needs {n_linear} values (one per linear layer), "
                         f"got {len(rates)}")
    if any(not (0.0 <= r < 1.0) for r in rates):
        raise SystemExit(f"--dropouts must be in [0, 1): {rates}")
    return rates


class LayeredMLP(pm.MaskedMLP):
    """MaskedMLP (same masks from the same generator) with dropout before and activation/
    BatchNorm modules after each linear layer."""

    def __init__(self, layer_sizes, densities, generator, mask_dtype, after, dropouts):
        super().__init__(layer_sizes, densities, generator, mask_dtype)
        self.before = nn.ModuleList(nn.Dropout(p) if p > 0 else nn.Identity() for p in dropouts)
        self.after = nn.ModuleList(nn.Sequential(*mods) for mods in after)

    def forward(self, x):
        for drop, layer, post in zip(self.before, self.layers, self.after):
            x = post(layer(drop(x)))
        return x


def make_optimizer(spec, params, lr):
    """pytorch_masked's sgd | momentum:MU | nesterov:MU, plus adam:B1,B2,EPS and
    adamw:B1,B2,EPS,WD."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name not in ("adam", "adamw"):
        return pm.make_optimizer(spec, params, lr)
    vals = pm.parse_float_list(arg) if arg else []
    want = 3 if name == "adam" else 4
    if vals and len(vals) != want:
        raise SystemExit(f"--optimizer {spec}: expected {name}:B1,B2,EPS"
                         + (",WD" if name == "adamw" else ""))
    b1, b2, eps = vals[:3] if vals else (0.9, 0.999, 1e-8)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    wd = vals[3] if vals else 0.01
    return torch.optim.AdamW(params, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)


def build_parser():
    p = pm.build_parser()
    p.description = ("Masked-dense PyTorch peer for Sprig's --layers (activations, BatchNorm), "
                     "--dropouts and Adam.")
    for a in p._actions:
        if a.dest == "optimizer":
            a.help = "sgd | momentum:MU | nesterov:MU | adam:B1,B2,EPS | adamw:B1,B2,EPS,WD"
    p.add_argument("--layers", default=None,
                   help="Nerva's list, e.g. 'ReLU;BatchNorm;ReLU;BatchNorm;Linear': one "
                        f"activation per linear layer ({ACTIVATIONS}); default ReLU on hidden "
                        "layers, Linear on the output")
    p.add_argument("--dropouts", default=None,
                   help="comma-separated dropout rates, one per linear layer (on its input)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    pm.configure_torch(args)
    sizes, densities = pm.layer_densities(args)
    pm.check_densities(densities)
    after = parse_layers(args.layers, sizes)
    dropouts = parse_dropouts(args.dropouts, len(sizes) - 1)
    gen, mask_dtype = pm.seed_everything(args)

    xtr, ytr, xte, yte = pm.load_data(args, sizes)
    pm.check_classes(ytr, sizes)

    model = LayeredMLP(sizes, densities, gen, mask_dtype, after, dropouts)
    pm.initialize(model, args.initializer, gen)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.learning_rate)
    pm.preallocate_training_state(model, optimizer)
    loss_fn = nn.CrossEntropyLoss()

    print(json.dumps({**pm.model_summary(model, sizes),
                      "threads": torch.get_num_threads(),
                      "initializer": args.initializer,
                      "optimizer": args.optimizer,
                      "learning_rate": args.learning_rate,
                      "layers": args.layers, "dropouts": dropouts,
                      "model": " -> ".join(
                          m for i, layer in enumerate(model.layers) for m in
                          ([f"Dropout({dropouts[i]})"] if dropouts[i] > 0 else [])
                          + [f"Linear({layer.in_features},{layer.out_features})"]
                          + [type(x).__name__ for x in model.after[i]]),
                      "torch": torch.__version__}), flush=True)

    metrics_file = open(args.metrics, "w") if args.metrics else None
    n_batches = pm.batch_count(xtr.shape[0], args.batch_size)
    shuffle_gen = torch.Generator().manual_seed(args.seed + 7)

    for epoch in range(1, args.epochs + 1):
        xs, ys = pm.shuffled(xtr, ytr, shuffle_gen)
        loss_sum, correct, seconds, cpu_seconds = pm.train_epoch(
            model, optimizer, loss_fn, xs, ys, args.batch_size, n_batches)
        del xs, ys

        record = pm.evaluate_and_record(model, xte, yte, epoch, loss_sum, correct, n_batches, args.batch_size,
                                        seconds, cpu_seconds, args.learning_rate)
        if not pm.write_metrics(record, metrics_file):
            break
    if metrics_file:
        metrics_file.close()
    print(json.dumps({"peak_rss_mb": round(pm.peak_rss_mb(), 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
