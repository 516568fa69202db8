"""Tests for the embedded langid demo (blocks_rx.datasets.langid) and the recipe of its texts
(blocks_rx.datasets.langid_recipe); caches live under tmp_path."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("langid")

from blocks_rx.datasets import langid as demo  # noqa: E402
from blocks_rx.datasets import langid_recipe as recipe  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """One computation shared by the read-only tests (generation takes a few seconds)."""
    folder = tmp_path_factory.mktemp("demo-cache")
    return folder, demo.load_langid_demo(folder)


def test_keys_shapes_dtypes(cached):
    _, d = cached
    assert set(d) == {"scores", "classes", "codes", "labels", "texts"}
    n = len(d["texts"])
    assert d["scores"].shape == (n, 97) and d["scores"].dtype == np.float32
    assert d["labels"].shape == (n,) and d["labels"].dtype == np.int64
    assert np.isfinite(d["scores"]).all()
    assert d["labels"].min() >= 0 and d["labels"].max() < 97
    assert all(isinstance(t, str) and t.strip() for t in d["texts"])


def test_classes_and_codes(cached):
    _, d = cached
    from langid.langid import LanguageIdentifier, model

    assert d["codes"] == list(LanguageIdentifier.from_modelstring(model).nb_classes)
    assert len(d["classes"]) == 97 and len(set(d["classes"])) == 97
    assert "French (fr)" in d["classes"]
    assert all(c.endswith(f"({code})") for c, code in zip(d["classes"], d["codes"]))


def test_many_languages_with_distinct_texts(cached):
    _, d = cached
    labels = d["labels"]
    assert len(np.unique(labels)) >= 60
    for lab in np.unique(labels):
        texts = [t for t, y in zip(d["texts"], labels) if y == lab]
        assert len(set(texts)) == len(texts) == recipe.TEXTS_PER_LANGUAGE


def test_scores_are_langid_raw_scores(cached):
    _, d = cached
    from langid.langid import LanguageIdentifier, model

    ident = LanguageIdentifier.from_modelstring(model, norm_probs=False)
    for i in range(0, len(d["texts"]), 97):
        ranked = dict(ident.rank(d["texts"][i]))
        expected = np.array([ranked[c] for c in d["codes"]], dtype=np.float32)
        np.testing.assert_array_equal(d["scores"][i], expected)


def test_real_classifier_accuracy(cached):
    _, d = cached
    accuracy = float(np.mean(np.argmax(d["scores"], axis=1) == d["labels"]))
    # Measured 0.645 on name-list texts over 94 languages; chance is about 0.01.
    assert accuracy > 0.55, accuracy


def test_deterministic(tmp_path):
    a = demo.load_langid_demo(tmp_path, refresh=True)
    b = demo.load_langid_demo(tmp_path, refresh=True)
    assert a["scores"].tobytes() == b["scores"].tobytes()
    assert a["labels"].tobytes() == b["labels"].tobytes()
    assert a["texts"] == b["texts"] and a["classes"] == b["classes"]


def test_the_embedded_texts_are_what_the_recipe_makes_from_babel_2_18(tmp_path):
    # In another process with another hash seed (which reorders sets of str: the name pools
    # must not depend on that order), the recipe rebuilds the embedded file byte for byte.
    babel = pytest.importorskip("babel")
    assert babel.__version__ == demo.embedded_texts()["made_with"]["babel"] == "2.18.0", (
        "the test extra pins babel==2.18.0, the version the embedded texts were made with")
    env = {**os.environ, "PYTHONHASHSEED": "12345",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "texts.json.gz"
    subprocess.run([sys.executable, "-m", "blocks_rx.datasets.langid_recipe", str(out)],
                   env=env, check=True)
    assert out.read_bytes() == demo.TEXTS_FILE.read_bytes()


def test_the_demo_imports_no_babel(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    code = ("import sys, blocks_rx.datasets.langid as m; "
            "d = m.load_langid_demo(sys.argv[1]); "
            "assert len(d['texts']) == 3760, len(d['texts']); "
            "assert 'babel' not in sys.modules")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, check=True)


def test_the_embedded_texts_are_labelled_with_langids_languages(cached):
    _, d = cached
    embedded = demo.embedded_texts()
    assert embedded["texts"] == d["texts"] and embedded["labels"] == d["labels"].tolist()
    assert embedded["codes"] == d["codes"] and len(embedded["labels"]) == len(embedded["texts"])


def test_cache_is_read(cached, monkeypatch):
    folder, d = cached
    assert (folder / demo.CACHE_NAME).is_file()

    def boom(*args, **kwargs):
        raise AssertionError("recomputed despite a cache")

    monkeypatch.setattr(demo, "_score_texts", boom)
    monkeypatch.setattr(demo, "embedded_texts", boom)
    start = time.perf_counter()
    again = demo.load_langid_demo(folder)
    assert time.perf_counter() - start < 1.0
    assert again["scores"].tobytes() == d["scores"].tobytes()
    assert again["texts"] == d["texts"] and again["codes"] == d["codes"]
    with pytest.raises(AssertionError, match="recomputed"):
        demo.load_langid_demo(folder, refresh=True)
    assert not [p for p in folder.iterdir() if p.name != demo.CACHE_NAME]  # no temp left


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOCKS_RX_CACHE", str(tmp_path / "a"))
    assert demo.default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("BLOCKS_RX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert demo.default_cache_dir() == tmp_path / "x" / "blocks-rx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert demo.default_cache_dir() == Path.home() / ".cache" / "blocks-rx"


def test_missing_dependency_names_pip_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "langid", None)
    monkeypatch.setitem(sys.modules, "langid.langid", None)
    demo._identifier.cache_clear()  # as in a process that has not loaded the model yet
    with pytest.raises(ImportError, match="pip install langid"):
        demo.load_langid_demo(tmp_path)
