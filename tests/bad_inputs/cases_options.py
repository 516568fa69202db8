"""Options with a range or a fixed set of values, given bad values on the command line."""

from __future__ import annotations

from blocks_rx.errors import OptionError, SideFileError, UnknownChoice

from bad_inputs.corpus import Case

GOOD = "{made}/good.npy"


def analyze(*flags: str) -> tuple[str, ...]:
    return ("analyze", GOOD, "--out", "{out}", *flags)


def _order_csv_has_cuts(*cuts: int):
    def check(out) -> None:
        header = (out / "order.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert [c for c in header if c.startswith("cluster_k")] == [f"cluster_k{k}" for k in cuts], header

    return check


def _no_groups_files(out) -> None:
    assert not (out / "groups.csv").exists() and not (out / "groups.png").exists()


CASES = [
    Case("options/unknown-measure", analyze("--measure", "kendall"),
         error=OptionError, mentions=("--measure", "kendall", "pearson")),
    Case("options/unknown-ordering", analyze("--ordering", "FOO"),
         error=UnknownChoice, mentions=("ordering method 'FOO'", "hclust", "TSP")),
    Case("options/unknown-kind", analyze("--kind", "scores"),
         error=OptionError, mentions=("--kind", "scores", "logits")),
    Case("options/unknown-hclust-backend", analyze("--hclust-backend", "fortran"),
         error=OptionError, mentions=("--hclust-backend", "fortran")),
    Case("options/seed-beyond-32-bits", analyze("--ordering", "TSP", "--seed", "3000000000"),
         error=OptionError, mentions=("seed", "3000000000", "2147483647")),
    Case("options/seed-negative", analyze("--seed", "-1"),
         error=OptionError, mentions=("seed", "-1")),
    Case("options/seed-not-a-number", analyze("--seed", "abc"),
         error=OptionError, mentions=("--seed", "abc")),
    Case("options/block-size-zero", analyze("--block-size", "0"),
         error=OptionError, mentions=("block_size", "0")),
    Case("options/block-size-negative", analyze("--block-size", "-5"),
         error=OptionError, mentions=("block_size", "-5")),
    Case("options/cuts-not-numbers", analyze("--cuts", "2,x"),
         error=OptionError, mentions=("--cuts", "'2,x'")),
    Case("options/cuts-beyond-the-classes", analyze("--cuts", "2,40"),
         error=OptionError, mentions=("cuts", "40", "6 classes")),
    Case("options/cuts-within-the-classes", analyze("--cuts", "3,6"),
         check=_order_csv_has_cuts(3, 6)),
    Case("options/n-groups-one", analyze("--n-groups", "1"),
         error=OptionError, mentions=("n_groups", "at least 2", "1")),
    Case("options/n-groups-beyond-the-classes", analyze("--n-groups", "9"),
         error=OptionError, mentions=("n_groups", "9")),
    Case("options/fuzzifier-below-one", analyze("--fuzzifier", "0.5"),
         error=OptionError, mentions=("fuzzifier", "0.5")),
    Case("options/fuzzifier-nan", analyze("--fuzzifier", "nan"),
         error=OptionError, mentions=("fuzzifier", "nan")),
    Case("options/max-memory-unreadable", analyze("--max-memory", "lots"),
         error=OptionError, mentions=("--max-memory", "lots")),
    Case("options/taxonomy-without-the-taxonomy-ordering",
         analyze("--taxonomy", "{made}/taxonomy-full.csv"),
         error=OptionError, mentions=("taxonomy", "does not apply", "hclust")),
    Case("options/taxonomy-ordering-without-a-taxonomy", analyze("--ordering", "taxonomy"),
         error=OptionError, mentions=("taxonomy", "--taxonomy")),
    Case("options/taxonomy-missing-classes",
         analyze("--ordering", "taxonomy", "--taxonomy", "{made}/taxonomy-partial.csv"),
         error=SideFileError, mentions=("{made}/taxonomy-partial.csv", "5 class(es) missing",
                                        "'class_1'")),
    Case("options/linkage-with-seriation", analyze("--ordering", "OLO", "--linkage", "single"),
         error=OptionError, mentions=("linkage", "does not apply", "OLO")),
    Case("options/control-not-key-value", analyze("--ordering", "TSP", "--control", "foo"),
         error=OptionError, mentions=("--control", "KEY=VALUE", "foo")),
    Case("options/control-with-hclust", analyze("--control", "method=2opt"),
         error=OptionError, mentions=("control", "does not apply", "hclust")),
    Case("options/groups-need-a-tree", analyze("--ordering", "TSP"), check=_no_groups_files,
         warns="no groups: fuzzy-cmeans needs an ordering with a tree"),
]
