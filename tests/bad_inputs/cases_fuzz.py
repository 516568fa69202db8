"""Minimal reproducers of what ``tests/test_fuzz_readers.py`` found: one case per distinct crash.

Each input is the smallest one found (or rebuilt by hand from it) that made a reader, or
``blocks_rx.results.read``, raise something other than a
:class:`~blocks_rx.errors.BlocksInputError`. Binary inputs are written by ``@maker`` functions
(no blobs in the repository); the one text input is in ``files/fuzz/``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from blocks_rx.errors import ResultError, ScoresError
from blocks_rx.results import read as read_result

from bad_inputs.corpus import Case
from bad_inputs.make_corpus import good_scores, maker

NEEDS_TORCH = (pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                  reason="torch not installed"),)
NEEDS_PYARROW = (pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None,
                                    reason="pyarrow not installed"),)


def _cli(path: str, *extra) -> tuple[str, ...]:
    return ("analyze", path, "--out", "{out}", *extra)


# --------------------------------------------------------------------------- score files


@maker("fuzz_header_cut_in_a_string.npy")
def _header_cut_in_a_string(path: Path) -> None:
    """An .npy whose header dict stops inside a string: numpy's header parser raises
    tokenize.TokenError (not a ValueError) while it tries to repair the header."""
    header = b"{'descr': '<f4', 'fortran_o"
    header += b" " * (64 - 10 - len(header) - 1) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)


@maker("fuzz_descr_not_a_dtype.npy")
def _descr_not_a_dtype(path: Path) -> None:
    """An .npy whose header's descr is ``'<,4'``: np.dtype() raises SyntaxError on it."""
    header = b"{'descr': '<,4', 'fortran_order': False, 'shape': (2, 2), }"
    header += b" " * ((-(10 + len(header) + 1)) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
                     + bytes(16))


@maker("fuzz_invalid_utf8_ids.parquet")
def _invalid_utf8_ids(path: Path) -> None:
    """A parquet file whose string column (the sample ids) holds bytes that are not UTF-8:
    pyarrow raises ArrowException when pandas reads the column's values."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    ids = pa.array([b"s\xf1", b"s1", b"s2"], pa.binary()).view(pa.string())
    table = pa.table({"sample": ids, "cat": [0.1, 0.2, 0.5], "dog": [0.3, 0.1, 0.2]})
    pq.write_table(table, path)


@maker("fuzz_class_column_not_utf8.parquet")
def _class_column_not_utf8(path: Path) -> None:
    """A parquet file whose second column (a class) is a string column holding a byte that is
    not UTF-8: ArrowException while its values are converted to numbers."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    scores = pa.array([b"1\xf1", b"2", b"3"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"cat": [0.1, 0.2, 0.5], "dog": scores}), path)


def _zip_version_255(data: bytearray) -> None:
    """Set the "version needed to extract" of the first central-directory entry to 25.5:
    zipfile raises NotImplementedError (not BadZipFile) when it opens the archive."""
    central = data.find(b"PK\x01\x02")
    data[central + 6 : central + 8] = (255).to_bytes(2, "little")


@maker("fuzz_zip_version.npz")
def _npz_zip_version(path: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, scores=good_scores(n=5, m=3))
    data = bytearray(buffer.getvalue())
    _zip_version_255(data)
    path.write_bytes(bytes(data))


@maker("fuzz_empty_pickle_stack.pt")
def _empty_pickle_stack(path: Path) -> None:
    """Three bytes: a pickle protocol mark and STOP with nothing on the stack. torch.load's
    weights-only unpickler raises IndexError ("pop from empty list")."""
    path.write_bytes(b"\x80\x02.")


# --------------------------------------------------------------------------- result folders


def _base_result(folder: Path) -> Path:
    """A result written by ``blocks-rx analyze``, made once per corpus folder."""
    from blocks_rx import cli

    base = folder / "fuzz_result_base"
    if not (base / "report.json").exists():
        shutil.rmtree(base, ignore_errors=True)
        scores = folder / "fuzz_result_scores.npy"
        np.save(scores, good_scores(n=40, m=6, seed=5))
        assert cli.run(["analyze", str(scores), "--out", str(base)]) == 0
    return base


def _edited_result(path: Path, edit) -> None:
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(_base_result(path.parent), path)
    edit(path)


def _edit_report(folder: Path, change) -> None:
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    change(report)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _rewrite_npz(folder: Path, change) -> None:
    """Change the bytes of similarity.npz and record its new checksum in report.json, as a
    consistent edit would: the checksums then agree and the parsers see the damage."""
    path = folder / "similarity.npz"
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))
    digest = hashlib.sha256(bytes(data)).hexdigest()
    _edit_report(folder, lambda report: report["files"].__setitem__("similarity.npz", digest))


def _first_member_data(data: bytearray) -> int:
    """Offset of the first zip member's (compressed) data, from its local header."""
    name_length = int.from_bytes(data[26:28], "little")
    extra_length = int.from_bytes(data[28:30], "little")
    return 30 + name_length + extra_length


def _bad_deflate_block(data: bytearray) -> None:
    data[_first_member_data(data)] = 0xFF  # deflate block type 3 does not exist: zlib.error


def _unknown_compression(data: bytearray) -> None:
    method = (99).to_bytes(2, "little")  # no such method: NotImplementedError in zipfile
    data[8:10] = method
    central = data.find(b"PK\x01\x02")
    data[central + 10 : central + 12] = method


@maker("fuzz_result_files_not_a_mapping")
def _files_not_a_mapping(path: Path) -> None:
    """report.json whose ``files`` is null: validate() calls .items() on it (AttributeError)."""
    _edited_result(path, lambda f: _edit_report(f, lambda r: r.__setitem__("files", None)))


@maker("fuzz_result_bad_deflate")
def _result_bad_deflate(path: Path) -> None:
    """similarity.npz whose first member's deflate stream is damaged: zlib.error."""
    _edited_result(path, lambda f: _rewrite_npz(f, _bad_deflate_block))


@maker("fuzz_result_unknown_compression")
def _result_unknown_compression(path: Path) -> None:
    """similarity.npz whose first member names compression method 99: NotImplementedError."""
    _edited_result(path, lambda f: _rewrite_npz(f, _unknown_compression))


@maker("fuzz_result_zip_version")
def _result_zip_version(path: Path) -> None:
    """similarity.npz whose zip directory asks for zip version 25.5: NotImplementedError."""
    _edited_result(path, lambda f: _rewrite_npz(f, _zip_version_255))


def _encrypted_flag(data: bytearray) -> None:
    """Mark the first member as encrypted (flag bit 0, in its central-directory entry):
    zipfile raises RuntimeError ("password required for extraction")."""
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1


@maker("fuzz_result_encrypted_member")
def _result_encrypted_member(path: Path) -> None:
    _edited_result(path, lambda f: _rewrite_npz(f, _encrypted_flag))


def _numbers_for_groups(folder: Path) -> None:
    """groups.csv with its ``group`` cells as numbers (1 for G1...), checksum updated: reading
    them with the ``.str`` accessor raises AttributeError."""
    path = folder / "groups.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(header + "".join(row.replace(",G", ",", 1) for row in rows), encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _edit_report(folder, lambda report: report["files"].__setitem__("groups.csv", digest))


@maker("fuzz_result_groups_numbers")
def _result_groups_numbers(path: Path) -> None:
    _edited_result(path, _numbers_for_groups)


def _read(name: str):
    return lambda files, made: read_result(made / name)


# --------------------------------------------------------------------------- cases

CASES = [
    Case("fuzz/npy-header-cut-in-a-string", _cli("{made}/fuzz_header_cut_in_a_string.npy"),
         error=ScoresError, mentions=("{made}/fuzz_header_cut_in_a_string.npy",)),
    Case("fuzz/npy-descr-not-a-dtype", _cli("{made}/fuzz_descr_not_a_dtype.npy"),
         error=ScoresError, mentions=("{made}/fuzz_descr_not_a_dtype.npy",)),
    Case("fuzz/parquet-ids-not-utf8", _cli("{made}/fuzz_invalid_utf8_ids.parquet"),
         error=ScoresError, mentions=("{made}/fuzz_invalid_utf8_ids.parquet",),
         marks=NEEDS_PYARROW),
    Case("fuzz/parquet-class-column-not-utf8", _cli("{made}/fuzz_class_column_not_utf8.parquet"),
         error=ScoresError, mentions=("{made}/fuzz_class_column_not_utf8.parquet",),
         marks=NEEDS_PYARROW),
    Case("fuzz/npz-zip-version-unsupported", _cli("{made}/fuzz_zip_version.npz"),
         error=ScoresError, mentions=("{made}/fuzz_zip_version.npz",)),
    Case("fuzz/pt-empty-pickle-stack", _cli("{made}/fuzz_empty_pickle_stack.pt"),
         error=ScoresError, mentions=("{made}/fuzz_empty_pickle_stack.pt",), marks=NEEDS_TORCH),
    # Found by an earlier reader (IndexError from pandas); kept so that it stays refused.
    Case("fuzz/tsv-lone-tab", _cli("{files}/fuzz/lone-tab.tsv"),
         error=ScoresError, mentions=("{files}/fuzz/lone-tab.tsv",)),
    Case("fuzz/result-files-not-a-mapping", call=_read("fuzz_result_files_not_a_mapping"),
         error=ResultError, mentions=("{made}/fuzz_result_files_not_a_mapping",)),
    Case("fuzz/result-npz-bad-deflate", call=_read("fuzz_result_bad_deflate"),
         error=ResultError, mentions=("{made}/fuzz_result_bad_deflate",)),
    Case("fuzz/result-npz-unknown-compression", call=_read("fuzz_result_unknown_compression"),
         error=ResultError, mentions=("{made}/fuzz_result_unknown_compression",)),
    Case("fuzz/result-npz-zip-version-unsupported", call=_read("fuzz_result_zip_version"),
         error=ResultError, mentions=("{made}/fuzz_result_zip_version",)),
    Case("fuzz/result-npz-encrypted-member", call=_read("fuzz_result_encrypted_member"),
         error=ResultError, mentions=("{made}/fuzz_result_encrypted_member",)),
    Case("fuzz/result-groups-as-numbers", call=_read("fuzz_result_groups_numbers"),
         error=ResultError, mentions=("{made}/fuzz_result_groups_numbers",)),
]
