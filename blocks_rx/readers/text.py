"""Text files: score tables (``.csv``, ``.tsv``, ``.txt``), class-name, label and taxonomy files.

Every text file is read as UTF-8 (a leading byte-order mark is dropped) and every table is
parsed as RFC 4180 by Python's :mod:`csv` module: quoted fields may hold the delimiter, line
breaks and doubled quotes. Messages count ``line`` from 1, as an editor does, and ``row`` (a
sample's index among the data rows) and ``column`` from 0, as everywhere in blocks-rx.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import NamedTuple

from ..errors import ScoresError, SideFileError
from ._raw import Raw

#: The delimiters a ``.csv``/``.txt`` table may use; ``.tsv`` is always tab-separated.
DELIMITERS = (",", "\t", ";", "|")
#: Characters of a table looked at to choose its delimiter.
SNIFF_CHARS = 1 << 20
#: Score cells that mean "missing" (read as NaN, then reported as non-finite).
MISSING = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>", "#n/a"})
#: Words that make the first line of a one-column label file a header.
LABEL_HEADERS = ("label", "labels", "class", "target", "y")
#: Headers of the column that holds the names in a ``.csv``/``.tsv`` class-name file.
NAME_HEADERS = ("class", "classes", "class_name", "name", "names", "label")
#: The first bytes of every ``.npy`` file.
NPY_SIGNATURE = b"\x93NUMPY"
#: Cells a multi-label table may hold.
ZERO_ONE = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class Record(NamedTuple):
    """One record of a table: the line it starts on and its fields (none for a blank line)."""

    line: int
    fields: list[str]


# --------------------------------------------------------------------------- shared


def read_text(path: Path, error: type, what: str) -> str:
    """The text of a UTF-8 file, a leading byte-order mark dropped.

    A missing file, a folder, an unreadable file or bytes that are not UTF-8 raise ``error``
    naming the file (``what`` says which kind, e.g. ``"label file"``) and the line of the
    first bad byte.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}: line {line} is not UTF-8 text (byte {data[exc.start]:#04x}); "
                    "save the file as UTF-8") from None


def table_delimiter(path: Path, text: str) -> str:
    """Tab for a ``.tsv`` file, else the delimiter :func:`sniff_delimiter` finds."""
    return "\t" if Path(path).suffix.lower() == ".tsv" else sniff_delimiter(text)


def sniff_delimiter(text: str) -> str:
    """The delimiter of a table, among ``,`` tab ``;`` and ``|`` only.

    The one that splits the first record into the most fields while the second record has
    as many wins (the first in that order on a tie); ``,`` when none splits the first record.

    >>> sniff_delimiter("a;b|c;d\\n1;2;3\\n")
    ';'
    >>> sniff_delimiter("a.b\\n0.5\\n")
    ','
    """
    widths = {d: _leading_widths(text[:SNIFF_CHARS], d) for d in DELIMITERS}
    splitting = [d for d in DELIMITERS if widths[d] and widths[d][0] > 1]
    consistent = [d for d in splitting if len(set(widths[d])) == 1]
    return max(consistent or splitting or [","], key=lambda d: widths[d][0] if widths[d] else 0)


def _leading_widths(text: str, delimiter: str) -> list[int]:
    """The number of fields of the first two records that are not blank."""
    widths: list[int] = []
    try:
        for fields in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if not _is_blank(fields):
                widths.append(len(fields))
                if len(widths) == 2:
                    break
    except csv.Error:
        pass  # a record too odd to count is left out
    return widths


def read_records(text: str, delimiter: str, path: Path, error: type) -> list[Record]:
    """Every record of a table, parsed by :mod:`csv` (strict RFC 4180 quoting).

    A blank line gives a record without fields. Bad quoting raises ``error`` naming the
    line where the record starts.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records, line = [], 1
    try:
        for fields in reader:
            records.append(Record(line, [] if _is_blank(fields) else fields))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise error(f"{path}: line {line}: {exc}; a quoted field must end with a quote, and a "
                    "quote inside it is written twice") from None
    return records


def _is_blank(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def _without_trailing_blanks(records: list[Record]) -> list[Record]:
    while records and not records[-1].fields:
        records = records[:-1]
    return records


def _refuse_blank_lines(records: list[Record], path: Path, expected: str) -> None:
    for record in records:
        if not record.fields:
            raise SideFileError(f"{path}: line {record.line} is blank; {expected}")


def _check_widths(records: list[Record], width: int, path: Path, error: type,
                  first_line: int) -> None:
    for record in records:
        if len(record.fields) != width:
            raise error(f"{path}: line {record.line} has {len(record.fields)} field(s), but "
                        f"line {first_line} has {width}")


# --------------------------------------------------------------------------- score tables


def read_table(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Scores from a delimited text file whose first line holds the class names.

    * ``.tsv`` is tab-separated; ``.csv`` and ``.txt`` use whichever of ``,`` tab ``;`` ``|``
      splits the header and the first row alike (:func:`sniff_delimiter`), never another
      character, so a file without any of them is one column. Numbers separated by spaces
      (``np.savetxt``'s default) are refused with a hint, and so is a ``.tsv`` without tabs.
    * Blank lines are skipped; names are stripped of surrounding spaces. An empty cell, or
      ``nan``/``NA``/``null``, is a missing score (reported as non-finite).
    * The first line must be class names: a line of numbers is refused (no header), unless
      they are ``0, 1, ..., m-1``, the column names pandas gives an unnamed matrix. A name may
      not be empty (except the first, see below) nor appear twice.
    * The first column is set aside as sample ids, not a class, when it has no name (the
      index ``DataFrame.to_csv`` writes), when it is named ``id``, ``index``, ``sample``,
      ``sample_id`` or ``row`` and holds unique integers, or when it holds text only
      (see :func:`~blocks_rx.readers.frames.from_frame`).
    """
    import pandas as pd

    from .frames import from_frame

    text = read_text(path, ScoresError, "score file")
    delimiter = table_delimiter(path, text)
    records = [r for r in read_records(text, delimiter, path, ScoresError) if r.fields]
    if not records:
        raise ScoresError(f"{path}: is empty; a score table needs a line of class names, then "
                          "one line of scores per sample")
    header, rows = records[0], records[1:]
    names = [field.strip() for field in header.fields]
    for record in records[:2]:
        _check_not_space_separated(record, path)
    _check_tsv_has_tabs(header, delimiter, path)
    _check_header(names, header.line, delimiter, path)
    if not rows:
        raise ScoresError(f"{path}: has a header (line {header.line}) but no rows of scores")
    _check_widths(rows, len(names), path, ScoresError, header.line)
    columns = zip(*(row.fields for row in rows))
    frame = pd.DataFrame({name: _column(cells) for name, cells in zip(names, columns)})
    return from_frame(frame, str(path))


def _check_not_space_separated(record: Record, path: Path) -> None:
    words = record.fields[0].split() if len(record.fields) == 1 else []
    if len(words) > 1 and all(_is_number(w) for w in words):
        raise ScoresError(f"{path}: line {record.line} holds numbers separated by spaces, which "
                          "do not separate columns; use ',' or tab between the columns (e.g. "
                          "np.savetxt(path, scores, delimiter=',', header=...))")


def _check_tsv_has_tabs(header: Record, delimiter: str, path: Path) -> None:
    if delimiter != "\t" or len(header.fields) > 1:
        return
    others = [d for d in DELIMITERS if d != delimiter and d in header.fields[0]]
    if others:
        raise ScoresError(f"{path}: line {header.line} holds no tab: a .tsv file separates its "
                          f"columns with tabs, but this one seems to use {others[0]!r}; use tabs, "
                          "or name the file .csv")


def _check_header(names: list[str], line: int, delimiter: str, path: Path) -> None:
    named = names[1:] if names[0] == "" else names  # an unnamed index column first
    if all(_is_number(n) for n in named) and named != [str(j) for j in range(len(named))]:
        example = delimiter.join(f"class_{j}" for j in range(min(len(named), 3)))
        raise ScoresError(f"{path}: line {line} holds numbers ({', '.join(named[:3])}"
                          f"{', ...' if len(named) > 3 else ''}), but the first line must hold "
                          f"the class names; add a header line such as {example!r}")
    for column, name in enumerate(names[1:], start=1):
        if not name:
            raise ScoresError(f"{path}: line {line}, column {column} has no class name; every "
                              "column after the first needs one")
    first_column: dict[str, int] = {}
    for column, name in enumerate(names):
        if name in first_column:
            raise ScoresError(f"{path}: line {line}: class name {name!r} appears twice, in "
                              f"columns {first_column[name]} and {column}; names must be unique")
        first_column[name] = column


def _column(cells: tuple[str, ...]):
    """One column of a score table: int64 or float64 values when every cell is a number, else
    its text with missing cells as None (:func:`~.frames.from_frame` converts or reports it)."""
    import numpy as np

    for dtype in (np.int64, np.float64):
        try:
            return np.array(cells, dtype=dtype)
        except (ValueError, OverflowError):
            pass
    return [None if cell.strip().lower() in MISSING else cell for cell in cells]


# --------------------------------------------------------------------------- class names


def read_class_names(path) -> list[str]:
    """Read class names from a text file, one per line, stripped of surrounding spaces.

    Trailing blank lines are ignored; any other blank line, and a name given twice, is a
    :class:`~blocks_rx.errors.SideFileError` naming the line. A ``.txt`` file of one line
    holding ``,`` or tab is refused (names go one per line). A ``.csv``/``.tsv`` file is read
    as a table: one line of several fields holds the names (a score file's header);
    otherwise the names are in the column headed ``class``, ``classes``, ``class_name``,
    ``name``, ``names`` or ``label`` (any case), or, without such a header, in a table of one
    column.
    """
    path = Path(path)
    text = read_text(path, SideFileError, "class-name file")
    if path.suffix.lower() in (".csv", ".tsv"):
        records = read_records(text, table_delimiter(path, text), path, SideFileError)
        entries = _names_in_table(_without_trailing_blanks(records), path)
    else:
        lines = io.StringIO(text, newline=None)  # universal newlines: \n, \r\n or \r
        entries = [(number, line.strip()) for number, line in enumerate(lines, start=1)]
        while entries and not entries[-1][1]:
            entries.pop()
        _check_one_name_per_line(entries, path)
    return _checked_names(entries, path)


def _check_one_name_per_line(entries: list[tuple[int, str]], path: Path) -> None:
    if len(entries) == 1 and any(d in entries[0][1] for d in (",", "\t")):
        raise SideFileError(f"{path}: line 1 holds several names separated by ',' or tab; "
                            "put one class name per line (or name the file .csv)")


def _names_in_table(records: list[Record], path: Path) -> list[tuple[int, str]]:
    """(line, name) of each class in a ``.csv``/``.tsv`` class-name file."""
    if not records:
        return []
    _refuse_blank_lines(records, path, "one class name per line")
    first = records[0]
    if len(records) == 1 and len(first.fields) > 1:
        return [(first.line, field.strip()) for field in first.fields]
    heads = [field.strip().lower() for field in first.fields]
    column = next((j for j, head in enumerate(heads) if head in NAME_HEADERS), None)
    if column is not None:
        records = records[1:]
    elif len(first.fields) == 1:
        column = 0
    else:
        raise SideFileError(f"{path}: line {first.line} has {len(first.fields)} columns but "
                            "none is headed 'class' or 'name'; give one class name per line, or "
                            "a header line naming the column of class names")
    for record in records:
        if len(record.fields) <= column:
            raise SideFileError(f"{path}: line {record.line} has {len(record.fields)} field(s); "
                                f"the class names are in column {column}")
    return [(record.line, record.fields[column].strip()) for record in records]


def _checked_names(entries: list[tuple[int, str]], path: Path) -> list[str]:
    if not entries:
        raise SideFileError(f"{path}: is empty; expected one class name per line")
    first_line: dict[str, int] = {}
    for line, name in entries:
        if not name:
            raise SideFileError(f"{path}: line {line} is blank; one class name per line")
        if name in first_line:
            raise SideFileError(f"{path}: duplicate class names: {name!r} on lines "
                                f"{first_line[name]} and {line}")
        first_line[name] = line
    return [name for _, name in entries]


# --------------------------------------------------------------------------- labels


def read_label_file(path: Path, classes):
    """Labels from ``.npy``, or from a text file: one label per line, or a 0/1 table.

    One label per line: a class index or a class name; the first line is a header only
    when it is ``label``, ``labels``, ``class``, ``target`` or ``y`` (any case), otherwise it
    is the first label. Returns int64 indices when every label is an integer, else the names
    (checked against ``classes`` by the caller).

    A table of several columns holds a 0/1 cell per sample and class. Its first line is a
    header when it holds anything but numbers; it must then name each class in ``classes``
    once, in any order, and the columns are put in that order.

    A blank line (other than at the end), bytes that are not UTF-8 and cells other than
    0/1 raise :class:`~blocks_rx.errors.SideFileError` naming the file and line.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return _read_label_array(path)
    text = read_text(path, SideFileError, "label file")
    records = read_records(text, table_delimiter(path, text), path, SideFileError)
    records = _without_trailing_blanks(records)
    if not records:
        raise SideFileError(f"{path}: the label file is empty; expected one label per line")
    _refuse_blank_lines(records, path, "one label per line")
    if all(len(record.fields) == 1 for record in records):
        return _label_column(records, path)
    return _label_table(records, list(classes), path)


def _read_label_array(path: Path):
    import numpy as np

    try:
        with open(path, "rb") as handle:
            signature = handle.read(len(NPY_SIGNATURE))
    except FileNotFoundError:
        raise SideFileError(f"{path}: no such label file") from None
    except OSError as exc:
        raise SideFileError(f"{path}: cannot read the label file ({exc.strerror or exc})") from None
    if signature != NPY_SIGNATURE:
        raise SideFileError(f"{path}: not a .npy file (it does not start with the .npy "
                            "signature); save the labels with np.save")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SideFileError(f"{path}: cannot read labels from this .npy file ({exc})") from None


def _label_column(records: list[Record], path: Path):
    import numpy as np

    cells = [record.fields[0].strip() for record in records]
    if cells[0].lower() in LABEL_HEADERS:
        cells = cells[1:]
        if not cells:
            raise SideFileError(f"{path}: has a header (line {records[0].line}) but no labels")
    if all(re.fullmatch(r"[+-]?\d+", cell) for cell in cells):
        return np.array([int(cell) for cell in cells], dtype=np.int64)
    return np.array(cells, dtype=str)


def _label_table(records: list[Record], classes: list[str], path: Path):
    import numpy as np

    first = [field.strip() for field in records[0].fields]
    header = None if all(_is_number(cell) for cell in first) else first
    rows = records[1:] if header else records
    if not rows:
        raise SideFileError(f"{path}: has a header (line {records[0].line}) but no labels")
    _check_widths(rows, len(first), path, SideFileError, records[0].line)
    names = header or (classes if len(first) == len(classes) else None)
    table = np.array([[_zero_or_one(cell, record.line, row, column, path, names)
                       for column, cell in enumerate(record.fields)]
                      for row, record in enumerate(rows)], dtype=np.int64)
    if header is not None:
        table = table[:, _columns_in_class_order(header, classes, records[0].line, path)]
    return table


def _zero_or_one(cell: str, line: int, row: int, column: int, path: Path, names) -> int:
    value = ZERO_ONE.get(cell.strip())
    if value is None:
        shown = f" (class {names[column]!r})" if names is not None else ""
        raise SideFileError(f"{path}: line {line} (row {row}), column {column}{shown} holds "
                            f"{cell.strip()!r}; a multi-label table holds only 0 and 1")
    return value


def _columns_in_class_order(header: list[str], classes: list[str], line: int,
                            path: Path) -> list[int]:
    position: dict[str, int] = {}
    for column, name in enumerate(header):
        if name not in classes:
            raise SideFileError(f"{path}: line {line}, column {column} names class "
                                f"{name!r}, which is not among the score columns")
        if name in position:
            raise SideFileError(f"{path}: line {line}: class {name!r} heads columns "
                                f"{position[name]} and {column}")
        position[name] = column
    missing = [c for c in classes if c not in position]
    if missing:
        raise SideFileError(f"{path}: line {line} has no column for class {missing[0]!r}"
                            + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    return [position[c] for c in classes]


# --------------------------------------------------------------------------- taxonomies


def read_taxonomy_file(path) -> dict[str, str]:
    """A class -> path dict from a CSV/TSV file whose first line names the columns ``class``
    and ``path`` (any case, in any order; other columns are ignored).

    Each further line maps one class to its path; a class listed twice with the same path
    counts once. A missing file or column, an empty file, a line of the wrong width, an empty
    class, a class given two paths and bytes that are not UTF-8 are a
    :class:`~blocks_rx.errors.SideFileError` naming the file and line.
    """
    path = Path(path)
    text = read_text(path, SideFileError, "taxonomy file")
    records = [r for r in read_records(text, table_delimiter(path, text), path, SideFileError)
               if r.fields]
    if not records:
        raise SideFileError(f"{path}: the taxonomy file is empty; expected a line 'class,path', "
                            "then one line per class")
    header, rows = records[0], records[1:]
    which, where = _taxonomy_columns(header, path)
    if not rows:
        raise SideFileError(f"{path}: has a header (line {header.line}) but no classes")
    _check_widths(rows, len(header.fields), path, SideFileError, header.line)
    return _class_paths(rows, which, where, path)


def _taxonomy_columns(header: Record, path: Path) -> tuple[int, int]:
    heads = [field.strip().lower() for field in header.fields]
    if "class" not in heads or "path" not in heads:
        raise SideFileError(f"{path}: line {header.line} must name the columns 'class' and "
                            f"'path'; it holds {', '.join(map(repr, header.fields))}")
    return heads.index("class"), heads.index("path")


def _class_paths(rows: list[Record], which: int, where: int, path: Path) -> dict[str, str]:
    paths: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for row in rows:
        name, value = row.fields[which].strip(), row.fields[where].strip()
        if not name:
            raise SideFileError(f"{path}: line {row.line} has an empty class")
        if paths.setdefault(name, value) != value:
            raise SideFileError(f"{path}: class {name!r} is listed twice with different paths: "
                                f"{paths[name]!r} on line {first_line[name]}, {value!r} on "
                                f"line {row.line}")
        first_line.setdefault(name, row.line)
    return paths
