"""Binary readers: what the hostile-input corpus cannot express (timing, memory, spies).

The corpus (tests/bad_inputs/cases_binary.py) holds one case per bad input; here the refusals
are checked for speed and for never reading what they refuse, with the available memory
monkeypatched so that the results do not depend on the machine.
"""

from __future__ import annotations

import time
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from blocks_rx import readers
from blocks_rx import scores as scores_module
from blocks_rx.errors import ScoresError
from blocks_rx.readers import binary
from blocks_rx.scores import load_scores

MB = 10**6


@pytest.fixture
def zeros_npz(tmp_path):
    """A real decompression bomb in miniature: 32 MB of zeros, a few KB on disk."""
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, scores=np.zeros((2000, 2000)))
    assert path.stat().st_size < 100_000
    return path


def _memory(monkeypatch, available):
    monkeypatch.setattr(binary, "available_memory", lambda: available)


def _never_read(monkeypatch):
    def read_array(*args, **kwargs):
        raise AssertionError("the data were read")

    monkeypatch.setattr(npy_format, "read_array", read_array)


# --------------------------------------------------------------------------- .npz


def test_member_larger_than_memory_is_refused_in_well_under_a_second(zeros_npz, monkeypatch):
    _memory(monkeypatch, 1 * MB)
    _never_read(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(ScoresError) as info:
        load_scores(zeros_npz)
    assert time.perf_counter() - start < 0.5
    message = str(info.value)
    assert message.startswith(f"{zeros_npz}, array 'scores': ")
    for text in ("shape (2000, 2000) float64", "32.0 MB", "1.0 MB of memory available"):
        assert text in message, message


def test_member_that_fits_is_read(zeros_npz, monkeypatch):
    _memory(monkeypatch, 64 * MB)
    np.testing.assert_array_equal(load_scores(zeros_npz).values, np.zeros((2000, 2000)))


def test_unknown_available_memory_does_not_refuse(zeros_npz, monkeypatch):
    _memory(monkeypatch, None)
    assert load_scores(zeros_npz).values.shape == (2000, 2000)


def test_side_arrays_are_checked_against_memory_too(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    np.savez_compressed(path, scores=np.eye(3), labels=np.zeros(10**6, dtype=np.int64))
    _memory(monkeypatch, 1 * MB)
    with pytest.raises(ScoresError, match=r"s\.npz, array 'labels': declares shape \(1000000,\)"):
        load_scores(path)


def test_header_disagreeing_with_zip_directory_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    np.savez(path, scores=np.ones((4, 3)))
    with zipfile.ZipFile(path) as archive:
        member = archive.read("scores.npy")
    with zipfile.ZipFile(path, "w") as archive:  # one row more in the directory than declared
        archive.writestr("scores.npy", member + bytes(24))
    _never_read(monkeypatch)
    with pytest.raises(ScoresError, match=r"array 'scores': its header declares shape \(4, 3\) "
                                          r"float64 .* disagree"):
        load_scores(path)


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_fortran_order_and_compression_round_trip(tmp_path, save):
    values = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    save(tmp_path / "s.npz", scores=values, classes=np.array([b"a", b"b", b"c"]),
         targets=np.array([0, 1, 2, 0]))
    loaded = load_scores(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.values, values)
    assert loaded.classes == ("a", "b", "c") and loaded.labels.tolist() == [0, 1, 2, 0]


def test_several_named_arrays_list_them_and_the_option():
    with pytest.raises(ScoresError, match=r"x\.npz: holds first, second; say which one holds "
                                          r"the scores with --key NAME \(key= in Python\)"):
        binary.pick_key(["first", "second"], None, "x.npz")


def test_only_side_arrays_say_there_are_no_scores():
    with pytest.raises(ScoresError, match=r"x\.npz: holds only classes, labels, and no scores"):
        binary.pick_key(["classes", "labels"], None, "x.npz")


# --------------------------------------------------------------------------- .npy


def test_npy_version_2_header_is_read(tmp_path):
    values = np.arange(6.0).reshape(3, 2)
    with open(tmp_path / "s.npy", "wb") as handle:
        npy_format.write_array(handle, values, version=(2, 0))
    np.testing.assert_array_equal(load_scores(tmp_path / "s.npy").values, values)


def test_npy_read_whole_is_checked_against_memory(tmp_path, monkeypatch):
    np.save(tmp_path / "s.npy", np.zeros((100, 10)))
    _memory(monkeypatch, 1000)
    with pytest.raises(ScoresError, match=r"s\.npy: declares shape \(100, 10\) float64, 8\.0 KB"):
        load_scores(tmp_path / "s.npy", mmap=False)
    assert isinstance(load_scores(tmp_path / "s.npy").values, np.memmap)  # mapped: not read


def test_object_npy_is_refused_before_numpy_loads_it(tmp_path, monkeypatch):
    np.save(tmp_path / "s.npy", np.ones((3, 2), dtype=object), allow_pickle=True)
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    with pytest.raises(ScoresError, match=r"s\.npy: holds Python objects"):
        load_scores(tmp_path / "s.npy")


# --------------------------------------------------------------------------- probabilities


def _probabilities_file(tmp_path, last):
    values = np.full((1000, 4), 0.25)
    values[-1, -1] = last
    np.save(tmp_path / "p.npy", values)
    return tmp_path / "p.npy"


def test_memory_mapped_probabilities_are_range_checked_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(scores_module, "_RANGE_BLOCK_BYTES", 320)  # 10 rows at a time
    seen = []
    original = scores_module._value_range

    def spy(values):
        seen.append(type(values))
        return original(values)

    monkeypatch.setattr(scores_module, "_value_range", spy)
    path = _probabilities_file(tmp_path, 1.5)
    with pytest.warns(UserWarning, match=r"p\.npy: scores declared as probabilities range over "
                                         r"\[0\.25, 1\.5\]"):
        loaded = load_scores(path, kind="probabilities")
    assert isinstance(loaded.values, np.memmap) and seen == [np.memmap]


def test_memory_mapped_probabilities_in_range_do_not_warn(tmp_path, recwarn):
    loaded = load_scores(_probabilities_file(tmp_path, 0.9), kind="probabilities")
    assert isinstance(loaded.values, np.memmap)
    assert not [w for w in recwarn if "probabilities" in str(w.message)]


# --------------------------------------------------------------------------- read_source


@pytest.mark.parametrize("error", [zipfile.BadZipFile("bad zip"), OverflowError("too big"),
                                   TypeError("odd"), EOFError("short")])
def test_reader_errors_not_foreseen_still_name_the_file(tmp_path, monkeypatch, error):
    path = tmp_path / "s.npy"
    path.write_bytes(b"x")

    def reader(*args, **kwargs):
        raise error

    monkeypatch.setattr(readers, "_readers", lambda: {".npy": reader})
    with pytest.raises(ScoresError, match=rf"s\.npy: cannot read scores \({type(error).__name__}"):
        load_scores(path)


# --------------------------------------------------------------------------- .pt


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


class _Opaque:
    pass


def test_torch_refusal_never_suggests_unsafe_loading(tmp_path, torch):
    path = tmp_path / "s.pt"
    torch.save({"scores": torch.ones(3, 2), "extra": _Opaque()}, path)
    with pytest.raises(ScoresError) as info:
        load_scores(path)
    message = str(info.value)
    assert "Python objects other than tensors" in message and "_Opaque" in message
    assert "weights_only" not in message and "trust" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_torch_load_is_always_weights_only(tmp_path, torch, monkeypatch):
    torch.save({"scores": torch.ones(3, 2)}, tmp_path / "s.pt")
    calls = []
    original = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_scores(tmp_path / "s.pt")
    assert calls and all(call.get("weights_only") is True for call in calls)


def test_legacy_torch_format_is_read(tmp_path, torch):
    values = torch.arange(6.0).reshape(3, 2)
    torch.save({"scores": values, "classes": ["a", "b"]}, tmp_path / "s.pt",
               _use_new_zipfile_serialization=False)
    loaded = load_scores(tmp_path / "s.pt")
    np.testing.assert_array_equal(loaded.values, values.numpy())
    assert loaded.classes == ("a", "b")


def test_sparse_tensor_densified_only_within_available_memory(tmp_path, torch, monkeypatch):
    path = tmp_path / "s.pt"
    torch.save({"scores": torch.eye(100).to_sparse()}, path)
    _memory(monkeypatch, 1000)
    with pytest.raises(ScoresError, match=r"s\.pt, key 'scores': torch\.sparse_coo tensor of "
                                          r"shape \(100, 100\) would take 40\.0 KB dense"):
        load_scores(path)
    _memory(monkeypatch, None)
    np.testing.assert_array_equal(load_scores(path).values, np.eye(100))


def test_key_naming_a_value_that_is_not_a_tensor(tmp_path, torch):
    torch.save({"scores": torch.ones(3, 2), "epoch": 4}, tmp_path / "s.pt")
    with pytest.raises(ScoresError, match=r"s\.pt, key 'epoch': expected a tensor, found int"):
        load_scores(tmp_path / "s.pt", key="epoch")


def test_classes_that_are_neither_a_list_nor_a_tensor(tmp_path, torch):
    torch.save({"scores": torch.ones(3, 2), "classes": "a b"}, tmp_path / "s.pt")
    with pytest.raises(ScoresError, match=r"s\.pt, key 'classes': expected a list of class "
                                          r"names or a tensor, found str"):
        load_scores(tmp_path / "s.pt")
