"""Command line: each subcommand parses its options, calls the API and writes files."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from . import __version__

DESCRIPTION = "Class-similarity structure of large classifiers (Alsallakh et al., 2020)."


def _add_analysis_options(parser: argparse.ArgumentParser) -> None:
    from .ordering import DISTANCES, LINKAGES, METHODS as ORDERS
    from .scores import TRANSFORMS
    from .similarity import METHODS

    group = parser.add_argument_group("similarity")
    group.add_argument("--method", choices=list(METHODS), default="pearson",
                       help="correlation variant (default: pearson, the paper's Eq. 1)")
    group.add_argument("--transform", choices=list(TRANSFORMS), default="none",
                       help="per-sample conversion before correlating (default: none)")
    group.add_argument("--center", action="store_const", const="center", dest="transform",
                       help="same as --transform center: remove each sample's mean logit")
    group.add_argument("--clip-negative", action="store_true",
                       help="set negative correlations to 0 (the authors' notebook does)")
    group.add_argument("--drop-constant", action="store_true",
                       help="drop classes whose scores never vary instead of zeroing them")
    group.add_argument("--block-size", type=int, default=None, metavar="ROWS",
                       help="samples per streamed block (default: about 64 MB worth)")
    group = parser.add_argument_group("ordering")
    group.add_argument("--order", default="hclust", metavar="METHOD",
                       help=f"{', '.join(ORDERS)}, or any R seriation method for dist objects "
                            "(OLO, GW, Spectral, TSP, VAT, ...; see `blocks-rx doctor`); "
                            "default: hclust")
    group.add_argument("--backend", choices=["auto", "r", "python"], default="auto",
                       help="hclust in R (through rpy2) or its exact Python twin; auto: R when "
                            "available (default)")
    group.add_argument("--taxonomy", metavar="FILE",
                       help="CSV with columns class,path (e.g. indoor/shopping) for --order taxonomy")
    group.add_argument("--seed", type=int, default=0, help="seed for stochastic seriation methods")
    group.add_argument("--criteria", action="store_true",
                       help="add R seriation's criterion values of the order to report.json")
    group = parser.add_argument_group("groups")
    group.add_argument("--no-groups", dest="groups", action="store_false",
                       help="skip fuzzy, failed and split groups (groups.csv, groups.png)")
    group.add_argument("--groups", dest="n_groups", type=int, default=None, metavar="N",
                       help="number of fuzzy groups (default: chosen from the eigenvalues)")
    group.add_argument("--linkage", choices=list(LINKAGES), default="complete",
                       help="hclust linkage, R's names (default: complete, as in the paper)")
    group.add_argument("--distance", choices=list(DISTANCES), default="1-r",
                       help="distance derived from the similarity (default: 1-r)")
    group.add_argument("--cuts", default="2,4,8,16", metavar="K,K,...",
                       help="flat cuts listed in order.csv (default: 2,4,8,16)")


def _analysis_kwargs(args) -> dict:
    try:
        cuts = tuple(int(k) for k in args.cuts.split(",") if k.strip())
    except ValueError:
        raise SystemExit(f"blocks-rx: --cuts must be comma-separated integers, got {args.cuts!r}")
    return dict(method=args.method, transform=args.transform, clip_negative=args.clip_negative,
                order=args.order, linkage=args.linkage, distance=args.distance, cuts=cuts,
                backend=args.backend, taxonomy=args.taxonomy, seed=args.seed,
                criteria=args.criteria, groups=args.groups, n_groups=args.n_groups,
                drop_constant=args.drop_constant,
                block_size=args.block_size)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blocks-rx", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"blocks-rx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="similarity matrix, hclust order, heatmap and report from a score file",
        description="Compute the class-similarity matrix of a score matrix (samples x classes), "
                    "order it with R-identical hclust and write similarity.npz, order.csv, "
                    "heatmap.png, distributions.png and report.json.")
    analyze.add_argument("scores", help="score file: .npy .npz .csv .tsv .parquet .pt")
    analyze.add_argument("--out", required=True, type=Path, help="output folder")
    analyze.add_argument("--classes", help="class names, one per line (default: from the file)")
    analyze.add_argument("--labels", help="true labels (indices or names, one per line; .npy) "
                                          "for a confusion matrix")
    analyze.add_argument("--kind", choices=["logits", "probabilities", "multilabel"],
                         default="logits", help="what the scores are (default: logits)")
    analyze.add_argument("--key", help="array name inside an .npz or .pt file")
    analyze.add_argument("--export-r", action="store_true",
                         help="also write blocks.rds (with R) or r-export/ (CSV + JSON, without R)")
    _add_analysis_options(analyze)

    export = commands.add_parser(
        "export", help="export an analyze output folder for R (.rds, or CSV + JSON)",
        description="Write the similarity matrix, a real R hclust object, the order and the "
                    "provenance of an analyze output folder as one .rds file (needs R and rpy2) "
                    "or as CSV + JSON that r_scripts/read_blocks.R reads into the same list.")
    export.add_argument("result", type=Path, help="a folder written by `blocks-rx analyze`")
    export.add_argument("--format", choices=["rds", "csv"], default="rds")
    export.add_argument("--out", type=Path,
                        help="target (default: RESULT/blocks.rds or RESULT/r-export/)")

    figures = commands.add_parser(
        "figures", help="reproduce an analogue of each of the paper's figures (no downloads)",
        description="Write an analogue of each figure of the paper (Figs. 1, 2a, 2b, 3, 4a, 4b, "
                    "5, 6, 7 and the notebook's confusion comparison) from the langid demo "
                    "(real), a scikit-learn digits classifier (real) and synthetic scores with "
                    "planted structure (said in each title).")
    figures.add_argument("--out", type=Path, default=Path("figures-output"), help="output folder")
    figures.add_argument("--dpi", type=int, default=110)

    commands.add_parser("doctor", help="what is installed (R, seriation, rpy2, torch, CUDA) "
                                       "and how to fix what is missing")

    demo = commands.add_parser(
        "demo", help="run the analysis on the embedded langid demo (97 languages, real model)",
        description="Score texts built from Babel's CLDR locale data with langid's 97-language "
                    "model (both ship inside their packages; nothing is downloaded), then run "
                    "the analysis. The scores are cached after the first run.")
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    demo.add_argument("--transform", default="standardize",
                      choices=["none", "center", "standardize"],
                      help="per-text transform of langid's scores (default: standardize; raw "
                           "scores carry a per-text offset and scale that grow with length)")
    return parser


def _plain_warning(message, category, *args, **kwargs) -> str:
    return f"warning: {message}\n"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():  # restores the caller's filters and format afterwards
        warnings.simplefilter("default")
        warnings.formatwarning, previous = _plain_warning, warnings.formatwarning
        try:
            return _dispatch(args)
        finally:
            warnings.formatwarning = previous


def _dispatch(args) -> int:
    from .scores import ScoresError

    try:
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "figures":
            from .figures import make_all

            print(f"writing figures to {args.out}/")
            make_all(args.out, dpi=args.dpi)
            return 0
        if args.command == "export":
            return _export(args.result, args.format, args.out)
        if args.command == "doctor":
            from .doctor import report

            return report()
    except ScoresError as exc:
        print(f"blocks-rx: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError, RuntimeError) as exc:
        print(f"blocks-rx: error: {exc}", file=sys.stderr)
        return 1
    return 0  # pragma: no cover - argparse requires a command


def _analyze(args) -> int:
    from .analysis import analyze, write_outputs
    from .scores import load_scores

    scores = load_scores(args.scores, classes=args.classes, labels=args.labels,
                         kind=args.kind, key=args.key)
    status = _run(scores, args.out, _analysis_kwargs(args))
    if status == 0 and args.export_r:
        from .r.session import available

        return _export(args.out, "rds" if available() else "csv", None)
    return status


def _export(result_dir: Path, fmt: str, target: Path | None) -> int:
    from .analysis import read_outputs
    from .export import export_csv, export_rds

    similarity, ordering, report = read_outputs(result_dir)
    extra = dict(provenance=report, **_saved_groups(result_dir))
    if fmt == "rds":
        target = export_rds((similarity, ordering), target or result_dir / "blocks.rds", **extra)
        print(f"wrote {target}; in R: x <- readRDS('{target}'); plot(x$hclust)")
    else:
        target = export_csv((similarity, ordering), target or result_dir / "r-export", **extra)
        print(f"wrote {target}/; in R: source('r_scripts/read_blocks.R'); x <- read_blocks('{target}')")
    return 0


def _saved_groups(result_dir: Path) -> dict:
    """Crisp groups (1-based) and memberships from an analyze folder's groups.csv, if any."""
    path = result_dir / "groups.csv"
    if not path.exists():
        return {}
    import pandas as pd

    table = pd.read_csv(path)
    columns = [c for c in table.columns if c.startswith("membership_G")]
    return {"groups": table["group"].str[1:].astype(int).to_numpy(),
            "memberships": table[columns].to_numpy()}


def _demo(args) -> int:
    from .demo import load_langid_demo
    from .scores import load_scores

    started = time.perf_counter()
    data = load_langid_demo()
    print(f"demo: {len(data['texts']):,} texts scored by langid over {len(data['classes'])} "
          f"languages ({time.perf_counter() - started:.1f} s, cached after the first run)")
    scores = load_scores(data["scores"], classes=data["classes"], labels=data["labels"])
    options = dict(transform=args.transform)
    return _run(scores, args.out, options, demo=True)


def _run(scores, out: Path, options: dict, demo: bool = False) -> int:
    from .analysis import analyze, write_outputs

    started = time.perf_counter()
    result = analyze(scores, **options)
    written = write_outputs(result, out)
    sim, ordering = result.similarity, result.ordering
    print(f"{sim.method} similarity of {sim.n_classes} classes over {sim.n_samples:,} samples "
          f"({sim.seconds:.2f} s), {ordering.method} order ({ordering.linkage} linkage on "
          f"{ordering.distance}, {ordering.seconds:.2f} s); total {time.perf_counter() - started:.1f} s")
    if result.accuracy is not None:
        print(f"top-1 accuracy against the labels: {result.accuracy:.3f}")
    print(f"wrote {len(written)} files to {out}/: {', '.join(written)}")
    if demo:
        print(f"open {out / 'heatmap.png'} to see the blocks")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
