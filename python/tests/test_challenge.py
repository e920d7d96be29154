"""The Graph Challenge's own data (1024 neurons, 120 layers, the first 1200 inputs) from Python
gives exactly the 19 categories of its truth file."""

import os

import pytest

import sprig

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "Tests", "Fixtures", "graph-challenge")


def test_the_real_data_gives_the_truth():
    truth = os.path.join(FIXTURES, "neuron1024-l120-categories-first1200.tsv")
    result = sprig.challenge.run(os.path.join(FIXTURES, "neuron1024"), 1024, 120,
                                 os.path.join(FIXTURES, "sparse-images-1024-first1200.tsv.gz"), truth=truth, threads=2)
    with open(truth) as f:
        expected = sorted(int(line) for line in f if line.strip())
    assert result["categories"] == expected
    assert len(expected) == 19
    assert result["pass"] is True
    assert result["inputs"] == 1200 and result["edges"] == 1024 * 32 * 120


def test_bad_challenge_arguments():
    with pytest.raises(FileNotFoundError):
        sprig.challenge.run("/nonexistent", 1024, 2, os.path.join(FIXTURES, "sparse-images-1024-first1200.tsv.gz"))
    with pytest.raises(ValueError, match="bias"):
        sprig.challenge.run(os.path.join(FIXTURES, "neuron1024"), 1000, 2, "x.tsv")
    with pytest.raises(ValueError, match="layers"):
        sprig.challenge.run(os.path.join(FIXTURES, "neuron1024"), 1024, 0, "x.tsv")
