"""`sprig.MLP`: a truly sparse multilayer perceptron (CSR weights) trained by the Swift library."""

import ctypes
import json
import os

import numpy as np

from . import _library
from ._library import check, lib

# Keywords that define the network (kept by the model); every other keyword is a training
# flag, given again at each fit. Each keyword is `sprig train`'s flag without the dashes.
NETWORK_KEYWORDS = {"densities", "overall_density", "layers", "activation", "output_activation", "dropouts",
                    "initializer", "fan_in", "seed"}
# The library's defaults (README, "sprig train flags"), as `MLP`'s signature shows them. A
# keyword equal to its default, or None, is not passed as a flag: the library's default holds.
NETWORK_DEFAULTS = {"densities": None, "overall_density": None, "layers": None, "activation": "relu",
                    "output_activation": "identity", "dropouts": None, "initializer": "pytorch", "fan_in": "per-row",
                    "seed": 1}
TRAINING_DEFAULTS = {"optimizer": "nesterov:0.9", "learning_rate": 0.01, "lr_schedule": "constant", "weight_decay": 0.0,
                     "loss": "softmax-cross-entropy", "batch_size": 100, "epochs": 10, "normalize": "standard",
                     "prune": None, "grow": "random", "threads": None}
DEFAULTS = dict(NETWORK_DEFAULTS, **TRAINING_DEFAULTS)
# `sprig train` flags that have no meaning for arrays given from Python: refused, never ignored.
REFUSED_KEYWORDS = {
    "dataset": "fit trains on the arrays it is given",
    "data_dir": "fit trains on the arrays it is given",
    "load_weights": "load a model with sprig.MLP.load(path, ...)",
    "layer_sizes": "the layer sizes are the model's first argument",
}


def flags(keywords):
    """{"learning_rate": 0.1, "layer_sizes": [784, 10], "resume": True} →
    ["--learning-rate", "0.1", "--layer-sizes", "784,10", "--resume"] (None is left out)."""
    result = []
    for key, value in keywords.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            result.append(flag)
        elif isinstance(value, (list, tuple)):
            result += [flag, ",".join(str(v) for v in value)]
        else:
            result += [flag, str(value)]
    return result


def _is_default(key, value):
    """Whether `value` leaves the library's default for `key` (None, or the default itself)."""
    if value is None:
        return True
    default = DEFAULTS.get(key)
    if default is None:
        return False
    if isinstance(default, str):
        return isinstance(value, str) and value == default
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return value == default


def _given(keywords):
    """The keywords that are not left at their defaults: those become flags."""
    return {key: value for key, value in keywords.items() if key == "layer_sizes" or not _is_default(key, value)}


def _same(a, b):
    """a == b, also for arrays and lists of numbers (False where the comparison is ambiguous)."""
    try:
        if a is None or b is None or np.shape(a) != np.shape(b):
            return a is b
        return bool(np.all(np.asarray(a, dtype=object) == np.asarray(b, dtype=object)))
    except (ValueError, TypeError):
        return False


def _refuse(keywords, where):
    """TypeError for a keyword that has no meaning here (it would otherwise be ignored)."""
    for key in keywords:
        if key in REFUSED_KEYWORDS:
            raise TypeError(f"{where} got the keyword {key!r}, which it does not take: {REFUSED_KEYWORDS[key]}")


def _features(x, name):
    """x as a C-contiguous float32 or uint8 (n, d) array: the array itself when it already is
    one, else a converted copy. The library reads uint8 arrays in place (no copy at all) and
    copies float32 ones (standardising rewrites them). Other numeric dtypes are converted to
    float32; strings, objects, complex numbers and booleans are refused."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array (examples × features), not {x.ndim}-d of shape {x.shape}")
    if x.dtype.kind not in "uif":
        raise TypeError(f"{name} must hold numbers (float32, uint8 or another integer or float type), not dtype {x.dtype}")
    if x.dtype != np.uint8 and x.dtype != np.float32:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32)   # an overflow becomes ±inf, which the library refuses by name
    return np.ascontiguousarray(x)


def _labels(y, n, name, classes=None):
    """y as a C-contiguous int32 vector of n class indices, each in 0 … classes − 1 (checked
    here, before the cast, so that no value wraps into range and the message names `name` as
    the caller gave it; the library checks them again)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must hold one label per example ({n}), not shape {y.shape}")
    if y.dtype.kind not in "uif":
        raise TypeError(f"{name} must hold class indices (integers 0, 1, …), not dtype {y.dtype}")
    if y.size:
        if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (np.mod(y, 1) == 0)):
            raise ValueError(f"{name} must hold whole class indices")
        top = np.iinfo(np.int32).max if classes is None else classes - 1
        low, high = y.min(), y.max()
        if low < 0 or high > top:
            bad = low if low < 0 else high
            bad = int(bad) if y.dtype.kind == "f" else bad
            if classes is None:
                raise ValueError(f"{name}: label {bad} is not a class index")
            raise ValueError(f"{name}: label {bad} is not a class index 0 … {classes - 1} "
                             f"(the network has {classes} outputs)")
    return np.ascontiguousarray(y, dtype=np.int32)


def _sizes(layer_sizes):
    """The layer sizes as a list of ints (a string or floats would be read as something else)."""
    if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__iter__"):
        raise TypeError(f"layer_sizes must be a list of integers such as [784, 1024, 10], not {layer_sizes!r}")
    sizes = list(layer_sizes)
    if not all(isinstance(size, (int, np.integer)) and not isinstance(size, bool) for size in sizes):
        raise TypeError(f"layer_sizes must be a list of integers such as [784, 1024, 10], not {sizes!r}")
    return [int(size) for size in sizes]


def _path(path):
    """A file path as bytes for the library, refusing what a C string cannot hold."""
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError(f"path {os.fsdecode(encoded)!r} contains a NUL character")
    if not encoded:
        raise ValueError("the path is empty")
    return encoded


class _Handle:
    """Owns one model of the library (a C handle) and frees it exactly once, when the last
    Python object that uses it goes: models share a `_Handle`, never copy its address."""

    def __init__(self, address):
        self.address = address

    def __del__(self):
        address, self.address = getattr(self, "address", None), None
        if address and lib is not None:
            lib.sprig_model_free(address)



def _epoch_line(event, epochs=None):
    """The one line per epoch that `verbose=True` and `progress=True` print."""
    parts = [f"epoch {event['epoch']}" + (f"/{epochs}" if epochs else ""), f"loss {event['loss']:.4f}"]
    if event.get("train_accuracy") is not None:
        parts.append(f"train {100 * event['train_accuracy']:.2f}%")
    if event.get("test_accuracy") is not None:
        parts.append(f"validation {100 * event['test_accuracy']:.2f}%")
    if event.get("seconds") is not None:
        parts.append(f"{event['seconds']:.3g} s")
    return "  ".join(parts)


class MLP:
    """A truly sparse multilayer perceptron (CSR weights, no dense masks) trained by the Swift
    library: `MLP([784, 1024, 512, 10], overall_density=0.01, learning_rate=0.1)`.

    Every keyword is `sprig train`'s flag with underscores (README, "sprig train flags");
    one left at its default (or None) is not passed, so the library's default holds.

    layer_sizes: inputs first, classes last, e.g. [784, 1024, 512, 10] (a list of integers).

    The network (kept by the model; `set_params` may change them only before it is trained):
      densities: one density per linear layer in (0, 1] (1: a dense layer), e.g. [0.05, 0.05, 1].
      overall_density: one density for the whole network, split over the layers with the
        Erdős–Rényi allocation; None: 0.05 unless `densities` is given.
      layers: Nerva's layer list, e.g. "ReLU;BatchNorm;ReLU;Linear" or "ReLU;ReLU;Softmax";
        replaces `activation` and `output_activation`.
      activation: the hidden layers' activation: "relu", "leaky_relu:A", "all_relu:A",
        "trelu:E", "tanh", "sigmoid", "identity".
      output_activation: the last layer's ("identity": logits for the softmax).
      dropouts: one inverted-dropout rate per linear layer, on its input, e.g. [0.2, 0.2, 0].
      initializer: "pytorch", "xavier", "xavier-normalized" or "he".
      fan_in: "per-row", "sparse" or "dense" (how a sparse layer's fan-in is counted).
      seed: patterns, initial values and shuffling all follow from it.

    Training (defaults for each `fit`, which may override them):
      optimizer: "sgd", "momentum:MU", "nesterov:MU", "adam[:B1,B2,EPS]", "adamw[:B1,B2,EPS,WD]",
        or one per linear layer, comma-separated.
      learning_rate: the initial rate.
      lr_schedule: "constant", "step:S:G", "multistep:M1,M2,…:G", "exponential:G", "cosine[:MIN]".
      weight_decay: L2, added to every parameter's gradient.
      loss: "softmax-cross-entropy" (on logits), "logistic-cross-entropy", "cross-entropy"
        (layers ending in Softmax), "negative-log-likelihood" (ending in LogSoftmax), "squared-error".
      batch_size, epochs: examples per step, passes over the data.
      normalize: "standard" (the training data's mean and deviation) or "unit" (x/255 only).
      prune, grow: dynamic sparse training, e.g. prune="set:0.3", grow="gradient".
      threads: threads of this process (None: all cores).
      **keywords: the rest of `sprig train`'s training flags (regrow_every="…", group_lasso=…,
        max_steps=…, checkpoint_dir="…", …); a keyword that does not exist raises TypeError.

    Methods in scikit-learn's manner: fit, predict (class labels), predict_proba, decision_function
    (the raw outputs), score (accuracy), get_params, set_params; and evaluate, save, load, weights.
    """

    def __init__(self, layer_sizes, *, densities=None, overall_density=None, layers=None, activation="relu",
                 output_activation="identity", dropouts=None, initializer="pytorch", fan_in="per-row", seed=1,
                 optimizer="nesterov:0.9", learning_rate=0.01, lr_schedule="constant", weight_decay=0.0,
                 loss="softmax-cross-entropy", batch_size=100, epochs=10, normalize="standard", prune=None,
                 grow="random", threads=None, **keywords):
        """Makes the network (from `seed`); the keywords are described on the class: help(sprig.MLP)."""
        settings = {key: value for key, value in locals().items() if key in DEFAULTS}
        _refuse(keywords, "MLP()")
        self._setup(_sizes(layer_sizes), dict(settings, **keywords))
        self._check(dict(self._network_keywords, **self._training_keywords))
        self._make(self._network_flags())

    def _setup(self, sizes, keywords):
        """The model's state in Python: its keywords (network and training), no network yet."""
        self._network_keywords = {"layer_sizes": sizes}
        self._training_keywords = {}
        for key, value in keywords.items():
            (self._network_keywords if key in NETWORK_KEYWORDS else self._training_keywords)[key] = value
        self._owner = None
        self._epochs_trained = 0
        self._loaded = False
        self._fitting = False
        self._output_layer = None   # 'softmax' or 'logsoftmax' when a loaded file's layers end in one

    @staticmethod
    def _check(keywords):
        """Checks keywords as `sprig train` checks its flags (TypeError for one that does not exist)."""
        encoded, count, array = _library.argv(flags(_given(keywords)))
        check(lib.sprig_check_flags(count, array))

    def _network_flags(self):
        return flags(_given(self._network_keywords))

    def _make(self, network_flags):
        encoded, count, array = _library.argv(network_flags)
        handle = ctypes.c_void_p()
        check(lib.sprig_model_new(count, array, ctypes.byref(handle)))
        self._owner = _Handle(handle.value)

    def _rebuild(self, what):
        """A new network from the model's keywords and seed (the old one is dropped)."""
        if getattr(self, "_fitting", False):
            raise ValueError(f"the model is busy with fit ({what} cannot rebuild the network while it runs)")
        if getattr(self, "_loaded", False):   # the file's network (layers and all), initialised anew
            check(lib.sprig_model_reinitialize(self._handle))
        else:
            self._make(self._network_flags())
            self._output_layer = None
        self._epochs_trained = 0

    @property
    def _handle(self):
        owner = getattr(self, "_owner", None)
        if owner is None or not owner.address:
            raise ValueError("this model has no network (it was never made)")
        return owner.address

    def _normalization(self):
        """[has, mean, deviation, kind]: kind 1 for uint8 features, 0 for float32, −1 never fitted."""
        values = (ctypes.c_double * 4)()
        check(lib.sprig_model_get_normalization(self._handle, values))
        return list(values)

    @property
    def fitted(self):
        """Whether the network has been trained (by `fit`, here or before a copy or pickle)."""
        return self._normalization()[3] >= 0

    def _built(self):
        """Whether the weights are more than the seed's initial ones (fitted or loaded)."""
        return self._loaded or self._epochs_trained > 0 or self.fitted

    # scikit-learn's estimator contract

    def get_params(self, deep=True):
        """The constructor's keywords: {"layer_sizes": …, "overall_density": …, …}, those left at
        their defaults included, so that `sprig.MLP(**model.get_params())` makes the same,
        untrained model (scikit-learn's `clone`). `deep` has no effect (no nested estimators)."""
        params = {"layer_sizes": list(self._network_keywords["layer_sizes"])}
        for key, default in DEFAULTS.items():
            params[key] = (self._network_keywords if key in NETWORK_KEYWORDS else self._training_keywords).get(key, default)
        for key, value in self._training_keywords.items():
            if key not in DEFAULTS:
                params[key] = value
        return params

    def set_params(self, **params):
        """Sets keywords, as scikit-learn's `set_params` does; returns the model. Training keywords
        (learning_rate, epochs, …) just change the defaults of the next `fit`. Keywords of the
        network (layer_sizes, overall_density, layers, seed, …) rebuild it from its seed while it
        is untrained; once it is fitted or loaded they raise ValueError (the network is built:
        make a new model). A keyword that does not exist raises TypeError; nothing changes then."""
        _refuse({key: value for key, value in params.items() if key != "layer_sizes"}, "set_params()")
        network = dict(self._network_keywords)
        training = dict(self._training_keywords)
        changed = []
        for key, value in params.items():
            if key == "layer_sizes":
                value = _sizes(value)
            target = network if key in NETWORK_KEYWORDS or key == "layer_sizes" else training
            if target is network and not _same(network.get(key, DEFAULTS.get(key)), value):
                changed.append(key)
            target[key] = value
        if changed and self._built():
            state = f"trained {self._epochs_trained} epochs" if self._epochs_trained else (
                "loaded from a file" if self._loaded else "fitted")
            raise ValueError(f"cannot set {', '.join(changed)}: the network is already built ({state}); "
                             f"make a new model, e.g. sprig.MLP(**dict(model.get_params(), {changed[0]}=...))")
        self._check(dict(network, **training))
        if changed:
            keep = self._network_keywords
            self._network_keywords = network
            try:
                self._rebuild("set_params")
            except BaseException:
                self._network_keywords = keep
                raise
        self._network_keywords = network
        self._training_keywords = training
        return self

    def __repr__(self):
        sizes = self.layer_sizes if getattr(self, "_owner", None) is not None and self._owner.address else \
            self._network_keywords.get("layer_sizes")
        given = [f"{key}={value!r}" for key, value in _given(dict(self._network_keywords, **self._training_keywords)).items()
                 if key != "layer_sizes"]
        text = f"MLP({', '.join([repr(sizes)] + given)})"
        try:
            kind = self._normalization()[3]
        except ValueError:
            return text + " — no network"
        features = {1: "uint8", 0: "float32"}.get(int(kind))
        if features and self._epochs_trained:
            state = f"trained {self._epochs_trained} epoch{'s' if self._epochs_trained != 1 else ''} on {features} features"
        elif features:
            state = f"fitted on {features} features"
        elif self._loaded:
            state = "weights loaded from a file, not fitted"
        else:
            state = "not fitted"
        return f"{text} — {state}"

    # Copies: copy.copy and copy.deepcopy give an independent model (the network, its optimizer
    # state and the normalisation are copied by the library); pickle keeps the keywords, the
    # weights (the .npz bytes `save` writes) and the normalisation, not the optimizer state.
    def __copy__(self):
        copy = MLP.__new__(MLP)
        copy._setup(None, {})
        copy._network_keywords = dict(self._network_keywords)
        copy._training_keywords = dict(self._training_keywords)
        copy._epochs_trained = self._epochs_trained
        copy._loaded = self._loaded
        copy._output_layer = self._output_layer
        handle = ctypes.c_void_p()
        check(lib.sprig_model_copy(self._handle, ctypes.byref(handle)))
        copy._owner = _Handle(handle.value)
        return copy

    def __deepcopy__(self, memo):
        import copy as _copy
        made = self.__copy__()
        made._network_keywords = _copy.deepcopy(self._network_keywords, memo)
        made._training_keywords = _copy.deepcopy(self._training_keywords, memo)
        return made

    def __getstate__(self):
        import tempfile
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "weights.npz")
            self.save(path)
            with open(path, "rb") as f:
                weights = f.read()
        return {"format": "sprig.MLP 1", "network_keywords": self._network_keywords,
                "training_keywords": self._training_keywords, "layer_sizes": self.layer_sizes,
                "weights": weights, "normalization": self._normalization(),
                "epochs_trained": self._epochs_trained, "loaded": self._loaded, "output_layer": self._output_layer}

    def __setstate__(self, state):
        import tempfile
        if not isinstance(state, dict) or state.get("format") != "sprig.MLP 1":
            raise ValueError("not the state of a sprig.MLP (written by another version?)")
        self._setup(None, {})
        self._network_keywords = dict(state["network_keywords"])
        self._training_keywords = dict(state["training_keywords"])
        self._epochs_trained = state.get("epochs_trained", 0)
        self._loaded = state.get("loaded", False)
        self._output_layer = state.get("output_layer")
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "weights.npz")
            with open(path, "wb") as f:
                f.write(state["weights"])
            network = dict(_given(self._network_keywords), layer_sizes=state["layer_sizes"], load_weights=path)
            network.pop("densities", None)
            network.pop("overall_density", None)   # the file's patterns stand
            self._make(flags(network))
        has, mean, deviation, kind = state["normalization"]
        check(lib.sprig_model_set_normalization(self._handle, int(has), mean, deviation, int(kind)))

    @property
    def layer_sizes(self):
        """The layer sizes the network has now (structured sparsity may have removed neurons)."""
        count = lib.sprig_model_layer_sizes(self._handle, None, 0)
        sizes = (ctypes.c_ssize_t * count)()
        lib.sprig_model_layer_sizes(self._handle, sizes, count)
        return list(sizes)

    def fit(self, x, y, *, epochs=None, batch_size=None, validation=None, callbacks=(), verbose=False, progress=False,
            warm_start=True, comm=None, **keywords):
        """Trains on x (n × d, float32 or uint8: uint8 pixels are read as x/255, as the image
        files are) and labels y (class indices 0 … K − 1, K the last layer size), standardised as
        `sprig train` does; returns the history.

        epochs, batch_size: None takes the model's (`MLP(epochs=…)`, default 10 and 100).
        validation: `(xt, yt)`, evaluated after each epoch (`test_accuracy`, `test_loss`).
        callbacks: each is called with each epoch's metrics dict.
        verbose: prints one line per epoch (`epoch 3/10  loss 0.4121  train 85.10%  validation
          84.02%  1.93 s`). progress: the same line per epoch, plus a bar over each epoch's steps
          when tqdm is installed. Printed by rank 0 only.
        warm_start: True (the default) continues from the model's current weights and optimizer
          state (momentum, Adam's moments): a second `fit` trains on, but its epochs count from 1
          again and the learning-rate schedule (`lr_schedule`) starts again from
          `learning_rate`. The model keeps the standardisation (and kind of features) it has from
          its first fit or its file; x must be of that kind. False first re-initialises
          the network from its keywords and seed (as `MLP(**model.get_params())` would make it),
          so the fit starts from scratch (a new standardisation, either kind of features).
        comm: an mpi4py communicator to train over (a duplicate of it) instead of MPI_COMM_WORLD.
        **keywords: `sprig train`'s training flags (learning_rate=…, prune="set:0.3",
          metrics="m.jsonl" writes each epoch's line as `sprig train --metrics` does), overriding
          the model's for this call; those that define the network belong to `MLP(...)` and
          `dataset`, `data_dir`, `load_weights` have no meaning here: TypeError, as for a
          keyword that does not exist.

        Ctrl-C (SIGINT) or a callback that raises stops after the current step: the model keeps
        what it has trained and KeyboardInterrupt (or the callback's exception) is raised. When
        the loss becomes non-finite, the model goes back to its state at the start of the epoch
        that failed (its last good state) and SprigError says so. The history is one dict per
        epoch (the metrics file's fields), also a pandas DataFrame in `history.frame`. Under
        mpirun every rank passes the full arrays; rank 0's history holds the epochs; a mistake
        in one rank's arguments raises the same error on every rank."""
        if self._fitting:   # refused before any agreement between ranks, as the library refuses it
            raise ValueError("the model is busy with fit (a callback cannot fit the model it is called from)")
        communicator = None
        if comm is not None:
            from mpi4py import MPI
            communicator = MPI._addressof(comm)   # the address of its MPI_Comm handle
        try:
            for key in keywords:
                if key in NETWORK_KEYWORDS:
                    raise TypeError(f"fit got the keyword {key!r}, which defines the network: give it to sprig.MLP(...)")
            _refuse(keywords, "fit()")
            metrics = keywords.pop("metrics", self._training_keywords.get("metrics"))
            if metrics is not None:
                metrics = _path(metrics)
            classes = self.layer_sizes[-1]
            x = _features(x, "x")
            y = _labels(y, x.shape[0], "y", classes)
            if validation is not None:
                if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                    raise TypeError("validation must be a pair (x, y) of arrays")
                xt = _features(validation[0], "validation x")
                if xt.dtype != x.dtype:
                    raise ValueError(f"validation x must have x's dtype ({x.dtype}), not {xt.dtype}")
                if xt.shape[1] != x.shape[1]:
                    raise ValueError(f"validation x has {xt.shape[1]} features per example but x has {x.shape[1]}")
                yt = _labels(validation[1], xt.shape[0], "validation y", classes)
            else:
                xt, yt = np.zeros((0, x.shape[1]), dtype=x.dtype), np.zeros(0, dtype=np.int32)
            # The model's keywords become flags unless left at their defaults; this call's unless None.
            training = _given(self._training_keywords)
            training.update({key: value for key, value in keywords.items() if value is not None})
            if epochs is not None:
                training["epochs"] = epochs
            if batch_size is not None:
                training["batch_size"] = batch_size
            training.pop("metrics", None)
            if not warm_start:   # checked before the network is made again
                self._check(dict(self._network_keywords, **training))
        except (ValueError, TypeError) as error:
            _library.fail_together(error, communicator)   # every rank raises it, not this one alone
        total = training.get("epochs", None if training.get("resume") else TRAINING_DEFAULTS["epochs"])
        if not warm_start:
            self._rebuild("fit(warm_start=False)")
        owner = self._owner   # kept alive while the library uses it
        history = History()
        raised = []
        bar = _ProgressBar(total, bar=progress) if progress or verbose else None

        def report(text, _context):
            try:
                event = json.loads(text.decode())
                kind = event.pop("kind", None)
                if kind == "progress" and bar:
                    bar.update(event)
                elif kind == "data":
                    history.data = event
                elif kind == "epoch":
                    history.append(event)
                    if metrics_file is not None:   # as `sprig train --metrics` writes it
                        metrics_file.write(json.dumps(event, sort_keys=True) + "\n")
                        metrics_file.flush()
                    if bar:
                        bar.epoch(event)
                    for callback in callbacks:
                        callback(event)
                return 0
            except BaseException as error:   # Ctrl-C or a callback's error: stop after this step
                raised.append(error)
                return 1

        callback = _library.CALLBACK(report)
        encoded, count, array = _library.argv(flags(training))
        metrics_file = None
        if metrics is not None and self._is_root(comm):
            try:
                metrics_file = open(metrics, "w")
            except OSError as error:
                _library.fail_together(error if isinstance(error, FileNotFoundError) else ValueError(
                    f"{os.fsdecode(metrics)}: cannot write the metrics: {error.strerror}"), communicator)
        self._fitting = True
        try:
            status = lib.sprig_model_fit(owner.address, count, array,
                                         x.ctypes.data, int(x.dtype == np.uint8), x.shape[0], x.shape[1], y.ctypes.data,
                                         xt.ctypes.data, int(xt.dtype == np.uint8), xt.shape[0], xt.shape[1], yt.ctypes.data,
                                         callback, None, communicator)
        finally:
            self._fitting = False
            self._epochs_trained += len(history)
            if bar:
                bar.close()
            if metrics_file is not None:
                metrics_file.close()
        if raised:
            raise raised[0]
        check(status)
        return history

    @staticmethod
    def _is_root(comm):
        if comm is not None:
            return comm.Get_rank() == 0
        r, n = ctypes.c_ssize_t(), ctypes.c_ssize_t()
        check(lib.sprig_rank(ctypes.byref(r), ctypes.byref(n)))
        return r.value == 0

    def _threads(self, threads):
        return int(threads or self._training_keywords.get("threads") or os.cpu_count() or 1)

    def decision_function(self, x, threads=None):
        """The network's raw outputs for x: an n × K float32 array (logits, unless the layers end
        in Softmax or LogSoftmax), with the last `fit`'s standardisation applied."""
        x = _features(x, "x")
        sizes = self.layer_sizes
        out = np.empty((x.shape[0], sizes[-1]), dtype=np.float32)
        check(lib.sprig_model_predict(self._handle, x.ctypes.data, int(x.dtype == np.uint8), x.shape[0], x.shape[1],
                                      out.ctypes.data, self._threads(threads)))
        return out

    def predict(self, x, threads=None):
        """The class of each example of x: an int64 vector, the index of its largest output
        (`decision_function(x).argmax(axis=1)`)."""
        return np.argmax(self.decision_function(x, threads), axis=1).astype(np.int64)

    def _last_layer(self):
        """'softmax' or 'logsoftmax' when the network ends in one (its `layers` keyword, or the
        layer list of the file it was loaded from), else None."""
        if getattr(self, "_output_layer", None):
            return self._output_layer
        layers = self._network_keywords.get("layers")
        if not isinstance(layers, str) or not layers.strip():
            return None
        last = layers.split(";")[-1].strip().split("(")[0].strip().lower()
        return last if last in ("softmax", "logsoftmax") else None

    def predict_proba(self, x, threads=None):
        """The class probabilities of each example of x: an n × K float32 array whose rows sum to
        1 — the softmax of the outputs (computed in float64), the outputs themselves when the
        layers end in Softmax, their exp when they end in LogSoftmax."""
        out = self.decision_function(x, threads).astype(np.float64)
        last = self._last_layer()
        if last == "softmax":
            p = np.clip(out, 0, None)
        elif last == "logsoftmax":
            p = np.exp(out)
        else:
            p = np.exp(out - out.max(axis=1, keepdims=True))
        if p.shape[0]:
            p /= p.sum(axis=1, keepdims=True)
        return p.astype(np.float32)

    def score(self, x, y, sample_weight=None):
        """The accuracy on x and its labels y: the fraction of examples whose predicted class is
        their label (weighted by `sample_weight` when given), as scikit-learn's classifiers score."""
        x = _features(x, "x")
        y = _labels(y, x.shape[0], "y", self.layer_sizes[-1])
        if not x.shape[0]:
            raise ValueError("score needs at least one example")
        return float(np.average(self.predict(x) == y, weights=sample_weight))

    def evaluate(self, x, y, threads=None):
        """{"loss": the mean of the configured loss, "accuracy": the fraction of x whose largest
        output is its label}, computed by the library as after each training epoch."""
        x = _features(x, "x")
        y = _labels(y, x.shape[0], "y", self.layer_sizes[-1])
        keywords = _given(self._training_keywords)
        if threads:
            keywords["threads"] = threads
        encoded, count, array = _library.argv(flags(keywords))
        result = (ctypes.c_double * 2)()
        check(lib.sprig_model_evaluate(self._handle, count, array, x.ctypes.data, int(x.dtype == np.uint8), x.shape[0],
                                       x.shape[1], y.ctypes.data, result))
        return {"loss": result[0], "accuracy": result[1]}

    def save(self, path):
        """Writes the weights as `sprig train --save-weights` does (SciPy CSR arrays per sparse layer)."""
        check(lib.sprig_model_save(self._handle, _path(path)))

    def weights(self):
        """[(W, b)] per linear layer, copies: W a SciPy CSR matrix (K × D) for a sparse layer, a
        NumPy array for a dense one; b a NumPy vector. (Read back from a temporary weights file.)"""
        import tempfile
        import scipy.sparse
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "weights.npz")
            self.save(path)
            with np.load(path) as w:
                layers = []
                for k in range(1, len(self.layer_sizes)):
                    if f"W{k}.data" in w.files:
                        matrix = scipy.sparse.csr_matrix((w[f"W{k}.data"], w[f"W{k}.indices"], w[f"W{k}.indptr"]),
                                                         shape=tuple(w[f"W{k}.shape"]))
                    else:
                        matrix = w[f"W{k}"].copy()
                    layers.append((matrix, w[f"b{k}"].copy()))
        return layers

    @classmethod
    def load(cls, path, layer_sizes=None, **keywords):
        """A model with the weights (and patterns) in `path`. A library whose weights files
        describe their network builds it from the file alone (layer sizes, normalisation, the
        kind of features); `layer_sizes` and the network keywords given (layers=…, …) are then
        checked against the file's, and one that differs is refused naming both. An older
        library needs `layer_sizes` (and the keywords the network was made with). Training
        keywords become the defaults of `fit`, as for `MLP(...)`."""
        _refuse(keywords, "MLP.load()")
        sizes = None if layer_sizes is None else _sizes(layer_sizes)
        given = {key: value for key, value in keywords.items() if value is not None}
        model = cls.__new__(cls)
        model._setup(sizes, dict(DEFAULTS, **keywords))
        network = {key: value for key, value in given.items() if key in NETWORK_KEYWORDS}
        if sizes is not None:   # a mistyped keyword now, not at the first fit
            model._check(dict(given, layer_sizes=sizes))
        else:
            model._check({key: value for key, value in given.items() if key not in NETWORK_KEYWORDS})
        network_flags = (["--layer-sizes", ",".join(map(str, sizes))] if sizes is not None else []) + flags(network)
        try:
            model._make(network_flags + ["--load-weights", os.fsdecode(_path(path))])
        except _library.SprigError as error:
            if sizes is None and "layer_sizes gives" in str(error):
                raise ValueError(f"{error} (this library cannot read the layer sizes from the file: give them, "
                                 f"sprig.MLP.load(path, [784, …, 10]))") from error
            raise
        model._network_keywords["layer_sizes"] = model.layer_sizes
        model._loaded = True
        model._output_layer = _described_output_layer(path)
        return model


def _described_output_layer(path):
    """'softmax' or 'logsoftmax' when the model file's description (`sprig_model.json`, written
    by a library whose files describe themselves) ends its layer list in one, else None."""
    try:
        with np.load(path) as w:
            if "sprig_model.json" not in w.files:
                return None
            description = json.loads(bytes(w["sprig_model.json"]).decode("utf-8"))
        last = description["network"]["layers"][-1]
        name = next(iter(last)).lower() if isinstance(last, dict) and len(last) == 1 else None
        return name if name in ("softmax", "logsoftmax") else None
    except Exception:   # not a description this version reads: the `layers` keyword decides
        return None


class _ProgressBar:
    """One line per epoch (`_epoch_line`); with `bar`, tqdm's bar over each epoch's steps too
    when tqdm is installed."""

    def __init__(self, epochs, bar=True):
        self.epochs = epochs
        self.tqdm = None
        if bar:
            try:
                from tqdm.auto import tqdm
                self.tqdm = tqdm
            except ImportError:
                pass
        self.bar = None
        self.current = None

    def update(self, event):
        if self.tqdm is None:
            return
        if self.bar is None or self.current != event["epoch"]:
            if self.bar is not None:
                self.bar.close()
            self.current = event["epoch"]
            desc = f"epoch {event['epoch']}" + (f"/{self.epochs}" if self.epochs else "")
            self.bar = self.tqdm(total=event["total"], desc=desc, leave=False)
        self.bar.update(event["done"] - self.bar.n)

    def epoch(self, event):
        line = _epoch_line(event, self.epochs)
        if self.tqdm is not None:
            self.close()
            self.tqdm.write(line)
        else:
            print(line, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class History(list):
    """The per-epoch metrics: a list of dicts; `frame` is a pandas DataFrame of them. `data`
    says how the library read the training features: {"borrowed": True, "address": A} when it
    read the array in place (uint8), {"borrowed": False} when it copied it (float32)."""

    data = None

    @property
    def frame(self):
        try:
            import pandas
        except ImportError:
            raise ImportError("history.frame needs pandas (pip install pandas); history is also a plain list of dicts") \
                from None
        return pandas.DataFrame(list(self))
