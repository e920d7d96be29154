"""The Python face against independent references: the CLI on the same seed (bitwise), a
NumPy forward pass on the saved weights, and the exceptions for bad arguments."""

import subprocess

import numpy as np
import pytest
import scipy.sparse

import sprig

NETWORK = dict(overall_density=0.1, seed=3)
SIZES = [784, 128, 64, 10]
TRAIN, TEST = 3000, 500


def trained(fashion, **keywords):
    (x, y), (xt, yt) = fashion
    model = sprig.MLP(SIZES, **NETWORK)
    history = model.fit(x[:TRAIN], y[:TRAIN], epochs=2, threads=2, validation=(xt[:TEST], yt[:TEST]), **keywords)
    return model, history


def test_fit_equals_the_command_line_bitwise(fashion, sprig_binary, tmp_path):
    cli = subprocess.run([sprig_binary, "train", "--dataset", "fashion-mnist", "--layer-sizes", ",".join(map(str, SIZES)),
                          "--overall-density", "0.1", "--seed", "3", "--epochs", "2", "--threads", "2",
                          "--train-size", str(TRAIN), "--test-size", str(TEST),
                          "--save-weights", str(tmp_path / "cli.npz")], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    model, history = trained(fashion)
    model.save(tmp_path / "python.npz")
    a, b = np.load(tmp_path / "cli.npz"), np.load(tmp_path / "python.npz")
    assert sorted(a.files) == sorted(b.files)
    for name in a.files:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert a[name].tobytes() == b[name].tobytes(), f"{name} differs from the command line's"
    assert [e["epoch"] for e in history] == [1, 2]
    assert 0 < history[-1]["test_accuracy"] <= 1


def test_predict_matches_a_numpy_forward_pass(fashion, tmp_path):
    (x, _), (xt, _) = fashion
    model, _ = trained(fashion)
    model.save(tmp_path / "w.npz")
    w = np.load(tmp_path / "w.npz")
    # The library standardises with the training data's mean and population deviation.
    train = x[:TRAIN].astype(np.float64) / 255
    h = (xt[:200].astype(np.float64) / 255 - train.mean()) / train.std()
    for k in (1, 2, 3):
        if f"W{k}.data" in w.files:
            matrix = scipy.sparse.csr_matrix((w[f"W{k}.data"], w[f"W{k}.indices"], w[f"W{k}.indptr"]),
                                             shape=tuple(w[f"W{k}.shape"])).toarray()
        else:
            matrix = w[f"W{k}"]
        h = h @ matrix.T.astype(np.float64) + w[f"b{k}"]
        if k < 3:
            h = np.maximum(h, 0)
    outputs = model.decision_function(xt[:200])
    assert outputs.shape == (200, 10) and outputs.dtype == np.float32
    np.testing.assert_allclose(outputs, h, rtol=1e-4, atol=1e-4)
    classes = model.predict(xt[:200])
    assert classes.dtype == np.int64 and classes.shape == (200,)
    np.testing.assert_array_equal(classes, outputs.argmax(axis=1))
    top2 = np.sort(h, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-3   # the reference's argmax, where no near-tie makes it float noise
    assert clear.sum() >= 190
    np.testing.assert_array_equal(classes[clear], h.argmax(axis=1)[clear])
    labels = fashion[1][1][:200]
    evaluation = model.evaluate(xt[:200], labels)
    assert evaluation["accuracy"] == pytest.approx(float((h.argmax(axis=1) == labels).mean()))
    shifted = h - h.max(axis=1, keepdims=True)   # softmax cross-entropy, the default loss
    loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(200), labels])
    assert evaluation["loss"] == pytest.approx(loss, rel=1e-4)


def test_weights_are_scipy_matrices_equal_to_the_saved_ones(fashion, tmp_path):
    model, _ = trained(fashion)
    model.save(tmp_path / "w.npz")
    w = np.load(tmp_path / "w.npz")
    layers = model.weights()
    assert len(layers) == 3
    for k, (matrix, bias) in enumerate(layers, start=1):
        if f"W{k}.data" in w.files:
            assert scipy.sparse.issparse(matrix) and matrix.format == "csr"
            assert matrix.shape == tuple(w[f"W{k}.shape"])
            np.testing.assert_array_equal(matrix.data, w[f"W{k}.data"])
            np.testing.assert_array_equal(matrix.indices, w[f"W{k}.indices"])
        else:
            np.testing.assert_array_equal(matrix, w[f"W{k}"])
        np.testing.assert_array_equal(bias, w[f"b{k}"])


def test_save_and_load_round_trip(fashion, tmp_path):
    (_, _), (xt, _) = fashion
    model, _ = trained(fashion)
    model.save(tmp_path / "w.npz")
    loaded = sprig.MLP.load(tmp_path / "w.npz", SIZES, **NETWORK)
    assert loaded.layer_sizes == SIZES
    if loaded.fitted:   # a file that describes itself: its normalisation and kind of features travel
        np.testing.assert_array_equal(loaded.decision_function(xt[:50]), model.decision_function(xt[:50]))
        return
    # An older library's file: the loaded model has no normalisation, so compare raw logits of
    # the same standardised floats.
    (x, _), _ = fashion
    mean, std = (x[:TRAIN] / 255).mean(), (x[:TRAIN] / 255).std()
    standardised = ((xt[:50] / 255 - mean) / std).astype(np.float32)
    np.testing.assert_allclose(loaded.decision_function(standardised), model.decision_function(xt[:50]),
                               rtol=1e-4, atol=1e-4)


def test_bad_arguments_raise_the_right_exception(fashion, tmp_path):
    (x, y), _ = fashion
    with pytest.raises(ValueError, match="learning_rate"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100], y[:100], learning_rate=-1)
    with pytest.raises(ValueError, match="overall_density"):
        sprig.MLP(SIZES, overall_density=2)
    with pytest.raises(ValueError, match="784"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100, :100], y[:100])
    with pytest.raises(ValueError, match="label"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100], np.full(100, 12))
    with pytest.raises(ValueError, match="label"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100], np.full(100, 2**32, dtype=np.int64))   # would wrap to 0
    with pytest.raises(ValueError, match="whole"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100], np.full(100, 0.5))
    with pytest.raises(ValueError, match="one label per example"):
        sprig.MLP(SIZES, **NETWORK).fit(x[:100], y[:99])
    with pytest.raises(TypeError, match="no_such_flag"):   # a keyword that does not exist, as Python says it
        sprig.MLP(SIZES, no_such_flag=1)
    with pytest.raises(FileNotFoundError):
        sprig.MLP.load(tmp_path / "missing.npz", SIZES)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(sprig.SprigError):
        sprig.MLP.load(bad, SIZES)
    nan = np.full((10, 784), np.nan, dtype=np.float32)
    with pytest.raises(ValueError, match="finite"):
        sprig.MLP(SIZES, **NETWORK).fit(nan, y[:10])


def test_the_caller_keeps_its_floating_point_modes_and_blas_threads(fashion):
    """Sprig flushes subnormals to zero and runs OpenBLAS single-threaded for its own kernels;
    after a call, the Python thread computes subnormals again and OpenBLAS has its threads back."""
    import ctypes
    blas = ctypes.CDLL("libopenblas.so.0")
    blas.openblas_set_num_threads(2)
    tiny = np.float32(1e-38)
    assert tiny / np.float32(100) != 0, "subnormals work before"
    (x, y), _ = fashion
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x[:500], y[:500], epochs=1, threads=2)
    model.decision_function(x[:10])
    assert tiny / np.float32(100) != 0, "the calling thread still computes subnormals"
    assert blas.openblas_get_num_threads() == 2


def test_an_interrupted_fit_keeps_what_it_trained(fashion, tmp_path):
    """Ctrl-C (here: a callback raising KeyboardInterrupt at the end of epoch 1 of 3) stops the
    run; the model holds exactly the weights of a 1-epoch run."""
    (x, y), _ = fashion
    one = sprig.MLP(SIZES, **NETWORK)
    one.fit(x[:TRAIN], y[:TRAIN], epochs=1, threads=2)
    one.save(tmp_path / "one.npz")

    def stop(event):
        raise KeyboardInterrupt

    model = sprig.MLP(SIZES, **NETWORK)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x[:TRAIN], y[:TRAIN], epochs=3, threads=2, callbacks=[stop], progress=True)
    model.save(tmp_path / "stopped.npz")
    a, b = np.load(tmp_path / "one.npz"), np.load(tmp_path / "stopped.npz")
    assert a.files == b.files
    for name in a.files:
        if name != "sprig_model.json":   # the file's description records the run's epochs=3
            assert a[name].tobytes() == b[name].tobytes(), name


def test_uint8_arrays_are_not_copied_and_float32_arrays_are(fashion):
    (x, y), _ = fashion
    pixels = np.ascontiguousarray(x[:1000])
    history = sprig.MLP(SIZES, **NETWORK).fit(pixels, y[:1000], epochs=1, threads=2)
    assert history.data == {"borrowed": True, "address": pixels.ctypes.data}
    floats = (pixels / 255).astype(np.float32)
    history = sprig.MLP(SIZES, **NETWORK).fit(floats, y[:1000], epochs=1, threads=2)
    assert history.data == {"borrowed": False}
    assert sprig.model._features(pixels, "x") is pixels, "a C-contiguous uint8 array is passed as it is"
