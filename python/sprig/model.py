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
# `sprig train` flags that have no meaning for arrays given from Python: refused, never ignored.
REFUSED_KEYWORDS = {
    "dataset": "fit trains on the arrays it is given",
    "data_dir": "fit trains on the arrays it is given",
    "load_weights": "load a model with sprig.MLP.load(path, layer_sizes, ...)",
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


def _labels(y, n, name):
    """y as a C-contiguous int32 vector of n class indices (checked before the cast, so that no
    value wraps into range; the library checks them against the number of classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must hold one label per example ({n}), not shape {y.shape}")
    if y.dtype.kind not in "uif":
        raise TypeError(f"{name} must hold class indices (integers 0, 1, …), not dtype {y.dtype}")
    if y.size:
        if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (np.mod(y, 1) == 0)):
            raise ValueError(f"{name} must hold whole class indices")
        if y.min() < 0 or y.max() > np.iinfo(np.int32).max:
            raise ValueError(f"{name}: label {y.min() if y.min() < 0 else y.max()} is not a class index")
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


class MLP:
    """A sparse MLP: `MLP([784, 1024, 512, 10], overall_density=0.01, layers="ReLU;ReLU;Linear",
    optimizer="nesterov:0.9", learning_rate=0.1, seed=1)`. Keywords are `sprig train`'s flags
    with underscores (README, "sprig train flags"); those that define the network are kept,
    the training ones are defaults for `fit`."""

    def __init__(self, layer_sizes, **keywords):
        _refuse(keywords, "MLP()")
        self._network_keywords = {"layer_sizes": _sizes(layer_sizes)}
        self._training_keywords = {}
        for key, value in keywords.items():
            (self._network_keywords if key in NETWORK_KEYWORDS else self._training_keywords)[key] = value
        self._owner = None
        encoded, count, array = _library.argv(flags(dict(self._network_keywords, **self._training_keywords)))
        check(lib.sprig_check_flags(count, array))
        self._make(flags(self._network_keywords))

    def _make(self, network_flags):
        encoded, count, array = _library.argv(network_flags)
        handle = ctypes.c_void_p()
        check(lib.sprig_model_new(count, array, ctypes.byref(handle)))
        self._owner = _Handle(handle.value)

    @property
    def _handle(self):
        owner = getattr(self, "_owner", None)
        if owner is None or not owner.address:
            raise ValueError("this model has no network (it was never made)")
        return owner.address

    # Copies: copy.copy and copy.deepcopy give an independent model (the network, its optimizer
    # state and the normalisation are copied by the library); pickle keeps the keywords, the
    # weights (the .npz bytes `save` writes) and the normalisation, not the optimizer state.
    def __copy__(self):
        copy = MLP.__new__(MLP)
        copy._network_keywords = dict(self._network_keywords)
        copy._training_keywords = dict(self._training_keywords)
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
        values = (ctypes.c_double * 4)()
        check(lib.sprig_model_get_normalization(self._handle, values))
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "weights.npz")
            self.save(path)
            with open(path, "rb") as f:
                weights = f.read()
        return {"format": "sprig.MLP 1", "network_keywords": self._network_keywords,
                "training_keywords": self._training_keywords, "layer_sizes": self.layer_sizes,
                "weights": weights, "normalization": list(values)}

    def __setstate__(self, state):
        import tempfile
        if not isinstance(state, dict) or state.get("format") != "sprig.MLP 1":
            raise ValueError("not the state of a sprig.MLP (written by another version?)")
        self._network_keywords = dict(state["network_keywords"])
        self._training_keywords = dict(state["training_keywords"])
        self._owner = None
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "weights.npz")
            with open(path, "wb") as f:
                f.write(state["weights"])
            network = dict(self._network_keywords, layer_sizes=state["layer_sizes"], load_weights=path)
            network.pop("densities", None)
            network.pop("overall_density", None)   # the file's patterns stand
            self._make(flags(network))
        has, mean, deviation, kind = state["normalization"]
        check(lib.sprig_model_set_normalization(self._handle, int(has), mean, deviation, int(kind)))

    @property
    def layer_sizes(self):
        count = lib.sprig_model_layer_sizes(self._handle, None, 0)
        sizes = (ctypes.c_ssize_t * count)()
        lib.sprig_model_layer_sizes(self._handle, sizes, count)
        return list(sizes)

    def fit(self, x, y, *, epochs=10, batch_size=100, validation=None, callbacks=(), verbose=False, progress=False,
            comm=None, **keywords):
        """Trains on x (n × d, float32 or uint8: uint8 pixels are read as x/255, as the image
        files are) and labels y, standardised as `sprig train` does. `validation=(xt, yt)` is
        evaluated after each epoch; each callback is called with each epoch's metrics dict;
        `progress=True` shows a progress bar (tqdm when installed); `metrics="m.jsonl"` writes
        each epoch's line as `sprig train --metrics` does. Keywords are `sprig train`'s training
        flags (those that define the network belong to `MLP(...)`; `dataset`, `data_dir` and
        `load_weights` have no meaning here): one that is not honoured raises TypeError.
        Ctrl-C (SIGINT) or a callback that raises stops after the current step: the model keeps
        what it has trained and KeyboardInterrupt (or the callback's exception) is raised. When
        the loss becomes non-finite, the model goes back to its state at the start of the epoch
        that failed (its last good state) and SprigError says so. Returns the history: one dict
        per epoch (the metrics file's fields), also as a pandas DataFrame in `history.frame` when
        pandas is installed. Under mpirun, every rank passes the full arrays; rank 0's history
        holds the epochs; a mistake in one rank's arguments raises the same error on every rank.
        `comm`: an mpi4py communicator to train over (a duplicate of it) instead of MPI_COMM_WORLD."""
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
            x = _features(x, "x")
            y = _labels(y, x.shape[0], "y")
            if validation is not None:
                if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                    raise TypeError("validation must be a pair (x, y) of arrays")
                xt = _features(validation[0], "validation x")
                if xt.dtype != x.dtype:
                    raise ValueError(f"validation x must have x's dtype ({x.dtype}), not {xt.dtype}")
                if xt.shape[1] != x.shape[1]:
                    raise ValueError(f"validation x has {xt.shape[1]} features per example but x has {x.shape[1]}")
                yt = _labels(validation[1], xt.shape[0], "validation y")
            else:
                xt, yt = np.zeros((0, x.shape[1]), dtype=x.dtype), np.zeros(0, dtype=np.int32)
        except (ValueError, TypeError) as error:
            _library.fail_together(error, communicator)   # every rank raises it, not this one alone
        training = dict(self._training_keywords, epochs=epochs, batch_size=batch_size, **keywords)
        training.pop("metrics", None)
        history = History()
        raised = []
        bar = _ProgressBar(epochs) if progress else None

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
                    if verbose:
                        print(f"epoch {event['epoch']}  loss {event['loss']:.4f}  train {100 * event['train_accuracy']:.2f}%"
                              + (f"  validation {100 * event['test_accuracy']:.2f}%"
                                 if event.get("test_accuracy") is not None else ""))
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
        try:
            status = lib.sprig_model_fit(self._handle, count, array,
                                         x.ctypes.data, int(x.dtype == np.uint8), x.shape[0], x.shape[1], y.ctypes.data,
                                         xt.ctypes.data, int(xt.dtype == np.uint8), xt.shape[0], xt.shape[1], yt.ctypes.data,
                                         callback, None, communicator)
        finally:
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

    def predict(self, x, threads=None):
        """The network's outputs for x (n × K floats; logits unless the layers end in a softmax)."""
        x = _features(x, "x")
        sizes = self.layer_sizes
        out = np.empty((x.shape[0], sizes[-1]), dtype=np.float32)
        check(lib.sprig_model_predict(self._handle, x.ctypes.data, int(x.dtype == np.uint8), x.shape[0], x.shape[1],
                                      out.ctypes.data, threads or os.cpu_count() or 1))
        return out

    def evaluate(self, x, y, threads=None):
        """{"loss": the mean of the configured loss, "accuracy": the fraction of x whose largest
        output is its label}, computed by the library as after each training epoch."""
        x = _features(x, "x")
        y = _labels(y, x.shape[0], "y")
        keywords = dict(self._training_keywords)
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
    def load(cls, path, layer_sizes, **keywords):
        """A model with the weights (and patterns) in `path`, for the network `layer_sizes` and keywords."""
        _refuse(keywords, "MLP.load()")
        model = cls.__new__(cls)
        model._network_keywords = {"layer_sizes": _sizes(layer_sizes)}
        model._training_keywords = {}
        for key, value in keywords.items():
            (model._network_keywords if key in NETWORK_KEYWORDS else model._training_keywords)[key] = value
        model._owner = None
        encoded, count, array = _library.argv(flags(dict(model._network_keywords, **model._training_keywords)))
        check(lib.sprig_check_flags(count, array))   # a mistyped keyword now, not at the first fit
        model._make(flags(dict(model._network_keywords, load_weights=os.fsdecode(_path(path)))))
        return model


class _ProgressBar:
    """tqdm's bar over the steps of each epoch when tqdm is installed, else a line per epoch."""

    def __init__(self, epochs):
        self.epochs = epochs
        try:
            from tqdm.auto import tqdm
            self.tqdm = tqdm
        except ImportError:
            self.tqdm = None
        self.bar = None

    def update(self, event):
        if self.tqdm is None:
            return
        if self.bar is None or self.bar.desc != f"epoch {event['epoch']}/{self.epochs}":
            if self.bar is not None:
                self.bar.close()
            self.bar = self.tqdm(total=event["total"], desc=f"epoch {event['epoch']}/{self.epochs}", leave=False)
        self.bar.update(event["done"] - self.bar.n)

    def epoch(self, event):
        if self.tqdm is None:
            test = event.get("test_accuracy")
            print(f"epoch {event['epoch']}/{self.epochs}  loss {event['loss']:.4f}"
                  + (f"  validation {100 * test:.2f}%" if test is not None else ""), flush=True)

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
        import pandas
        return pandas.DataFrame(list(self))
