"""``blocks-rx export`` of result folders that are damaged, mixed or not results at all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from blocks_rx import cli, read_result
from blocks_rx.errors import MixedResultError, ResultError

from bad_inputs.corpus import Case
from bad_inputs.make_corpus import good_scores, maker

_BASE: dict[str, Path] = {}


def _copy_of_a_result(path: Path, seed: int = 5) -> Path:
    """A fresh valid result at ``path`` (analysed once per seed, then copied)."""
    if seed not in _BASE:
        source = path.parent / f"base-result-{seed}"
        scores = path.parent / f"base-scores-{seed}.npy"
        np.save(scores, good_scores(seed=seed))
        assert cli.run(["analyze", str(scores), "--out", str(source)]) == 0
        _BASE[seed] = source
    shutil.copytree(_BASE[seed], path)
    return path


@maker("result-corrupt-npz")
def _corrupt_npz(path: Path) -> None:
    folder = _copy_of_a_result(path)
    data = (folder / "similarity.npz").read_bytes()
    (folder / "similarity.npz").write_bytes(data[: len(data) // 2])


@maker("result-report-missing-keys")
def _report_missing_keys(path: Path) -> None:
    folder = _copy_of_a_result(path)
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    for key in ("files", "ordering"):
        del report[key]
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")


@maker("result-report-not-json")
def _report_not_json(path: Path) -> None:
    folder = _copy_of_a_result(path)
    (folder / "report.json").write_text('{"format": "blocks-rx result 2", ', encoding="utf-8")


@maker("result-report-older-format")
def _report_older(path: Path) -> None:
    folder = _copy_of_a_result(path)
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    del report["format"]
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")


@maker("result-no-report")
def _no_report(path: Path) -> None:
    (_copy_of_a_result(path) / "report.json").unlink()


@maker("result-order-from-another-run")
def _mixed_order(path: Path) -> None:
    folder = _copy_of_a_result(path)
    other = _copy_of_a_result(path.parent / "other-result", seed=6)
    shutil.copy(other / "order.csv", folder / "order.csv")


@maker("result-missing-npz")
def _missing_npz(path: Path) -> None:
    (_copy_of_a_result(path) / "similarity.npz").unlink()


@maker("result-stale-groups")
def _stale_groups(path: Path) -> None:
    """A --no-groups result beside the groups files of an older run with groups."""
    folder = path.parent / "no-groups-result"
    scores = path.parent / "no-groups-scores.npy"
    np.save(scores, good_scores(seed=5))
    assert cli.run(["analyze", str(scores), "--out", str(folder), "--no-groups"]) == 0
    shutil.copytree(folder, path)
    old = _copy_of_a_result(path.parent / "with-groups-result")
    for name in ("groups.csv", "groups.png"):
        shutil.copy(old / name, path / name)


def export(name: str) -> tuple[str, ...]:
    return ("export", f"{{made}}/{name}", "--format", "csv", "--out", "{out}/../r-export")


CASES = [
    Case("export/corrupt-similarity-npz", export("result-corrupt-npz"),
         error=MixedResultError, mentions=("{made}/result-corrupt-npz", "similarity.npz")),
    Case("export/report-missing-keys", export("result-report-missing-keys"),
         error=ResultError, mentions=("{made}/result-report-missing-keys/report.json",
                                      "missing files, ordering")),
    Case("export/report-not-json", export("result-report-not-json"),
         error=ResultError, mentions=("{made}/result-report-not-json/report.json",
                                      "not valid JSON")),
    Case("export/report-of-an-older-format", export("result-report-older-format"),
         error=ResultError, mentions=("{made}/result-report-older-format", "older blocks-rx")),
    Case("export/no-report", export("result-no-report"),
         error=ResultError, mentions=("{made}/result-no-report", "no report.json")),
    Case("export/order-csv-from-another-run", export("result-order-from-another-run"),
         error=MixedResultError, mentions=("{made}/result-order-from-another-run",
                                           "order.csv does not match report.json")),
    Case("export/similarity-npz-missing", export("result-missing-npz"),
         error=MixedResultError, mentions=("{made}/result-missing-npz",
                                           "similarity.npz is missing")),
    Case("export/stale-groups-files", export("result-stale-groups"),
         error=MixedResultError, mentions=("{made}/result-stale-groups",
                                           "groups.csv, groups.png left over")),
    Case("export/corrupt-npz-read-without-verifying",
         call=lambda files, made: read_result(made / "result-corrupt-npz", verify=False),
         error=ResultError, mentions=("result-corrupt-npz", "cannot read the result")),
    Case("export/no-such-folder", export("no-such-result"),
         error=ResultError, mentions=("{made}/no-such-result", "no such result folder")),
]
