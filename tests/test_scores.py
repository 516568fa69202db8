"""Loading and validating score input: every format, and every way input can be wrong.

Error tests check the message, not only the exception type: it must name the problem and,
where there is one, the file, row, column or class at fault.
"""

import re
import sys

import numpy as np
import pandas as pd
import pytest

from blocks_rx.cli import main
from blocks_rx.scores import Scores, ScoresError, load_scores

CLASSES = ["cat", "dog", "owl"]
OUTPUTS = ("similarity.npz", "order.csv", "heatmap.png", "distributions.png", "report.json")


@pytest.fixture
def matrix():
    """Six samples x three classes of distinct float64 scores."""
    return np.arange(18, dtype=np.float64).reshape(6, 3) / 7 - 1


def write_csv(path, matrix, classes=CLASSES, sep=",", ids=None):
    lines = [sep.join((["id"] if ids else []) + list(classes))]
    for i, row in enumerate(matrix):
        lines.append(sep.join(([ids[i]] if ids else []) + [repr(float(v)) for v in row]))
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_same(scores, matrix, classes=CLASSES):
    assert isinstance(scores, Scores)
    np.testing.assert_allclose(np.asarray(scores.values), matrix)
    assert scores.classes == tuple(classes)


# ----------------------------------------------------------------------------- formats


def test_npy_is_memory_mapped(tmp_path, matrix):
    np.save(tmp_path / "s.npy", matrix)
    s = load_scores(tmp_path / "s.npy")
    assert isinstance(s.values, np.memmap)
    assert_same(s, matrix, ["class_0", "class_1", "class_2"])
    assert s.source == str(tmp_path / "s.npy")


def test_npz_with_scores_classes_and_labels(tmp_path, matrix):
    np.savez(tmp_path / "s.npz", scores=matrix, classes=np.array(CLASSES),
             labels=np.array([0, 1, 2, 0, 1, 2]))
    s = load_scores(tmp_path / "s.npz")
    assert_same(s, matrix)
    assert s.labels.tolist() == [0, 1, 2, 0, 1, 2]


def test_npz_with_several_arrays_needs_key(tmp_path, matrix):
    path = tmp_path / "s.npz"
    np.savez(path, first=matrix * 2, second=matrix)
    with pytest.raises(ScoresError, match=r"s\.npz: holds first, second; .*key="):
        load_scores(path)
    assert_same(load_scores(path, key="second", classes=CLASSES), matrix)
    with pytest.raises(ScoresError, match=r"no array named 'third'; it holds first, second"):
        load_scores(path, key="third")


def test_csv_header_gives_class_names(tmp_path, matrix):
    assert_same(load_scores(write_csv(tmp_path / "s.csv", matrix)), matrix)


def test_csv_leading_text_column_is_sample_ids(tmp_path, matrix):
    ids = [f"img_{i:03d}" for i in range(6)]
    assert_same(load_scores(write_csv(tmp_path / "s.csv", matrix, ids=ids)), matrix)


def test_tsv(tmp_path, matrix):
    assert_same(load_scores(write_csv(tmp_path / "s.tsv", matrix, sep="\t")), matrix)


def test_parquet(tmp_path, matrix):
    pytest.importorskip("pyarrow")
    pd.DataFrame(matrix, columns=CLASSES).to_parquet(tmp_path / "s.parquet")
    assert_same(load_scores(tmp_path / "s.parquet"), matrix)


def test_dataframe(matrix):
    s = load_scores(pd.DataFrame(matrix, columns=CLASSES))
    assert_same(s, matrix)
    assert s.source == "<DataFrame>"


def test_numpy_array_gets_default_names(matrix):
    s = load_scores(matrix)
    assert_same(s, matrix, ["class_0", "class_1", "class_2"])
    assert s.values.dtype == np.float64 and s.n_samples == 6 and s.n_classes == 3


def test_pt_without_torch_names_pip_install(tmp_path, monkeypatch):
    path = tmp_path / "s.pt"
    path.write_bytes(b"never read")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match=r"torch.*pip install"):
        load_scores(path)


def test_pt_with_torch(tmp_path, matrix):
    torch = pytest.importorskip("torch")
    torch.save({"scores": torch.tensor(matrix), "classes": CLASSES}, tmp_path / "s.pt")
    assert_same(load_scores(tmp_path / "s.pt"), matrix)


def test_unsupported_object():
    with pytest.raises(ScoresError, match=r"cannot read scores from a list"):
        load_scores([[1.0, 2.0], [3.0, 4.0]])


# ----------------------------------------------------------------------------- non-finite


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_in_memory_names_row_and_column(matrix, bad):
    matrix[4, 1] = bad
    with pytest.raises(ScoresError) as err:
        load_scores(matrix, classes=CLASSES)
    message = str(err.value)
    assert "non-finite" in message and "row 4, column 1" in message and "'dog'" in message


def test_non_finite_in_memmap_found_in_later_block(tmp_path):
    values = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    values[20, 2] = np.nan
    np.save(tmp_path / "s.npy", values)
    s = load_scores(tmp_path / "s.npy", classes=CLASSES)  # not read yet: no error
    assert isinstance(s.values, np.memmap)
    blocks = s.iter_chunks(7)
    for expected_start in (0, 7):  # rows 0..13 are fine
        start, block = next(blocks)
        assert start == expected_start and block.shape == (7, 3) and block.dtype == np.float32
    with pytest.raises(ScoresError) as err:
        next(blocks)  # rows 14..20 hold the NaN, at row 6 of this block
    message = str(err.value)
    assert "s.npy" in message and "non-finite" in message
    assert "row 20, column 2" in message and "'owl'" in message


def test_iter_chunks_covers_all_rows(matrix):
    s = load_scores(matrix)
    starts = [start for start, _ in s.iter_chunks(4)]
    assert starts == [0, 4]
    np.testing.assert_array_equal(np.vstack([b for _, b in s.iter_chunks(4)]), matrix)


# ----------------------------------------------------------------------------- shapes


def test_1d_rejected():
    with pytest.raises(ScoresError, match=r"expected a 2-D matrix .*shape \(5,\)"):
        load_scores(np.zeros(5))


def test_3d_rejected():
    with pytest.raises(ScoresError, match=r"expected a 2-D matrix .*shape \(2, 3, 4\)"):
        load_scores(np.zeros((2, 3, 4)))


def test_fewer_than_two_classes():
    with pytest.raises(ScoresError, match=r"at least 2 classes \(columns\), got 1"):
        load_scores(np.zeros((5, 1)))


def test_fewer_than_two_samples():
    with pytest.raises(ScoresError, match=r"at least 2 samples \(rows\), got 1"):
        load_scores(np.zeros((1, 5)))


# ----------------------------------------------------------------------------- class names


def test_duplicate_class_names_listed(matrix):
    with pytest.raises(ScoresError, match=r"duplicate class names: 'dog'$"):
        load_scores(matrix, classes=["dog", "cat", "dog"])


def test_class_count_mismatch_gives_both_numbers(matrix):
    with pytest.raises(ScoresError) as err:
        load_scores(matrix, classes=["cat", "dog"])
    message = str(err.value)
    assert "2 class names for 3 score columns" in message
    assert "transposed" not in message


def test_class_count_equal_to_rows_hints_transposed(matrix):
    with pytest.raises(ScoresError, match=r"6 class names for 3 score columns.*transposed"):
        load_scores(matrix, classes=[f"c{i}" for i in range(6)])


def test_class_names_from_txt_file(tmp_path, matrix):
    path = tmp_path / "classes.txt"
    path.write_text("cat\n  dog \nowl\n\n")  # names are stripped, trailing blank lines ignored
    assert_same(load_scores(matrix, classes=path), matrix)
    assert_same(load_scores(matrix, classes=str(path)), matrix)


def test_class_name_file_with_blank_line_names_line(tmp_path, matrix):
    path = tmp_path / "classes.txt"
    path.write_text("cat\ndog\n\nowl\n")
    with pytest.raises(ScoresError, match=r"classes\.txt: line 3 is blank"):
        load_scores(matrix, classes=path)


def test_class_name_file_missing(tmp_path, matrix):
    with pytest.raises(ScoresError, match=r"nope\.txt: no such class-name file"):
        load_scores(matrix, classes=tmp_path / "nope.txt")


def test_class_name_file_overrides_stored_names(tmp_path, matrix):
    (tmp_path / "classes.txt").write_text("a\nb\nc\n")
    s = load_scores(write_csv(tmp_path / "s.csv", matrix), classes=tmp_path / "classes.txt")
    assert s.classes == ("a", "b", "c")


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint16, np.bool_])
def test_integer_and_bool_scores_warn_about_labels(dtype):
    values = (np.arange(12).reshape(4, 3) % 2).astype(dtype)
    with pytest.warns(UserWarning, match=r"integers; converting to float64.*labels"):
        s = load_scores(values)
    assert s.values.dtype == np.float64
    np.testing.assert_array_equal(s.values, values.astype(np.float64))


def test_float16_warns_and_becomes_float32(matrix):
    with pytest.warns(UserWarning, match=r"float16"):
        s = load_scores(matrix.astype(np.float16))
    assert s.values.dtype == np.float32 and s.dtype == np.float32


def test_float32_kept(matrix):
    s = load_scores(matrix.astype(np.float32))
    assert s.values.dtype == np.float32 and s.dtype == np.float32


def test_complex_rejected():
    with pytest.raises(ScoresError, match=r"real numbers, got dtype complex128"):
        load_scores(np.ones((3, 2), dtype=complex))


def test_more_classes_than_samples_warns_transposed():
    with pytest.warns(UserWarning, match=r"5 classes \(columns\) but only 3 samples.*transposed"):
        load_scores(np.random.default_rng(0).normal(size=(3, 5)))


# ----------------------------------------------------------------------------- files


def test_non_numeric_csv_column_names_column_and_row(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("cat,dog,owl\n0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,oops,0.9\n")
    with pytest.raises(ScoresError, match=r"s\.csv: column 'dog' is not numeric: row 2 holds 'oops'"):
        load_scores(path)


def test_non_numeric_first_csv_column_is_not_taken_for_sample_ids(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("cat,dog,owl\n0.1,0.2,0.3\noops,0.5,0.6\n0.7,0.8,0.9\n")
    with pytest.raises(ScoresError, match=r"column 'cat' is not numeric: row 1 holds 'oops'"):
        load_scores(path)


def test_non_numeric_csv_column_after_sample_ids(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,cat,dog\na,0.1,0.2\nb,0.3,?\nc,0.5,0.6\n")
    with pytest.raises(ScoresError, match=r"column 'dog' is not numeric: row 1 holds '\?'"):
        load_scores(path)


def test_empty_csv_cell_is_non_finite_and_named(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("cat,dog,owl\n0.1,0.2,0.3\n0.4,,0.6\n0.7,0.8,0.9\n")
    with pytest.raises(ScoresError, match=r"s\.csv: .*nan.* at row 1, column 1 \(class 'dog'\)"):
        load_scores(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScoresError, match=r"missing\.npy: no such file"):
        load_scores(tmp_path / "missing.npy")


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "s.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(ScoresError, match=r"s\.xlsx: unsupported file type '\.xlsx'; use one of .*\.npy"):
        load_scores(path)


def test_corrupt_npy_is_a_scores_error(tmp_path):
    path = tmp_path / "s.npy"
    path.write_bytes(b"not a numpy file")
    with pytest.raises(ScoresError, match=r"s\.npy: cannot read scores"):
        load_scores(path)


# ----------------------------------------------------------------------------- labels


def test_labels_as_indices(matrix):
    s = load_scores(matrix, labels=[0, 1, 2, 2, 1, 0])
    assert s.labels.dtype == np.int64 and s.labels.tolist() == [0, 1, 2, 2, 1, 0]


def test_labels_as_names_mapped_to_indices(matrix):
    s = load_scores(matrix, classes=CLASSES, labels=["owl", "cat", "dog", "dog", "cat", "owl"])
    assert s.labels.tolist() == [2, 0, 1, 1, 0, 2]


def test_labels_unknown_name_names_row_and_class(matrix):
    with pytest.raises(ScoresError, match=r"labels: row 3 names class 'emu', which is not among"):
        load_scores(matrix, classes=CLASSES, labels=["cat", "dog", "owl", "emu", "cat", "dog"])


def test_labels_index_out_of_range(matrix):
    with pytest.raises(ScoresError, match=r"row 4 holds class index 3, outside 0\.\.2"):
        load_scores(matrix, labels=[0, 1, 2, 0, 3, 1])


def test_labels_negative_index(matrix):
    with pytest.raises(ScoresError, match=r"row 0 holds class index -1, outside 0\.\.2"):
        load_scores(matrix, labels=[-1, 1, 2, 0, 1, 1])


def test_labels_wrong_length(matrix):
    with pytest.raises(ScoresError, match=r"labels: 5 labels for 6 score rows"):
        load_scores(matrix, labels=[0, 1, 2, 0, 1])


def test_labels_multi_hot(matrix):
    multi_hot = (np.arange(18).reshape(6, 3) % 2).astype(bool)
    s = load_scores(matrix, kind="multilabel", labels=multi_hot)
    assert s.labels.dtype == np.uint8 and s.labels.shape == (6, 3)
    np.testing.assert_array_equal(s.labels, multi_hot)


def test_labels_multi_hot_wrong_shape(matrix):
    with pytest.raises(ScoresError, match=r"multi-label matrix has shape \(6, 2\), expected \(6, 3\)"):
        load_scores(matrix, labels=np.zeros((6, 2), dtype=int))


def test_labels_multi_hot_not_binary(matrix):
    labels = np.zeros((6, 3))
    labels[2, 1] = 2
    with pytest.raises(ScoresError, match=r"multi-label matrix must hold only 0 and 1"):
        load_scores(matrix, labels=labels)


def test_labels_whole_floats_accepted(matrix):
    assert load_scores(matrix, labels=np.array([0.0, 1, 2, 0, 1, 2])).labels.tolist() == [0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize("bad", [1.5, np.nan])
def test_labels_float_not_whole_names_row(matrix, bad):
    labels = np.array([0.0, 1, 2, 0, bad, 2])
    with pytest.raises(ScoresError, match=r"labels: row 4 holds .*whole class indices"):
        load_scores(matrix, labels=labels)


def test_labels_from_csv_without_header(tmp_path, matrix):
    path = tmp_path / "labels.csv"
    path.write_text("0\n1\n2\n2\n1\n0\n")
    assert load_scores(matrix, labels=path).labels.tolist() == [0, 1, 2, 2, 1, 0]


def test_labels_from_csv_with_header(tmp_path, matrix):
    path = tmp_path / "labels.csv"
    path.write_text("label\n0\n1\n2\n2\n1\n0\n")
    assert load_scores(matrix, labels=path).labels.tolist() == [0, 1, 2, 2, 1, 0]


def test_labels_names_from_csv_with_header(tmp_path, matrix):
    path = tmp_path / "labels.csv"
    path.write_text("class\nowl\ncat\ndog\ndog\ncat\nowl\n")
    s = load_scores(matrix, classes=CLASSES, labels=str(path))
    assert s.labels.tolist() == [2, 0, 1, 1, 0, 2]


def test_labels_file_errors_name_the_file(tmp_path, matrix):
    path = tmp_path / "labels.csv"
    path.write_text("cat\ndog\nowl\nemu\ncat\ndog\n")
    with pytest.raises(ScoresError, match=r"labels\.csv: row 3 names class 'emu'"):
        load_scores(matrix, classes=CLASSES, labels=path)
    with pytest.raises(ScoresError, match=r"nope\.csv: no such label file"):
        load_scores(matrix, labels=tmp_path / "nope.csv")


def test_labels_from_npy_file(tmp_path, matrix):
    np.save(tmp_path / "labels.npy", np.array([2, 1, 0, 0, 1, 2]))
    assert load_scores(matrix, labels=tmp_path / "labels.npy").labels.tolist() == [2, 1, 0, 0, 1, 2]


# ----------------------------------------------------------------------------- kinds


def test_probabilities_outside_unit_interval_warn(matrix):
    with pytest.warns(UserWarning, match=r"declared as probabilities range over \[-1, 1.43\].*kind='logits'"):
        load_scores(matrix, kind="probabilities")


def test_probabilities_inside_unit_interval_do_not_warn(matrix, recwarn):
    s = load_scores((matrix + 1) / 3, kind="probabilities")
    assert s.kind == "probabilities"
    assert not [w for w in recwarn if "probabilities" in str(w.message)]


def test_unknown_kind():
    with pytest.raises(ScoresError, match=r"unknown score kind 'softmax'; choose one of logits, probabilities, multilabel"):
        load_scores(np.ones((3, 2)), kind="softmax")


def test_scores_object_is_revalidated(matrix):
    s = load_scores(matrix, classes=CLASSES)
    again = load_scores(s, labels=[0, 1, 2, 0, 1, 2])
    assert_same(again, matrix)
    assert again.labels.tolist() == [0, 1, 2, 0, 1, 2]
    with pytest.raises(ScoresError, match=r"2 class names for 3 score columns"):
        load_scores(s, classes=["a", "b"])


# ----------------------------------------------------------------------------- CLI


def assert_no_outputs(out):
    assert not out.exists() or not any(out.rglob("*")), sorted(p.name for p in out.rglob("*"))


def test_cli_nan_in_npy_exit_2_without_outputs(tmp_path, capsys):
    values = np.random.default_rng(1).normal(size=(40, 4)).astype(np.float32)
    values[33, 3] = np.nan
    np.save(tmp_path / "s.npy", values)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "s.npy"), "--out", str(out), "--block-size", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("blocks-rx: error: ") and "s.npy" in err
    assert "row 33, column 3" in err and "non-finite" in err
    assert_no_outputs(out)


def test_cli_nan_in_csv_exit_2_without_outputs(tmp_path, capsys, matrix):
    matrix[2, 0] = np.nan
    path = write_csv(tmp_path / "s.csv", matrix)
    out = tmp_path / "out"
    assert main(["analyze", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"row 2, column 0 \(class 'cat'\)", err), err
    assert_no_outputs(out)


def test_cli_duplicate_classes_exit_2_without_outputs(tmp_path, capsys, matrix):
    np.save(tmp_path / "s.npy", matrix)
    (tmp_path / "classes.txt").write_text("cat\nowl\ncat\n")
    out = tmp_path / "out"
    code = main(["analyze", str(tmp_path / "s.npy"), "--out", str(out),
                 "--classes", str(tmp_path / "classes.txt")])
    assert code == 2
    assert "duplicate class names: 'cat'" in capsys.readouterr().err
    assert_no_outputs(out)


def test_cli_missing_file_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "none.npy"), "--out", str(out)]) == 2
    assert "none.npy: no such file" in capsys.readouterr().err
    assert_no_outputs(out)


def test_cli_blank_line_in_classes_exit_2(tmp_path, capsys, matrix):
    np.save(tmp_path / "s.npy", matrix)
    (tmp_path / "classes.txt").write_text("cat\n\nowl\n")
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "s.npy"), "--out", str(out),
                 "--classes", str(tmp_path / "classes.txt")]) == 2
    assert "classes.txt: line 2 is blank" in capsys.readouterr().err
    assert not any((out / name).exists() for name in OUTPUTS)


def test_a_one_pass_read_of_a_mapped_file_does_not_keep_its_pages_resident(tmp_path):
    """iter_chunks releases the pages of the rows it has handed out (scores.release_pages):
    the process's file-backed resident memory stays near one block, and the values read are
    the file's."""
    from blocks_rx.scores import load_scores

    values = np.random.default_rng(0).normal(size=(100_000, 200)).astype(np.float32)
    np.save(tmp_path / "s.npy", values)
    scores = load_scores(tmp_path / "s.npy")
    assert isinstance(scores.values, np.memmap)

    def resident_file_mb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status
                        if line.startswith("RssFile")) / 1024

    before, sums = resident_file_mb(), []
    for _, block in scores.iter_chunks(10_000):
        sums.append(block.sum(axis=0, dtype=np.float64))
    assert resident_file_mb() - before < 30  # the file is 80 MB
    assert np.allclose(np.sum(sums, axis=0), values.sum(axis=0, dtype=np.float64))
    assert np.array_equal(scores.values[-5:], values[-5:])  # faulted back in, unchanged


def test_warnings_name_the_line_of_the_callers_own_code():
    """However deep inside analyze a warning is raised, it is shown at the caller's line
    (the cell of a notebook), not at a line of blocks-rx or of IPython."""
    import warnings

    import blocks_rx

    rng = np.random.default_rng(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        blocks_rx.analyze(rng.normal(size=(100, 2)))  # too few classes for groups
        blocks_rx.analyze(rng.normal(size=(10, 30)), groups=None)  # transposed?
        offset = 10 * rng.normal(size=(200, 1))  # a per-sample offset dominates
        blocks_rx.compute_similarity(rng.normal(size=(200, 4)) + offset)
    assert len(caught) >= 3
    assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]
