"""Text readers against independent oracles: Python's csv module, numpy and pandas' writers.

The corpus (tests/bad_inputs) checks one file per rule; here the rules are checked over many
generated files: whatever ``csv.writer`` writes, the reader must read back exactly, and every
error must name the line an independent count finds.
"""

import csv
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from blocks_rx.errors import ScoresError, SideFileError
from blocks_rx.readers.text import (DELIMITERS, read_class_names, read_label_file, read_text,
                                    sniff_delimiter)
from blocks_rx.scores import load_scores

CLASSES = ["cat", "dog", "owl"]
#: Each example writes its own file into tmp_path, so sharing the folder does no harm.
TMP_PATH_IS_FINE = [HealthCheck.function_scoped_fixture]

#: Class names: any printable text (no control characters, which blocks-rx refuses), without
#: surrounding spaces (the reader strips them).
names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12).filter(
    lambda name: name == name.strip() and not name.startswith("\ufeff"))
scores = st.floats(allow_nan=False, allow_infinity=False, width=64)


def write(path, text: str):
    path.write_text(text, encoding="utf-8", newline="")
    return path


def csv_text(header, rows, delimiter=",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def oracle(text: str, delimiter: str, ids: bool = False):
    """Header and float rows as Python's csv module reads them (without a first id column)."""
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    skip = 1 if ids else 0
    return header[skip:], np.array([row[skip:] for row in rows], dtype=np.float64)


# ----------------------------------------------------------------------------- round trips


@settings(max_examples=150, deadline=None, suppress_health_check=TMP_PATH_IS_FINE)
@given(data=st.data(), delimiter=st.sampled_from(DELIMITERS))
def test_whatever_csv_writer_writes_is_read_back_exactly(tmp_path, data, delimiter):
    header = data.draw(st.lists(names, min_size=2, max_size=5, unique=True))
    assume(header[0] != "Unnamed: 0")
    assume(not all(name.lstrip("+-").replace(".", "", 1).isdigit() for name in header))
    rows = data.draw(st.lists(st.lists(scores, min_size=len(header), max_size=len(header)),
                              min_size=2, max_size=6))
    text = csv_text(header, [[repr(v) for v in row] for row in rows], delimiter)
    path = write(tmp_path / "s.csv", text)
    expected_header, expected_values = oracle(text, delimiter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # more classes than samples, and the like
        loaded = load_scores(path)
    assert list(loaded.classes) == expected_header == header
    np.testing.assert_array_equal(loaded.values, expected_values)


def test_quotes_commas_and_line_breaks_in_fields(tmp_path):
    header = ["sample", 'big "cat"', "dog, small", "owl|night"]
    rows = [["img\n0", "0.5", "-1", "2e-3"], ["img; 1", "1.25", "3", "-0"],
            ['img "2"', "1e300", ".5", "+7"]]
    text = csv_text(header, rows)
    loaded = load_scores(write(tmp_path / "s.csv", text))
    expected_header, expected_values = oracle(text, ",", ids=True)
    assert list(loaded.classes) == expected_header == header[1:]
    np.testing.assert_array_equal(loaded.values, expected_values)


def test_a_pandas_to_csv_file_loads_as_the_frame(tmp_path):
    frame = pd.DataFrame(np.random.default_rng(3).normal(size=(30, 4)),
                         columns=["a", "b", "c", "d"])
    frame.to_csv(tmp_path / "s.csv")  # the index as a first column without a name
    with pytest.warns(UserWarning, match=r"the first column has no name"):
        loaded = load_scores(tmp_path / "s.csv")
    assert loaded.classes == ("a", "b", "c", "d")
    np.testing.assert_array_equal(loaded.values, frame.to_numpy())


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("cat,dog\n1.5,2\n3,4.5\n".encode("utf-8-sig"))
    assert load_scores(path).classes == ("cat", "dog")


# ----------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_sniffing_finds_each_delimiter_despite_the_others_in_names(delimiter):
    others = "".join(d for d in DELIMITERS if d != delimiter)
    text = csv_text([f"a{others}b", "c", f"d{others}"], [["1", "2", "3"]], delimiter)
    assert sniff_delimiter(text) == delimiter


@pytest.mark.parametrize("text", ["a.b\n0.5\n", "a b c\n1 2 3\n", "a:b\n1:2\n", "x\n"])
def test_no_other_character_splits_a_table(text):
    assert sniff_delimiter(text) == ","  # one column


def test_a_one_column_table_is_refused_naming_the_file(tmp_path):
    path = write(tmp_path / "s.csv", "a.b\n0.5\n0.25\n")
    with pytest.raises(ScoresError, match=r"s\.csv: need at least 2 classes \(columns\), got 1"):
        load_scores(path)


# ----------------------------------------------------------------------------- id columns


def test_an_id_named_column_of_unique_integers_is_set_aside_with_a_warning(tmp_path):
    path = write(tmp_path / "s.csv", "Row,cat,dog\n7,0.5,1.5\n3,2.5,0.25\n")
    with pytest.warns(UserWarning, match=r"'Row', holds unique integers"):
        loaded = load_scores(path)
    assert loaded.classes == ("cat", "dog")
    np.testing.assert_array_equal(loaded.values, [[0.5, 1.5], [2.5, 0.25]])


@pytest.mark.parametrize("column", ["1,1", "0.5,1.5"])
def test_an_id_named_column_of_repeated_or_fractional_numbers_is_a_class(tmp_path, column):
    first, second = column.split(",")
    path = write(tmp_path / "s.csv", f"id,cat,dog\n{first},0.5,1.5\n{second},2.5,0.25\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_scores(path).classes == ("id", "cat", "dog")


def test_a_text_column_is_set_aside_silently(tmp_path, recwarn):
    path = write(tmp_path / "s.csv", "file,cat,dog\na.png,0.5,1.5\nb.png,2.5,0.25\nc.png,1,2\n")
    assert load_scores(path).classes == ("cat", "dog")
    assert not [w for w in recwarn if "sample ids" in str(w.message)]


# ----------------------------------------------------------------------------- errors


@settings(max_examples=50, deadline=None, suppress_health_check=TMP_PATH_IS_FINE)
@given(lines=st.lists(st.text("abc,", min_size=1, max_size=6), min_size=1, max_size=8),
       data=st.data())
def test_a_non_utf8_byte_is_reported_on_its_line(tmp_path, lines, data):
    bad = data.draw(st.integers(0, len(lines) - 1))
    encoded = [line.encode() for line in lines]
    encoded[bad] += b"\xe9"  # Latin-1 e-acute
    path = tmp_path / "f.txt"
    path.write_bytes(b"\n".join(encoded))
    first_bad = next(i for i, line in enumerate(path.read_bytes().split(b"\n"), start=1)
                     if not _decodes(line))
    with pytest.raises(SideFileError, match=rf"f\.txt: line {first_bad} is not UTF-8"):
        read_text(path, SideFileError, "file")


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("text, message", [
    ("", r"is empty"),
    ("\n \n", r"is empty"),
    ("cat,dog\n", r"has a header \(line 1\) but no rows"),
    ("1,2\n3,4\n", r"line 1 holds numbers \(1, 2\).*add a header line"),
    ("cat,dog,cat\n1,2,3\n", r"line 1: class name 'cat' appears twice, in columns 0 and 2"),
    ("cat,,dog\n1,2,3\n", r"line 1, column 1 has no class name"),
    ("cat,dog\n1,2\n3\n", r"line 3 has 1 field\(s\), but line 1 has 2"),
    ('cat,dog\n1,"2"3\n', r"line 2: .*quote"),
    ("1.0 2.0\n3.0 4.0\n", r"line 1 holds numbers separated by spaces"),
])
def test_bad_tables_name_the_file_and_line(tmp_path, text, message):
    path = write(tmp_path / "s.csv", text)
    with pytest.raises(ScoresError, match=rf"s\.csv: {message}"):
        load_scores(path)


def test_pandas_default_column_names_are_a_header(tmp_path):
    frame = pd.DataFrame(np.arange(6.0).reshape(3, 2) / 4)
    frame.to_csv(tmp_path / "s.csv", index=False)
    loaded = load_scores(tmp_path / "s.csv")
    assert loaded.classes == ("0", "1")
    np.testing.assert_array_equal(loaded.values, frame.to_numpy())


# ----------------------------------------------------------------------------- DataFrames


def test_nullable_columns_without_na_load_as_numpy_would():
    frame = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"),
                          "b": pd.array([0.5, 0.25, 2.0], dtype="Float64")})
    loaded = load_scores(frame)
    np.testing.assert_array_equal(loaded.values, np.array([[1, 0.5], [2, 0.25], [3, 2.0]]))


@pytest.mark.parametrize("dtype, values", [("Int64", [1, None, 3]), ("Float64", [0.5, 1.5, None]),
                                           ("boolean", [True, None, False])])
def test_a_missing_nullable_value_names_column_and_row(dtype, values):
    frame = pd.DataFrame({"a": [0.5, 1.5, 2.5], "b": pd.array(values, dtype=dtype)})
    row = values.index(None)
    message = rf"column 'b' \({dtype}\) has a missing value.* row {row}"
    with pytest.raises(ScoresError, match=message):
        load_scores(frame)


# ----------------------------------------------------------------------------- labels


@pytest.mark.parametrize("header", ["label", "Labels", "CLASS", "target", "y"])
def test_a_label_header_word_is_skipped(tmp_path, header):
    path = write(tmp_path / "labels.csv", f"{header}\nowl\ncat\n")
    assert read_label_file(path, CLASSES).tolist() == ["owl", "cat"]


def test_an_unknown_first_label_is_a_label_not_a_header(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(200, 3))
    path = write(tmp_path / "labels.txt", "\n".join(["xyz"] * 200) + "\n")
    with pytest.raises(SideFileError, match=r"labels\.txt: row 0 names class 'xyz', which is "
                                            r"not among the score columns"):
        load_scores(matrix, classes=CLASSES, labels=path)


def test_a_multi_label_table_with_a_header_is_put_in_class_order(tmp_path):
    table = np.random.default_rng(1).integers(0, 2, size=(5, 3))
    order = [2, 0, 1]
    text = csv_text([CLASSES[j] for j in order], table[:, order].astype(str).tolist())
    got = read_label_file(write(tmp_path / "labels.csv", text), CLASSES)
    np.testing.assert_array_equal(got, table)


def test_a_multi_label_cell_other_than_0_or_1_names_line_row_and_class(tmp_path):
    path = write(tmp_path / "labels.csv", "cat,dog,owl\n1,0,0\n0,1,0.5\n")
    with pytest.raises(SideFileError, match=r"line 3 \(row 1\), column 2 \(class 'owl'\) holds "
                                            r"'0\.5'"):
        read_label_file(path, CLASSES)


# ----------------------------------------------------------------------------- class names


@pytest.mark.parametrize("text", ["cat,dog,owl\n", "name\ncat\ndog\nowl\n",
                                  "index,Class\n0,cat\n1,dog\n2,owl\n", "cat\ndog\nowl\n"])
def test_class_names_from_csv_variants(tmp_path, text):
    assert read_class_names(write(tmp_path / "classes.csv", text)) == CLASSES


def test_class_names_txt_is_one_name_per_line_with_any_line_ending(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_bytes(b"cat\r\ndog, big\rowl\n\n")
    assert read_class_names(path) == ["cat", "dog, big", "owl"]


def test_a_repeated_class_name_names_both_lines(tmp_path):
    with pytest.raises(SideFileError, match=r"classes\.txt: duplicate class names: 'dog' on "
                                            r"lines 2 and 4"):
        read_class_names(write(tmp_path / "classes.txt", "cat\ndog\nowl\ndog\n"))
