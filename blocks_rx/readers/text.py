"""Text files: score tables (``.csv``, ``.tsv``, ``.txt``), class-name files and label files."""

from __future__ import annotations

from pathlib import Path

from ..errors import SideFileError
from ._raw import Raw


def read_table(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Scores from a delimited text file whose header holds the class names."""
    import pandas as pd

    from .frames import from_frame

    sep = "\t" if path.suffix.lower() == ".tsv" else None
    frame = pd.read_csv(path, sep=sep, engine="python" if sep is None else "c")
    return from_frame(frame, str(path))


def read_class_names(path) -> list[str]:
    """Read class names from a text file, one per line (blank lines are an error).

    A ``.csv``/``.tsv`` file is read as a table whose first column holds the names.
    """
    path = Path(path)
    if not path.exists():
        raise SideFileError(f"{path}: no such class-name file")
    if path.suffix.lower() in (".csv", ".tsv"):
        import pandas as pd

        frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
        return [str(v) for v in frame.iloc[:, 0]]
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise SideFileError(f"{path}: line {number} is blank; one class name per line")
    return [line.strip() for line in lines]


def read_label_file(path: Path, classes):
    """Labels from .npy, or from a text/CSV file: one label per line, or a 0/1 table.

    A first line that is neither a class index nor a class name is taken as a header.
    """
    import numpy as np

    path = Path(path)
    if not path.exists():
        raise SideFileError(f"{path}: no such label file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    import pandas as pd

    sep = "\t" if suffix == ".tsv" else ","
    try:
        frame = pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SideFileError(f"{path}: the label file is empty") from None
    known = set(classes)
    first = [str(v).strip() for v in frame.iloc[0]]
    if not all(v.lstrip("-").isdigit() or v in known for v in first):
        frame = frame.iloc[1:]  # a header line
    if frame.shape[1] == 1:
        values = frame.iloc[:, 0].str.strip().to_numpy()
        try:
            return values.astype(np.int64)
        except ValueError:
            return values.astype(str)
    try:
        return frame.to_numpy().astype(np.int64)
    except ValueError:
        raise SideFileError(f"{path}: a multi-label table must hold only 0 and 1") from None


