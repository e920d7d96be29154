"""The Python package as a hostile user tries it (issue 25): copies, wrong shapes and dtypes,
memory-mapped arrays, huge sizes, signals, one-rank errors under mpirun, a fit that fails.
Whatever could kill the interpreter runs in a child interpreter, where a crash (a signal, a
Swift fatal error) is a failure of the test, not of the test run."""

import copy
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import sprig

SIZES = [784, 64, 10]
NETWORK = dict(overall_density=0.1, seed=3)


def child(code, timeout=300):
    """Runs `code` in a new interpreter with the package under test; returns the result and
    fails the test when the interpreter died of a signal or a fatal error."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout, env=os.environ.copy())
    assert result.returncode >= 0 and result.returncode not in (134, 135, 139), \
        f"the interpreter crashed (status {result.returncode}): {result.stderr[-3000:]}"
    assert "Fatal error" not in result.stderr and "Program crashed" not in result.stderr, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def small(fashion):
    (x, y), (xt, yt) = fashion
    return x[:1000], y[:1000], xt[:200], yt[:200]


# 1. copies

def test_copies_are_independent_models_and_never_free_twice():
    result = child("""
        import copy, pickle, numpy as np, sprig
        (x, y), _ = sprig.datasets.fashion_mnist()
        m = sprig.MLP([784, 64, 10], overall_density=0.1)
        m.fit(x[:500], y[:500], epochs=1, threads=1)
        before = m.decision_function(x[:20])
        shallow, deep = copy.copy(m), copy.deepcopy(m)
        pickled = pickle.loads(pickle.dumps(m))
        del m
        for other in (shallow, deep, pickled):
            assert np.array_equal(other.decision_function(x[:20]), before), "a copy predicts what the original did"
        shallow.fit(x[500:1000], y[500:1000], epochs=1, threads=1)
        assert not np.array_equal(shallow.decision_function(x[:20]), before)
        assert np.array_equal(deep.decision_function(x[:20]), before), "training one copy leaves the others"
        print("ok")
    """)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]


def test_pickle_keeps_weights_normalisation_and_feature_kind(small, tmp_path):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.decision_function(xt), model.decision_function(xt))
    with pytest.raises(ValueError, match="uint8"):
        loaded.predict(xt.astype(np.float32))   # fitted on uint8: the kind travels with the pickle
    model.save(tmp_path / "a.npz")
    loaded.save(tmp_path / "b.npz")
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    for name in a.files:
        assert a[name].tobytes() == b[name].tobytes(), name


# 2. shapes, dtypes, mapped arrays

def test_validation_of_another_width_or_a_mapped_array_is_refused(tmp_path):
    result = child(f"""
        import numpy as np, sprig
        (x, y), (xt, yt) = sprig.datasets.fashion_mnist()
        m = sprig.MLP([784, 64, 10], overall_density=0.1)
        try:
            m.fit(x[:300], y[:300], epochs=1, threads=1, validation=(xt[:50, :700], yt[:50]))
        except ValueError as error:
            assert "700" in str(error), error
        else:
            raise SystemExit("700 columns were accepted")
        mapped = np.memmap("{tmp_path}/xt.u8", dtype=np.uint8, mode="w+", shape=(500, 1))
        try:
            m.fit(x[:300], y[:300], epochs=1, threads=1, validation=(mapped, yt[:500]))
        except ValueError as error:
            assert "1 features" in str(error), error
        else:
            raise SystemExit("a (500, 1) array was accepted")
        try:
            m.predict(mapped)
        except ValueError as error:
            assert "784" in str(error), error
        else:
            raise SystemExit("predict took 1 feature")
        print("ok")
    """)
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout + result.stderr[-3000:]


def test_arrays_of_the_wrong_kind_raise_clear_exceptions(small, tmp_path):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    with pytest.raises(TypeError, match="class indices"):
        model.fit(x, np.array(["cat"] * len(y)), epochs=1)
    with pytest.raises(TypeError, match="numbers"):
        model.fit(x.astype(complex), y, epochs=1)
    with pytest.raises(ValueError, match="2-d"):
        model.predict(x[0])
    with pytest.raises(ValueError, match="whole"):
        model.fit(x, np.full(len(y), np.nan), epochs=1)
    with pytest.raises(ValueError, match="finite"):
        model.fit(np.full_like(x, 1e300, dtype=np.float64), y, epochs=1)   # overflows float32
    with pytest.raises(TypeError, match="pair"):
        model.fit(x, y, epochs=1, validation=xt)


def test_predict_and_evaluate_refuse_features_of_another_kind_than_fit(small):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x.astype(np.float32), y, epochs=3, threads=2, learning_rate=0.1)   # pixels 0–255 as floats
    with pytest.raises(ValueError, match="float32"):
        model.evaluate(xt, yt)                                # uint8 would be read as x/255: 10 %
    with pytest.raises(ValueError, match="float32"):
        model.predict(xt)
    assert model.evaluate(xt.astype(np.float32), yt)["accuracy"] > 0.5


# 3. sizes

def test_a_network_too_large_for_the_machine_raises_instead_of_aborting():
    result = child("""
        import sprig
        for sizes in ([784, 10**12, 10], [784, 2**62, 10], [10**15, 10, 10]):
            try:
                sprig.MLP(sizes, overall_density=0.5)
            except ValueError as error:
                assert "memory" in str(error) or "too large" in str(error) or "overflow" in str(error), error
            else:
                raise SystemExit(f"{sizes} was made")
        print("ok")
    """)
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout + result.stderr[-3000:]


# 4. Ctrl-C

def test_a_real_sigint_stops_fit_after_the_current_step_and_keeps_the_model():
    code = textwrap.dedent("""
        import signal, sys, numpy as np, sprig
        (x, y), _ = sprig.datasets.fashion_mnist()
        m = sprig.MLP([784, 64, 10], overall_density=0.1)
        def started(event):
            print("started", flush=True)
        try:
            history = m.fit(x[:2000], y[:2000], epochs=400, threads=1, progress=True, callbacks=[started])
        except KeyboardInterrupt:
            # fit stops within a step; the Ctrl-C pressed after it returned reach Python, as they should
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            out = m.decision_function(x[:10])
            assert np.all(np.isfinite(out))
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished all epochs", flush=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=os.environ.copy())
    try:
        for line in process.stdout:   # progress lines (no tqdm here), then the callback's
            if line.strip() == "started":
                break
        for _ in range(3):   # three Ctrl-C, as a user presses them
            process.send_signal(signal.SIGINT)
            time.sleep(0.05)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-3000:]
    assert "interrupted" in out and "finished all epochs" not in out, out
    assert "Exception ignored" not in err, err[-3000:]


# 5. one rank's mistake under mpirun

MPI_SCRIPT = """
import sys
import numpy as np
import sprig
(x, y), _ = sprig.datasets.fashion_mnist()
x, y = x[:600], y[:600].copy()
rank, size = sprig.rank()


def report(line):   # one file per rank: mpirun may join the ranks' output lines
    with open(f"{{sys.argv[1]}}.{{rank}}", "a") as f:
        f.write(line + "\\n")


model = sprig.MLP([784, 32, 10], overall_density=0.2, seed=5)
bad = {kind!r}
if rank == 1:
    if bad == "label":
        y[7] = 10
    elif bad == "nan":
        x = x.astype(np.float32); x[3, 3] = np.nan
    elif bad == "shape":
        x = x[:, :, None]
    elif bad == "keyword":
        pass
try:
    if bad == "keyword" and rank == 1:
        model.fit(x, y, epochs=1, threads=1, dataset="mnist")
    else:
        model.fit(x, y, epochs=1, threads=1)
except (ValueError, TypeError) as error:
    report(f"rank {{rank}} raised {{type(error).__name__}}: {{error}}")
else:
    report(f"rank {{rank}} trained")
(x, y), _ = sprig.datasets.fashion_mnist()
history = model.fit(x[:600], y[:600], epochs=1, threads=1)   # the next fit pairs with the next fit
report(f"rank {{rank}} second fit")
"""


@pytest.mark.parametrize("kind", ["label", "nan", "shape", "keyword"])
def test_an_error_on_one_rank_raises_on_every_rank_and_nothing_hangs(tmp_path, kind):
    script = tmp_path / "ranks.py"
    script.write_text(MPI_SCRIPT.format(kind=kind))
    result = subprocess.run(["timeout", "120", "mpirun", "-np", "2", "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
                             "-x", "PYTHONPATH", "-x", "SPRIG_LIBRARY", sys.executable, str(script), str(tmp_path / "out")],
                            capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = sorted(line for r in (0, 1) for line in (tmp_path / f"out.{r}").read_text().splitlines())
    raised = [line for line in lines if "raised" in line]
    assert len(raised) == 2, lines
    assert raised[0].split(": ", 1)[1] == raised[1].split(": ", 1)[1], "both ranks raise the same error"
    assert "rank 1 of 2" in raised[0], raised
    assert sum("second fit" in line for line in lines) == 2, lines


# 6. a fit that fails keeps the model

def test_a_fit_whose_loss_becomes_non_finite_keeps_the_last_good_model(small, tmp_path):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    before = model.decision_function(xt)
    model.save(tmp_path / "before.npz")
    with pytest.raises(sprig.SprigError, match="last good state"):
        model.fit(x, y, epochs=2, threads=2, learning_rate=1e30)
    np.testing.assert_array_equal(model.decision_function(xt), before)
    model.save(tmp_path / "after.npz")   # refused while the weights were NaN
    a, b = np.load(tmp_path / "before.npz"), np.load(tmp_path / "after.npz")
    for name in a.files:
        assert a[name].tobytes() == b[name].tobytes(), name
    model.fit(x, y, epochs=1, threads=2)   # and it trains on
    assert np.all(np.isfinite(model.decision_function(xt)))


# 7. batch norm statistics

def test_invalid_batch_norm_statistics_are_refused_naming_the_array(small, tmp_path):
    x, y, xt, yt = small
    layers = "ReLU;BatchNorm;Linear"
    model = sprig.MLP(SIZES, layers=layers, **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    model.save(tmp_path / "w.npz")
    arrays = dict(np.load(tmp_path / "w.npz"))
    arrays["bn1.var"] = np.full_like(arrays["bn1.var"], -1)
    np.savez(tmp_path / "negative.npz", **arrays)
    with pytest.raises(sprig.SprigError, match=r"bn1\.var"):
        sprig.MLP.load(tmp_path / "negative.npz", SIZES, layers=layers)
    arrays["bn1.var"] = np.zeros_like(arrays["bn1.var"])
    arrays["bn1.mean"] = np.full_like(arrays["bn1.mean"], 3e38)
    np.savez(tmp_path / "overflow.npz", **arrays)
    overflowing = sprig.MLP.load(tmp_path / "overflow.npz", SIZES, layers=layers)
    with pytest.raises(sprig.SprigError, match="not finite"):
        overflowing.evaluate(xt, yt)


# 11. keywords honoured or refused

def test_fit_keywords_are_honoured_or_refused(small, tmp_path):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    history = model.fit(x, y, epochs=2, threads=2, validation=(xt, yt), metrics=tmp_path / "m.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert [line["test_accuracy"] for line in lines] == [event["test_accuracy"] for event in history]
    for keyword, value in (("dataset", "mnist"), ("data_dir", "/tmp"), ("load_weights", "w.npz"), ("layers", "ReLU;Linear"),
                           ("overall_density", 0.5), ("no_such_keyword", 1)):
        with pytest.raises(TypeError, match=keyword):
            model.fit(x, y, epochs=1, **{keyword: value})
    with pytest.raises(TypeError, match="dataset"):
        sprig.MLP(SIZES, dataset="mnist")
    with pytest.raises(TypeError, match="no_such_keyword"):
        sprig.MLP.load(tmp_path / "missing.npz", SIZES, no_such_keyword=1)


# smaller

def test_paths_with_a_nul_are_refused(small, tmp_path):
    model = sprig.MLP(SIZES, **NETWORK)
    with pytest.raises(ValueError, match="NUL"):
        model.save(str(tmp_path / "a\x00b.npz"))
    assert not (tmp_path / "a").exists()


def test_a_callback_that_uses_the_model_during_fit_gets_an_error_not_a_race(small):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, **NETWORK)
    with pytest.raises(ValueError, match="busy"):
        model.fit(x, y, epochs=2, threads=2, callbacks=[lambda event: model.predict(xt)])
    assert np.all(np.isfinite(model.decision_function(xt)))   # usable again once fit returned


# issue 26: a model saved by fit or by `sprig train`, loaded in a fresh process, predicts bitwise alike

def test_a_saved_model_predicts_bitwise_alike_in_a_fresh_process(small, tmp_path, sprig_binary):
    x, y, xt, yt = small
    model = sprig.MLP(SIZES, layers="AllReLU(0.6);Linear", **NETWORK)
    model.fit(x, y, epochs=1, threads=2)
    model.save(tmp_path / "fit.npz")
    np.save(tmp_path / "xt.npy", xt)
    np.save(tmp_path / "in_process.npy", model.decision_function(xt))
    result = child(f"""
        import numpy as np, sprig
        model = sprig.MLP.load("{tmp_path}/fit.npz")   # no sizes, layers or normalisation given
        np.save("{tmp_path}/fresh.npy", model.decision_function(np.load("{tmp_path}/xt.npy")))
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert np.load(tmp_path / "fresh.npy").tobytes() == np.load(tmp_path / "in_process.npy").tobytes()
    # A layer on the dense kernel (layer_kernels): the loaded model runs it there too.
    dense = sprig.MLP([784, 256, 10], overall_density=0.5, seed=3)
    dense.fit(x, y, epochs=1, threads=2, layer_kernels="dense")
    dense.save(tmp_path / "dense.npz")
    np.save(tmp_path / "dense_in_process.npy", dense.decision_function(xt))
    result = child(f"""
        import numpy as np, sprig
        np.save("{tmp_path}/dense_fresh.npy", sprig.MLP.load("{tmp_path}/dense.npz").decision_function(np.load("{tmp_path}/xt.npy")))
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert np.load(tmp_path / "dense_fresh.npy").tobytes() == np.load(tmp_path / "dense_in_process.npy").tobytes()
    # The command line's model: `sprig predict` and Python's load give the same bits.
    trained = subprocess.run([sprig_binary, "train", "--layer-sizes", "784,64,10", "--densities", "0.1,1", "--epochs", "1",
                              "--train-size", "1000", "--threads", "2", "--save-weights", str(tmp_path / "cli.npz")],
                             capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    predicted = subprocess.run([sprig_binary, "predict", "--model", str(tmp_path / "cli.npz"), "--size", "200", "--scores",
                                "--output", str(tmp_path / "cli_scores.npy")], capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr
    loaded = sprig.MLP.load(tmp_path / "cli.npz")
    (_, _), (test_x, _) = sprig.datasets.fashion_mnist()
    assert np.load(tmp_path / "cli_scores.npy").tobytes() == loaded.decision_function(test_x[:200]).tobytes()


def test_warm_start_false_on_a_loaded_model_starts_its_own_network_again(small, tmp_path):
    """The file's layer list, not the default chain, is initialised anew from the seed."""
    x, y, xt, yt = small
    layers = "ReLU;BatchNorm;Linear"
    fresh = sprig.MLP(SIZES, layers=layers, **NETWORK)
    fresh.fit(x, y, epochs=1, threads=2)
    fresh.save(tmp_path / "fresh.npz")
    trained = sprig.MLP(SIZES, layers=layers, **NETWORK)
    trained.fit(x, y, epochs=2, threads=2)
    trained.save(tmp_path / "trained.npz")
    loaded = sprig.MLP.load(tmp_path / "trained.npz")
    loaded.fit(x, y, epochs=1, threads=2, warm_start=False)
    loaded.save(tmp_path / "again.npz")
    a, b = np.load(tmp_path / "fresh.npz"), np.load(tmp_path / "again.npz")
    assert sorted(a.files) == sorted(b.files)
    for name in a.files:
        if name != "sprig_model.json":
            assert a[name].tobytes() == b[name].tobytes(), name
