"""Python manners (issue 26): a real signature with the library's defaults, scikit-learn's
predict / predict_proba / decision_function / score / get_params / set_params, a repr that
says what the model is, fit's warm_start, one progress style, errors that name the argument,
MNIST and CIFAR-10 readers, and MLP.load from a self-describing file. Each against an
independent reference: NumPy (softmax, argmax, accuracy), the command line, the README."""

import ctypes
import gzip
import inspect
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import sprig
from sprig import _library
from sprig.model import NETWORK_DEFAULTS, TRAINING_DEFAULTS, _epoch_line, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZES = [784, 32, 10]
NETWORK = dict(overall_density=0.1, seed=3)


@pytest.fixture(scope="module")
def small(fashion):
    (x, y), (xt, yt) = fashion
    return x[:1000], y[:1000], xt[:200], yt[:200]


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def saved(model, path):
    model.save(path)
    with np.load(path) as w:
        return {name: w[name].copy() for name in w.files}


def same_weights(a, b):
    """The same arrays, bit for bit (the file's description of the network aside)."""
    a, b = ({name: v for name, v in w.items() if not name.startswith("sprig_")} for w in (a, b))
    assert sorted(a) == sorted(b)
    return all(a[name].tobytes() == b[name].tobytes() for name in a)


# 1. the signature

def test_the_signature_lists_the_settings_with_the_readmes_defaults():
    parameters = inspect.signature(sprig.MLP).parameters
    for name in ("layer_sizes", "densities", "overall_density", "layers", "activation", "output_activation", "dropouts",
                 "initializer", "fan_in", "seed", "optimizer", "learning_rate", "lr_schedule", "weight_decay", "loss",
                 "batch_size", "epochs", "threads", "keywords"):
        assert name in parameters, name
    assert parameters["keywords"].kind is inspect.Parameter.VAR_KEYWORD
    assert "overall_density" in sprig.MLP.__doc__ and "warm_start" in sprig.MLP.fit.__doc__
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    table = dict(re.findall(r"^\| `--([a-z-]+)[^`]*` \| `([^`]+)` \|", readme, flags=re.M))
    checked = 0
    for name, parameter in parameters.items():
        flag = name.replace("_", "-")
        if parameter.default in (None, inspect.Parameter.empty) or flag not in table:
            continue
        documented = table[flag]
        assert str(parameter.default) == documented or float(parameter.default) == float(documented), \
            f"{name}={parameter.default!r} but README's table says {documented}"
        checked += 1
    assert checked >= 12, checked


def test_the_defaults_are_the_librarys(small):
    """Every default of the signature, given to the library as a flag, trains bitwise as no flag."""
    x, y, xt, yt = small
    plain = sprig.MLP(SIZES, **NETWORK)
    explicit = sprig.MLP(SIZES, **NETWORK)
    network = {key: value for key, value in NETWORK_DEFAULTS.items() if value is not None}
    explicit._make(flags(dict(network, layer_sizes=SIZES, **NETWORK)))
    assert "--activation" in flags(network) and "--fan-in" in flags(network)
    training = {key: value for key, value in TRAINING_DEFAULTS.items() if value is not None and key != "grow"}
    plain.fit(x, y, epochs=1, threads=2)
    explicit.fit(x, y, threads=2, **dict(training, epochs=1))   # fit's own keywords are passed unless None
    assert np.array_equal(plain.decision_function(xt), explicit.decision_function(xt))


def test_keywords_left_at_their_defaults_or_none_are_not_flags():
    model = sprig.MLP(SIZES, activation="relu", densities=None, learning_rate=0.01, threads=None, **NETWORK)
    assert model._network_flags() == ["--layer-sizes", "784,32,10", "--overall-density", "0.1", "--seed", "3"]
    with pytest.raises(TypeError, match="no_such_flag"):
        sprig.MLP(SIZES, no_such_flag=1)
    with pytest.raises(TypeError, match="layer_sizes must be a list of integers"):
        sprig.MLP("784,10")


def test_the_models_epochs_and_batch_size_are_fits_defaults(small):
    x, y, _, _ = small
    assert [e["epoch"] for e in sprig.MLP(SIZES, epochs=3, **NETWORK).fit(x, y, threads=2)] == [1, 2, 3]
    assert len(sprig.MLP(SIZES, epochs=3, **NETWORK).fit(x, y, epochs=1, threads=2)) == 1


# 2. predict, predict_proba, decision_function, score

def test_predict_proba_predict_and_score_against_numpy(small):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x, y, epochs=2, threads=2)
    outputs = model.decision_function(xt)
    probabilities = model.predict_proba(xt)
    assert probabilities.dtype == np.float32 and probabilities.shape == (200, 10)
    np.testing.assert_allclose(probabilities, softmax(outputs), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    classes = model.predict(xt)
    assert classes.dtype == np.int64
    np.testing.assert_array_equal(classes, outputs.argmax(axis=1))
    accuracy = float(np.mean(outputs.argmax(axis=1) == yt))
    assert model.score(xt, yt) == pytest.approx(accuracy)
    assert model.score(xt, yt) == pytest.approx(model.evaluate(xt, yt)["accuracy"])
    weights = np.linspace(0, 1, len(yt))
    assert model.score(xt, yt, sample_weight=weights) == pytest.approx(np.average(classes == yt, weights=weights))
    assert model.predict(xt[:0]).shape == (0,)
    with pytest.raises(ValueError, match="y: label 10 is not a class index 0 … 9"):
        model.score(xt, np.full(len(yt), 10))


def test_predict_proba_does_not_apply_a_softmax_twice(small):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, layers="ReLU;Softmax", loss="cross-entropy", **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    outputs = model.decision_function(xt).astype(np.float64)
    np.testing.assert_allclose(outputs.sum(axis=1), 1, atol=1e-5)   # the network gives probabilities
    probabilities = model.predict_proba(xt)
    np.testing.assert_allclose(probabilities, outputs / outputs.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-7)
    assert np.abs(probabilities - softmax(outputs)).max() > 1e-3, "a second softmax would flatten them"
    logs = sprig.MLP(SIZES, layers="ReLU;LogSoftmax", loss="negative-log-likelihood", **NETWORK)
    logs.fit(x, y, epochs=1, threads=2)
    outputs = logs.decision_function(xt).astype(np.float64)
    assert outputs.max() <= 1e-6
    np.testing.assert_allclose(logs.predict_proba(xt), np.exp(outputs) / np.exp(outputs).sum(axis=1, keepdims=True),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(logs.predict_proba(xt).sum(axis=1), 1, atol=1e-6)


# 3. repr, get_params, set_params

def test_repr_says_the_sizes_the_keywords_given_and_whether_fitted(small):
    x, y, _, _ = small
    model = sprig.MLP(SIZES, learning_rate=0.1, **NETWORK)
    assert repr(model) == "MLP([784, 32, 10], overall_density=0.1, seed=3, learning_rate=0.1) — not fitted"
    model.fit(x, y, epochs=2, threads=2)
    assert repr(model) == "MLP([784, 32, 10], overall_density=0.1, seed=3, learning_rate=0.1) — trained 2 epochs on uint8 features"
    model.fit(x, y, epochs=1, threads=2)
    assert repr(model).endswith("— trained 3 epochs on uint8 features")
    model.fit(x.astype(np.float32) / 255, y, epochs=1, threads=2, warm_start=False)
    assert repr(model).endswith("— trained 1 epoch on float32 features")
    assert repr(sprig.MLP([784, 10])) == "MLP([784, 10]) — not fitted"


def test_get_params_makes_the_same_model_and_set_params_follows_sklearn(small, tmp_path):
    x, y, xt, _ = small
    model = sprig.MLP(SIZES, learning_rate=0.05, group_lasso=0, **NETWORK)
    params = model.get_params()
    assert params["layer_sizes"] == SIZES and params["overall_density"] == 0.1 and params["seed"] == 3
    assert params["learning_rate"] == 0.05 and params["activation"] == "relu" and params["group_lasso"] == 0
    assert set(inspect.signature(sprig.MLP).parameters) - {"keywords"} <= set(params)
    assert same_weights(saved(sprig.MLP(**params), tmp_path / "a.npz"), saved(model, tmp_path / "b.npz"))
    # a network keyword on an untrained model: rebuilt from its seed
    assert model.set_params(seed=4, learning_rate=0.1) is model
    assert same_weights(saved(model, tmp_path / "c.npz"), saved(sprig.MLP(SIZES, overall_density=0.1, seed=4), tmp_path / "d.npz"))
    assert model.get_params()["seed"] == 4 and model.get_params()["learning_rate"] == 0.1
    model.set_params(layer_sizes=[784, 16, 10])
    assert model.layer_sizes == [784, 16, 10]
    # a training keyword just changes fit's default: the same run as when given to MLP(...)
    model.fit(x, y, epochs=1, threads=2)
    reference = sprig.MLP([784, 16, 10], overall_density=0.1, seed=4, learning_rate=0.1)
    reference.fit(x, y, epochs=1, threads=2)
    assert np.array_equal(model.decision_function(xt), reference.decision_function(xt))
    model.set_params(learning_rate=0.2, epochs=1)
    assert model.get_params()["learning_rate"] == 0.2
    with pytest.raises(ValueError, match="already built"):
        model.set_params(overall_density=0.2)
    with pytest.raises(ValueError, match="already built"):
        model.set_params(layer_sizes=SIZES)
    model.set_params(seed=4)   # the same value changes nothing
    with pytest.raises(TypeError, match="no_such_keyword"):
        model.set_params(learning_rate=0.3, no_such_keyword=1)
    assert model.get_params()["learning_rate"] == 0.2, "a refused set_params changes nothing"
    with pytest.raises(ValueError, match="overall_density"):
        sprig.MLP(SIZES, **NETWORK).set_params(overall_density=2)


# 4. fit twice: warm_start

def test_a_second_fit_continues_and_warm_start_false_starts_again(small, tmp_path):
    x, y, xt, _ = small
    one = sprig.MLP(SIZES, lr_schedule="exponential:0.5", **NETWORK)
    first = one.fit(x, y, epochs=2, threads=2)
    after_one = one.decision_function(xt)
    standardisation = one._normalization()
    second = one.fit(x[500:], y[500:], epochs=1, threads=2)
    assert one._normalization() == standardisation, "the model keeps the standardisation of its first fit"
    second = one.fit(x, y, epochs=1, threads=2)
    assert [e["epoch"] for e in second] == [1], "the epochs count from 1 again"
    assert [e["learning_rate"] for e in first] == pytest.approx([0.01, 0.005])
    assert second[0]["learning_rate"] == pytest.approx(0.01), "the schedule starts again"
    assert not np.array_equal(one.decision_function(xt), after_one), "it trained on from the weights it had"
    fresh = sprig.MLP(SIZES, lr_schedule="exponential:0.5", **NETWORK)
    fresh.fit(x, y, epochs=1, threads=2)
    assert not same_weights(saved(one, tmp_path / "one.npz"), saved(fresh, tmp_path / "fresh.npz"))
    again = one.fit(x, y, epochs=1, threads=2, warm_start=False)
    assert same_weights(saved(one, tmp_path / "again.npz"), saved(fresh, tmp_path / "fresh.npz")), \
        "warm_start=False trains from the seed's initial network"
    assert again[0]["loss"] == pytest.approx(first[0]["loss"])
    assert repr(one).endswith("trained 1 epoch on uint8 features")
    with pytest.raises(ValueError, match="learning_rate"):
        one.fit(x, y, epochs=1, warm_start=False, learning_rate=-1)
    assert same_weights(saved(one, tmp_path / "kept.npz"), saved(fresh, tmp_path / "fresh.npz")), \
        "a refused fit does not re-initialise the model"


# 5. one progress style

def test_verbose_and_progress_print_the_same_line_per_epoch(small, capsys, monkeypatch):
    x, y, xt, yt = small
    monkeypatch.setitem(sys.modules, "tqdm", None)   # the fallback when tqdm is not installed
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    history = sprig.MLP(SIZES, **NETWORK).fit(x, y, epochs=2, threads=2, validation=(xt, yt), verbose=True)
    verbose = capsys.readouterr().out.splitlines()
    assert verbose == [_epoch_line(event, 2) for event in history]
    assert re.fullmatch(r"epoch 1/2  loss \d\.\d{4}  train \d+\.\d\d%  validation \d+\.\d\d%  \S+ s", verbose[0]), verbose
    sprig.MLP(SIZES, **NETWORK).fit(x, y, epochs=2, threads=2, validation=(xt, yt), progress=True)
    progress = capsys.readouterr().out.splitlines()
    sprig.MLP(SIZES, **NETWORK).fit(x, y, epochs=2, threads=2, validation=(xt, yt), progress=True, verbose=True)
    both = capsys.readouterr().out.splitlines()

    def timeless(lines):
        return [re.sub(r"  \S+ s$", "", line) for line in lines]

    assert timeless(progress) == timeless(verbose) == timeless(both)


# 6. history.frame without pandas

def test_history_frame_without_pandas_says_so(small, monkeypatch):
    x, y, _, _ = small
    history = sprig.MLP(SIZES, **NETWORK).fit(x[:200], y[:200], epochs=1, threads=2)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"history.frame needs pandas \(pip install pandas\); history is also a plain list"):
        history.frame
    assert history[0]["epoch"] == 1


# 7. errors in Python's terms

def test_labels_are_checked_against_the_classes_naming_the_argument(small):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    with pytest.raises(ValueError) as error:
        model.fit(x, np.where(np.arange(len(y)) == 7, 14, y), epochs=1)
    assert str(error.value) == "y: label 14 is not a class index 0 … 9 (the network has 10 outputs)"
    with pytest.raises(ValueError, match=r"^validation y: label -1 is not a class index 0 … 9"):
        model.fit(x, y, epochs=1, validation=(xt, np.full(len(yt), -1)))
    with pytest.raises(ValueError, match=r"^y: label 3 is not a class index 0 … 2 \(the network has 3 outputs\)"):
        sprig.MLP([784, 8, 3], **NETWORK).fit(x, np.full(len(y), 3.0), epochs=1)
    with pytest.raises(ValueError, match=r"^y: label 10 is not a class index"):
        model.evaluate(xt, np.full(len(yt), 10))
    assert not model.fitted, "nothing reached the library"


# 8. data sets

def write_idx(path, array, compress=False):
    array = np.asarray(array, dtype=np.uint8)
    data = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def fake_mnist(directory, train=300, test=60):
    rng = np.random.default_rng(7)
    os.makedirs(directory, exist_ok=True)
    data = {}
    for prefix, n, compress in (("train", train, True), ("t10k", test, False)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28)) + (labels[:, None, None] * 20) * (np.arange(28) % 10 == labels[:, None, None])
        write_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte" + (".gz" if compress else "")), images, compress)
        write_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte" + (".gz" if compress else "")), labels, compress)
        data[prefix] = (images.astype(np.uint8), labels)
    return data


def fake_cifar(directory, per_batch=40, test=50):
    rng = np.random.default_rng(11)
    os.makedirs(directory, exist_ok=True)
    data = {}
    for name, n in [(f"data_batch_{k}.bin", per_batch) for k in range(1, 6)] + [("test_batch.bin", test)]:
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)   # channel, row, column
        images[:, 0, 0, :10] = labels[:, None] * 25                       # a red stripe that says the class
        records = np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1)
        (directory / name).write_bytes(records.tobytes())
        data[name] = (images, labels)
    return data


def cli_weights(sprig_binary, tmp_path, dataset, directory, sizes):
    out = tmp_path / f"{dataset}-cli.npz"
    result = subprocess.run([sprig_binary, "train", "--dataset", dataset, "--data-dir", str(directory), "--layer-sizes",
                             ",".join(map(str, sizes)), "--overall-density", "0.1", "--seed", "3", "--epochs", "1",
                             "--threads", "2", "--save-weights", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with np.load(out) as w:
        return {name: w[name].copy() for name in w.files}


def test_mnist_reads_idx_files_as_the_command_line_does(tmp_path, sprig_binary, monkeypatch):
    data = fake_mnist(tmp_path / "mnist")
    (x, y), (xt, yt) = sprig.datasets.mnist(tmp_path / "mnist")
    assert x.dtype == np.uint8 and x.shape == (300, 784) and xt.shape == (60, 784) and y.dtype == np.int32
    np.testing.assert_array_equal(x, data["train"][0].reshape(300, 784))
    np.testing.assert_array_equal(yt, data["t10k"][1])
    model = sprig.MLP([784, 16, 10], **NETWORK)
    model.fit(x, y, epochs=1, threads=2, validation=(xt, yt))
    assert same_weights(saved(model, tmp_path / "python.npz"),
                        cli_weights(sprig_binary, tmp_path, "mnist", tmp_path / "mnist", [784, 16, 10]))
    os.remove(tmp_path / "mnist" / "t10k-labels-idx1-ubyte")
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        sprig.datasets.mnist(tmp_path / "mnist")
    with pytest.raises(FileNotFoundError, match="path="):
        sprig.datasets.mnist(tmp_path / "nowhere")
    monkeypatch.setenv("SPRIG_DATA", str(tmp_path / "home"))   # the default: where sprig train looks
    with pytest.raises(FileNotFoundError, match=r"home/mnist: MNIST data directory not found.*yann\.lecun\.com"):
        sprig.datasets.mnist()
    fake_mnist(tmp_path / "home" / "mnist", train=20, test=10)
    assert sprig.datasets.mnist()[0][0].shape == (20, 784)
    monkeypatch.delenv("SPRIG_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert sprig.datasets.data_home() == str(tmp_path / "xdg" / "sprig")


def test_cifar10_reads_the_binary_batches_in_the_loaders_order(tmp_path, sprig_binary, monkeypatch):
    folder = tmp_path / "cifar" / "cifar-10-batches-bin"
    data = fake_cifar(folder)
    (x, y), (xt, yt) = sprig.datasets.cifar10(tmp_path / "cifar")   # the archive's subdirectory is found
    assert x.dtype == np.uint8 and x.shape == (200, 3072) and xt.shape == (50, 3072) and y.dtype == np.int32
    images = np.concatenate([data[f"data_batch_{k}.bin"][0] for k in range(1, 6)])
    np.testing.assert_array_equal(x.reshape(-1, 3, 32, 32), images)   # channel-major: red, green, blue planes
    assert x[0, 1024 + 32 * 2 + 5] == images[0, 1, 2, 5]
    np.testing.assert_array_equal(y, np.concatenate([data[f"data_batch_{k}.bin"][1] for k in range(1, 6)]))
    np.testing.assert_array_equal(yt, data["test_batch.bin"][1])
    model = sprig.MLP([3072, 16, 10], **NETWORK)
    model.fit(x, y, epochs=1, threads=2, validation=(xt, yt))
    assert same_weights(saved(model, tmp_path / "python.npz"),
                        cli_weights(sprig_binary, tmp_path, "cifar10", folder, [3072, 16, 10]))
    os.remove(folder / "data_batch_4.bin")
    with pytest.raises(FileNotFoundError, match=r"data_batch_4\.bin.*cifar-10-binary\.tar\.gz"):
        sprig.datasets.cifar10(folder)
    (folder / "data_batch_4.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(sprig.SprigError, match="3073"):
        sprig.datasets.cifar10(folder)
    monkeypatch.setenv("SPRIG_DATA", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match=r"home/cifar-10-batches-bin: .*mkdir -p .*home && curl -L "
                                                r"https://www\.cs\.toronto\.edu/~kriz/cifar-10-binary\.tar\.gz"):
        sprig.datasets.cifar10()
    fake_cifar(tmp_path / "home" / "cifar-10-batches-bin", per_batch=2, test=3)
    assert sprig.datasets.cifar10()[1][0].shape == (3, 3072)


# 9. MLP.load from a self-describing file

def library_reads_layer_sizes_from_files():
    """Whether sprig_model_new builds a model from --load-weights alone (the file's sizes)."""
    model = sprig.MLP([784, 16, 10], overall_density=0.2, seed=2)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "w.npz")
        model.save(path)
        encoded, count, array = _library.argv(["--load-weights", path])
        handle = ctypes.c_void_p()
        if _library.lib.sprig_model_new(count, array, ctypes.byref(handle)) != 0:
            return False
        try:
            sizes = (ctypes.c_ssize_t * 3)()
            return _library.lib.sprig_model_layer_sizes(handle.value, sizes, 3) == 3 and list(sizes) == [784, 16, 10]
        finally:
            _library.lib.sprig_model_free(handle.value)


SELF_DESCRIBING = library_reads_layer_sizes_from_files()


@pytest.mark.skipif(not SELF_DESCRIBING, reason="library without self-describing files")
def test_load_builds_the_model_from_the_file_alone(small, tmp_path):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    model.save(tmp_path / "w.npz")
    loaded = sprig.MLP.load(tmp_path / "w.npz")
    assert loaded.layer_sizes == SIZES and loaded.get_params()["layer_sizes"] == SIZES
    assert np.array_equal(loaded.decision_function(xt), model.decision_function(xt)), "the normalisation travels"
    with pytest.raises(ValueError, match="uint8"):
        loaded.predict(xt.astype(np.float32))   # and the kind of features
    with pytest.raises(ValueError, match="already built"):
        loaded.set_params(seed=9)
    assert sprig.MLP.load(tmp_path / "w.npz", learning_rate=0.1).get_params()["learning_rate"] == 0.1
    with pytest.raises((ValueError, sprig.SprigError)) as error:
        sprig.MLP.load(tmp_path / "w.npz", [784, 64, 10])
    assert "32" in str(error.value) and "64" in str(error.value), "the refusal names both values"
    probabilities = sprig.MLP(SIZES, layers="ReLU;Softmax", loss="cross-entropy", **NETWORK)
    probabilities.fit(x, y, epochs=1, threads=2)
    probabilities.save(tmp_path / "softmax.npz")
    loaded = sprig.MLP.load(tmp_path / "softmax.npz")   # the file says its layers end in Softmax
    outputs = loaded.decision_function(xt).astype(np.float64)
    np.testing.assert_allclose(loaded.predict_proba(xt), outputs / outputs.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-7)


@pytest.mark.skipif(SELF_DESCRIBING, reason="library with self-describing files")
def test_load_without_layer_sizes_on_an_older_library_says_to_give_them(small, tmp_path):
    model = sprig.MLP(SIZES, **NETWORK)
    model.save(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="give them"):
        sprig.MLP.load(tmp_path / "w.npz")


def test_load_keeps_positional_and_keyword_layer_sizes(small, tmp_path):
    x, y, xt, _ = small
    model = sprig.MLP(SIZES, layers="ReLU;Linear", **NETWORK)
    model.save(tmp_path / "w.npz")
    for loaded in (sprig.MLP.load(tmp_path / "w.npz", SIZES, layers="ReLU;Linear"),
                   sprig.MLP.load(tmp_path / "w.npz", layer_sizes=SIZES, layers="ReLU;Linear", learning_rate=0.1)):
        assert loaded.layer_sizes == SIZES
        assert loaded.get_params()["layers"] == "ReLU;Linear"
        assert repr(loaded).endswith("— weights loaded from a file, not fitted")
        assert same_weights(saved(loaded, tmp_path / "again.npz"), saved(model, tmp_path / "w2.npz"))
    assert loaded.get_params()["learning_rate"] == 0.1
    with pytest.raises(TypeError, match="no_such_keyword"):
        sprig.MLP.load(tmp_path / "w.npz", SIZES, no_such_keyword=1)
