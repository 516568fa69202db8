"""Score matrices stored as one column of lists (Hugging Face ``logits``): parquet, Arrow
types, pandas columns of lists, and every way such a column can be malformed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blocks_rx import cli
from blocks_rx.errors import ScoresError
from blocks_rx.scores import load_scores

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

N, M = 40, 5


@pytest.fixture
def matrix() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(N, M)).astype(np.float32)


def _write(path, table, **kwargs):
    pq.write_table(table, path, **kwargs)
    return path


def _hf_table(matrix, list_type=None):
    """A Hugging Face-style table: an id, the logits as a list column, an int label."""
    logits = pa.array(list(matrix), list_type or pa.list_(pa.float32()))
    return pa.table({"id": np.arange(len(matrix)), "logits": logits,
                     "label": np.arange(len(matrix)) % M})


def test_list_float32_column_with_label_loads_as_the_matrix(tmp_path, matrix):
    path = _write(tmp_path / "hf.parquet", _hf_table(matrix), row_group_size=7)
    scores = load_scores(path)
    assert scores.values.dtype == np.float32
    np.testing.assert_array_equal(scores.values, matrix)
    # unnamed classes are named as for a .npy file; id and label are not classes
    assert scores.classes == tuple(load_scores(matrix).classes)
    assert scores.labels is None


@pytest.mark.parametrize("list_type", [pa.large_list(pa.float64()),
                                       pa.list_(pa.float32(), M)], ids=["large", "fixed"])
def test_large_and_fixed_size_lists(tmp_path, matrix, list_type):
    path = _write(tmp_path / "t.parquet", _hf_table(matrix, list_type))
    np.testing.assert_allclose(load_scores(path).values, matrix, rtol=1e-7)


def test_class_names_from_the_schema_metadata(tmp_path, matrix):
    names = ["ant", "bee", "cat", "dog", "eel"]
    table = _hf_table(matrix).replace_schema_metadata({b"classes": json.dumps(names)})
    path = _write(tmp_path / "named.parquet", table)
    assert load_scores(path).classes == tuple(names)
    # --classes wins over the metadata
    assert load_scores(path, classes=list("vwxyz")).classes == tuple("vwxyz")


def test_class_names_from_a_hugging_face_class_label(tmp_path, matrix):
    names = [f"lang{j}" for j in range(M)]
    features = {"id": {"dtype": "int64", "_type": "Value"},
                "logits": {"feature": {"dtype": "float32", "_type": "Value"},
                           "_type": "Sequence"},
                "label": {"names": names, "_type": "ClassLabel"}}
    metadata = {b"huggingface": json.dumps({"info": {"features": features}})}
    path = _write(tmp_path / "hf.parquet", _hf_table(matrix).replace_schema_metadata(metadata))
    assert load_scores(path).classes == tuple(names)


def test_pandas_column_of_lists_and_of_arrays(matrix):
    ids = [f"s{i}" for i in range(N)]
    as_lists = pd.DataFrame({"id": ids, "logits": [list(map(float, row)) for row in matrix]})
    np.testing.assert_allclose(load_scores(as_lists).values, matrix, rtol=1e-7)
    as_arrays = pd.DataFrame({"id": ids, "logits": list(matrix), "label": 1})
    scores = load_scores(as_arrays)
    assert scores.values.dtype == np.float32
    np.testing.assert_array_equal(scores.values, matrix)


def test_pandas_arrow_list_column(matrix):
    column = pd.Series(list(matrix), dtype=pd.ArrowDtype(pa.list_(pa.float32())))
    np.testing.assert_array_equal(load_scores(pd.DataFrame({"probs": column})).values, matrix)


def test_ragged_lists_name_the_row_and_both_lengths(tmp_path, matrix):
    rows = [list(map(float, row)) for row in matrix]
    rows[12] = rows[12][:3]
    path = _write(tmp_path / "ragged.parquet", pa.table({"logits": rows}))
    with pytest.raises(ScoresError, match=r"ragged\.parquet: column 'logits': row 12 holds a "
                                          r"list of 3 values but row 0 holds 5"):
        load_scores(path)
    frame = pd.DataFrame({"logits": rows})
    with pytest.raises(ScoresError, match="row 12 holds a list of 3 values but row 0 holds 5"):
        load_scores(frame)


def test_null_cells_and_null_values_name_the_row(tmp_path, matrix):
    rows = [list(map(float, row)) for row in matrix]
    rows[9] = None
    path = _write(tmp_path / "null.parquet", pa.table({"logits": rows}))
    with pytest.raises(ScoresError, match=r"null\.parquet: column 'logits' has a missing "
                                          r"\(null\) cell at row 9"):
        load_scores(path)
    with pytest.raises(ScoresError, match="missing cell at row 9"):
        load_scores(pd.DataFrame({"logits": rows}))
    rows[9] = [1.0, 2.0, None, 4.0, 5.0]
    path = _write(tmp_path / "value.parquet", pa.table({"logits": rows}))
    with pytest.raises(ScoresError, match=r"value\.parquet: column 'logits', row 9: value 2 "
                                          r"of the list is missing"):
        load_scores(path)
    with pytest.raises(ScoresError, match=r"row 9: value 2 of the list is missing \(None\)"):
        load_scores(pd.DataFrame({"logits": rows}))


def test_lists_that_are_not_numbers(tmp_path):
    text = pa.table({"logits": [["a", "b", "c"]] * 4})
    with pytest.raises(ScoresError, match=r"text\.parquet: column 'logits' holds lists of "
                                          r"string, not numbers: row 0"):
        load_scores(_write(tmp_path / "text.parquet", text))
    nested = pa.table({"logits": [[[1.0, 2.0], [3.0, 4.0]]] * 4})
    with pytest.raises(ScoresError, match=r"lists of list<\w+: double>, not numbers: row 0"):
        load_scores(_write(tmp_path / "nested.parquet", nested))
    frame = pd.DataFrame({"logits": [[1.0, 2.0], [3.0, "x"], [5.0, 6.0]]})
    with pytest.raises(ScoresError, match=r"row 1: value 1 of the list holds a str \('x'\)"):
        load_scores(frame)


def test_choosing_among_several_list_columns(tmp_path, matrix):
    rows = list(matrix)
    other = list(matrix[:, ::-1])
    table = pa.table({"embedding": pa.array(other, pa.list_(pa.float32())),
                      "probs": pa.array(rows, pa.list_(pa.float32())),
                      "logits": pa.array(rows, pa.list_(pa.float32()))})
    path = _write(tmp_path / "several.parquet", table)
    np.testing.assert_array_equal(load_scores(path).values, matrix)  # 'logits' first
    np.testing.assert_array_equal(load_scores(path, key="embedding").values, matrix[:, ::-1])
    unnamed = _write(tmp_path / "unnamed.parquet", table.select(["embedding"]).append_column(
        "hidden", table.column("probs")))
    with pytest.raises(ScoresError, match=r"unnamed\.parquet: 2 columns hold lists "
                                          r"\('embedding', 'hidden'\).*--key embedding"):
        load_scores(unnamed)
    with pytest.raises(ScoresError, match="column 'id' holds one number per row"):
        load_scores(_write(tmp_path / "hf.parquet", _hf_table(matrix)), key="id")


def test_tables_without_list_columns_read_as_before(tmp_path, matrix):
    frame = pd.DataFrame(matrix, columns=list("abcde"))
    frame.to_parquet(tmp_path / "plain.parquet")
    scores = load_scores(tmp_path / "plain.parquet")
    assert scores.classes == tuple("abcde")
    np.testing.assert_array_equal(scores.values, matrix)


def test_the_command_line_analyzes_a_list_column(tmp_path, matrix, capsys):
    path = _write(tmp_path / "hf.parquet", _hf_table(matrix))
    out = tmp_path / "out"
    assert cli.main(["analyze", str(path), "--out", str(out), "--hclust-backend", "python",
                     "--no-groups"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["n_classes"] == M and report["input"]["n_samples"] == N
    stored = np.load(out / "similarity.npz")
    np.testing.assert_allclose(stored["matrix"], np.corrcoef(matrix, rowvar=False), atol=1e-5)
    assert "wrote" in capsys.readouterr().out
