"""Command line: each subcommand parses its options, calls the API and writes files.

The options of ``analyze`` are built from the registries: every measure, transform,
ordering and group method, and every option those methods take, comes from its registry
entry, so ``--help`` always lists what the code can do.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from . import __version__
from .errors import OptionError
from ._warn import warn_caller

DESCRIPTION = "Class-similarity structure of large classifiers (Alsallakh et al., 2020)."

#: Command-line spellings of engine options whose own name would be ambiguous.
ENGINE_FLAGS = {"scheduler": "--dask-scheduler"}

#: Old option spellings: old flag -> (new flag, destination).
DEPRECATED_FLAGS = {
    "--method": ("--measure", "measure"),
    "--order": ("--ordering", "ordering"),
    "--backend": ("--hclust-backend", "hclust_backend"),
    "--groups": ("--n-groups", "n_groups"),
}


class Interrupted(BaseException):
    """SIGTERM, raised as an exception so that clean-up code runs (like KeyboardInterrupt)."""


class _Deprecated(argparse.Action):
    """An old spelling: stores into the new option's destination, with a warning."""

    def __call__(self, parser, namespace, values, option_string=None):
        new = DEPRECATED_FLAGS[option_string][0]
        warn_caller(f"{option_string} is now {new}", DeprecationWarning)
        setattr(namespace, self.dest, values)


def _registry_help(option, takers: list[str]) -> str:
    default = "" if option.default is None else f"; default: {option.default}"
    return f"{option.help} [{', '.join(takers)}{default}]"


def _add_registry_options(group, registry, *, skip=(), flags=None) -> None:
    """One flag per option any entry of ``registry`` takes, with the entries named
    (``flags`` renames some: ``scheduler`` is ``--dask-scheduler``)."""
    for name, (option, takers) in registry.options().items():
        if name in skip:
            continue
        shown = takers if len(takers) <= 4 else takers[:2] + [f"{len(takers) - 2} more"]
        kwargs = dict(dest=name, default=None, help=_registry_help(option, shown),
                      metavar=option.metavar)
        allowed = option.allowed()
        if name == "control":
            kwargs.update(action="append", type=_key_value)
        elif allowed is not None:
            kwargs.update(choices=list(allowed), metavar=None)
        else:
            kwargs["type"] = option.type
        group.add_argument((flags or {}).get(name, option.flag), **kwargs)


def _key_value(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` -> (key, value as int, float, bool or str)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    for convert in (int, float):
        try:
            return key, convert(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--engine`` and the engines' options (``--device``, ``--dask-scheduler``)."""
    from .engines import ENGINES

    group = parser.add_argument_group("engine", "what computes the similarity (all agree to "
                                      "1e-5), and its options (in brackets: which take it)")
    group.add_argument("--engine", choices=list(ENGINES), default="numpy",
                       help="; ".join(f"{name}: {entry.description.rstrip('.')}"
                                      for name, entry in ENGINES.items()))
    _add_registry_options(group, ENGINES, flags=ENGINE_FLAGS)


def _add_analysis_options(parser: argparse.ArgumentParser) -> None:
    from .groups import GROUP_METHODS
    from .ordering import ORDERINGS
    from .scores import TRANSFORMS
    from .similarity import MEASURES

    group = parser.add_argument_group("similarity")
    group.add_argument("--measure", choices=list(MEASURES), default="pearson",
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

    _add_engine_options(parser)

    builtin = [name for name, entry in ORDERINGS.items() if entry.family != "seriation"]
    group = parser.add_argument_group("ordering", "the order of the classes, and the options "
                                      "of each ordering method (in brackets: which take it)")
    group.add_argument("--ordering", default="hclust", metavar="METHOD",
                       help=f"{', '.join(builtin)}, or one of R seriation's "
                            f"{len(ORDERINGS) - len(builtin)} methods (OLO, GW, Spectral, TSP, "
                            "VAT, ...; `blocks-rx methods` lists them); default: hclust")
    _add_registry_options(group, ORDERINGS, skip=("seed",))
    group.add_argument("--cuts", default=None, metavar="K,K,...",
                       help="flat cuts of the tree listed in order.csv (default: 2,4,8,16, "
                            "those below the number of classes)")
    group.add_argument("--criteria", action="store_true",
                       help="add R seriation's criterion values of the order to report.json")

    group = parser.add_argument_group("groups", "overlapping, failed and split groups "
                                      "(groups.csv, groups.png); need an ordering with a tree")
    group.add_argument("--group-method", dest="groups", choices=list(GROUP_METHODS),
                       default=next(iter(GROUP_METHODS)),
                       help=f"how groups are found (default: {next(iter(GROUP_METHODS))})")
    group.add_argument("--no-groups", dest="groups", action="store_const", const=None,
                       help="skip the groups")
    _add_registry_options(group, GROUP_METHODS)

    group = parser.add_argument_group("run")
    group.add_argument("--seed", type=int, default=0,
                       help="seed of every stochastic step: seriation methods (set.seed in R) "
                            "and fuzzy c-means (default: 0)")
    group.add_argument("--max-memory", metavar="SIZE", default=None,
                       help="memory the job may use, e.g. 6G (default: what is available "
                            "now); a job estimated to need more is refused before it starts")
    group.add_argument("--dry-run", action="store_true",
                       help="print the estimated memory of each step and exit")
    for old, (new, dest) in DEPRECATED_FLAGS.items():
        parser.add_argument(old, dest=dest, action=_Deprecated, help=argparse.SUPPRESS,
                            type=int if dest == "n_groups" else None)


def _analysis_kwargs(args) -> dict:
    from .groups import GROUP_METHODS
    from .ordering import ORDERINGS
    from .preflight import parse_size

    try:
        cuts = None if args.cuts is None else tuple(int(k) for k in args.cuts.split(",")
                                                    if k.strip())
    except ValueError:
        raise OptionError(f"--cuts must be comma-separated whole numbers such as 2,4,8; got "
                          f"{args.cuts!r}") from None
    from .engines import ENGINES

    options = {}
    for name in set(ORDERINGS.options()) | set(GROUP_METHODS.options()) | set(ENGINES.options()):
        value = getattr(args, name, None)
        if value is not None and name != "seed":
            options[name] = dict(value) if name == "control" else value
    try:
        max_memory = parse_size(args.max_memory) if args.max_memory is not None else None
    except ValueError as exc:
        raise OptionError(f"--max-memory: {exc}") from None
    return dict(measure=args.measure, transform=args.transform,
                clip_negative=args.clip_negative, drop_constant=args.drop_constant,
                ordering=args.ordering, groups=args.groups, cuts=cuts, criteria=args.criteria,
                seed=args.seed, block_size=args.block_size, max_memory=max_memory,
                engine=args.engine, **options)


class _RaisingParser(argparse.ArgumentParser):
    """A parser whose usage errors raise :class:`~blocks_rx.errors.OptionError` (for
    :func:`run`) instead of printing the usage and exiting."""

    def error(self, message):
        raise OptionError(f"{message} (see {self.prog} --help)")


def _common_options() -> argparse.ArgumentParser:
    """The options every subcommand takes (``--quiet``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr and no summary lines on stdout (errors "
                             "and warnings are still shown)")
    return common


def build_parser(raise_errors: bool = False) -> argparse.ArgumentParser:
    """The command line; with ``raise_errors`` a bad argument raises OptionError."""
    kind = _RaisingParser if raise_errors else argparse.ArgumentParser
    parser = kind(prog="blocks-rx", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"blocks-rx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_common_options()]  # every subcommand takes them
    _add_analyze_command(commands, common)
    _add_result_commands(commands, common)
    _add_other_commands(commands, common)
    return parser


def _add_analyze_command(commands, common) -> None:
    """``blocks-rx analyze``: its inputs, then the analysis options of the registries."""
    analyze = commands.add_parser(
        "analyze", parents=common,
        help="similarity matrix, hclust order, heatmap and report from a score file",
        description="Compute the class-similarity matrix of a score matrix (samples x classes), "
                    "order it with R-identical hclust and write similarity.npz, order.csv, "
                    "heatmap.png, distributions.png, report.json (and groups.csv, "
                    "groups.png). The output folder is replaced whole, only when every file "
                    "is complete.")
    analyze.add_argument("scores", help="score file: .npy .npz .csv .tsv .parquet .pt; read "
                                        "lazily: .zarr, .h5/.hdf5 (dataset: --key), a folder "
                                        "or glob of .npy shards")
    analyze.add_argument("--out", required=True, help="output folder (new, empty, or an "
                                                      "earlier result, which is replaced)")
    inputs = analyze.add_argument_group("input")
    inputs.add_argument("--classes", help="class names, one per line (default: from the file)")
    inputs.add_argument("--labels", help="true labels (indices or names, one per line; .npy) "
                                         "for a confusion matrix")
    inputs.add_argument("--kind", choices=["logits", "probabilities", "multilabel"],
                        default="logits", help="what the scores are (default: logits)")
    inputs.add_argument("--key", help="array name inside an .npz, .pt, zarr group or HDF5 "
                                      "file, or the list column of a .parquet table that "
                                      "holds the scores")
    _add_analysis_options(analyze)
    analyze.add_argument("--export-r", action="store_true",
                         help="also write blocks.rds (with R) or r-export/ (CSV + JSON, without R)")
    analyze.add_argument("--no-explorer", dest="explorer", action="store_false",
                         help="leave out explorer.html (`blocks-rx explore` builds it later)")


def _add_result_commands(commands, common) -> None:
    """The commands that read results or turn them into files for others: export, figures,
    compare, explore, report, r-path."""
    export = commands.add_parser(
        "export", parents=common,
        help="export an analyze output folder for R (.rds, or CSV + JSON)",
        description="Write the similarity matrix, a real R hclust object, the order and the "
                    "provenance of an analyze output folder as one .rds file (needs R and rpy2) "
                    "or as CSV + JSON; read_blocks() of the blocksrx R package reads either. "
                    "A folder whose files come from different runs is refused.")
    export.add_argument("result", type=Path, help="a folder written by `blocks-rx analyze`")
    export.add_argument("--format", choices=["rds", "csv"], default="rds")
    export.add_argument("--out", type=Path,
                        help="target (default: RESULT/blocks.rds or RESULT/r-export/)")

    figures = commands.add_parser(
        "figures", parents=common,
        help="reproduce an analogue of each of the paper's figures (no downloads)",
        description="Write an analogue of each figure of the paper (Figs. 1, 2a, 2b, 3, 4a, 4b, "
                    "5, 6, 7 and the notebook's confusion comparison) from the langid demo "
                    "(real), a scikit-learn digits classifier (real) and synthetic scores with "
                    "planted structure (said in each title).")
    figures.add_argument("--out", type=Path, default=Path("figures-output"), help="output folder")
    figures.add_argument("--dpi", type=int, default=150)

    _add_compare_command(commands, common)
    _add_explore_command(commands, common)
    _add_report_command(commands, common)

    commands.add_parser(
        "r-path", parents=common,
        help="print the folder of the R files (read_blocks.R, plot_blocks.R, the blocksrx "
             "R package)",
        description="Print where the R files that come with blocks-rx lie, for R users of a pip "
                    "install: R CMD INSTALL \"$(blocks-rx r-path)/blocksrx\", or source "
                    "read_blocks.R from there.")


def _add_explore_command(commands, common) -> None:
    """``blocks-rx explore RESULT``: (re)build the explorer page, or serve it."""
    from .explorer import FULL_RESOLUTION_UP_TO

    explore = commands.add_parser(
        "explore", parents=common,
        help="(re)build the interactive explorer page of an analyze output folder, or serve it",
        description="Write RESULT/explorer.html: one offline HTML page to zoom, brush, "
                    "threshold, reorder and search the ordered similarity matrix, with the "
                    "groups and the confusions beside it. Up to "
                    f"{FULL_RESOLUTION_UP_TO:,} classes the page holds the whole matrix; "
                    "above, a pooled overview, and --serve renders any zoom level from the "
                    "stored matrix on a local Bokeh server (127.0.0.1).")
    explore.add_argument("result", type=Path, help="a folder written by `blocks-rx analyze`")
    explore.add_argument("--out", type=Path,
                         help="where to write the page (default: RESULT/explorer.html)")
    explore.add_argument("--taxonomy",
                         help="taxonomy file (CSV/TSV with columns class, path, as analyze's "
                              "--taxonomy): a taxonomy band and ordering")
    explore.add_argument("--serve", action="store_true",
                         help="serve the explorer on http://127.0.0.1:PORT until Ctrl-C "
                              "instead of writing a file")
    explore.add_argument("--port", type=int, default=5006, help="port for --serve (0: any free)")


def _add_report_command(commands, common) -> None:
    """``blocks-rx report RESULT``: what to check, ranked, as report.html and report.md."""
    report = commands.add_parser(
        "report", parents=common,
        help="write RESULT/report.html and report.md: ranked findings of what to check",
        description="Write RESULT/report.html (one offline page) and RESULT/report.md: "
                    "near-duplicate classes, samples predicted off their class's top-level "
                    "block (with labels), classes sharing a nuisance feature (the failed "
                    "groups), and distribution warnings, ranked, each with its evidence; "
                    "print the first five. With --scores and --labels it also lists the "
                    "off-block samples themselves.")
    report.add_argument("result", type=Path, help="a folder written by `blocks-rx analyze`")
    report.add_argument("--scores", help="the score file the result was analysed from, to "
                                         "list the off-block samples (needs its labels)")
    report.add_argument("--labels", help="true labels of --scores (as analyze's --labels)")
    report.add_argument("--classes", help="class names of --scores, one per line (default: "
                                          "from the file)")
    report.add_argument("--top-blocks", type=int, metavar="K",
                        help="cut the tree into K top-level blocks (default: the cut in the "
                             "widest gap between merge heights, K = 2..8)")
    report.add_argument("--max-pairs", type=int, default=20, metavar="N",
                        help="near-duplicate pairs listed, strongest first (default: 20)")
    report.add_argument("--max-samples", type=int, default=20, metavar="N",
                        help="off-block samples listed with --scores (default: 20)")


def _add_compare_command(commands, common) -> None:
    """``blocks-rx compare A B``: how far the class structure moved between two results."""
    from .comparison import COMPARISON_FILES, ORDER_RULES

    compare = commands.add_parser(
        "compare", parents=common,
        help="compare the class structures of two analyze output folders",
        description="Compare two analyze output folders (two models, checkpoints, layers, or "
                    "sample sets) on the classes they share, matched by name: cophenetic "
                    "correlation, Baker's gamma, adjusted Rand index at k = 2, 4, 8, 16, and "
                    "the classes whose neighbourhoods moved most. Classes only one side has "
                    "are named and left out.")
    compare.add_argument("a", type=Path, help="result folder A (the reference)")
    compare.add_argument("b", type=Path, help="result folder B")
    compare.add_argument("--out", type=Path,
                         help=f"also write {', '.join(COMPARISON_FILES)} here; the folder is "
                              "replaced whole, so it must be new, empty, or an earlier "
                              "compare output (anything else in it is refused)")
    compare.add_argument("--order", choices=list(ORDER_RULES), default="a",
                         help="common order of the matrices: "
                              + "; ".join(f"{k}: {v}" for k, v in ORDER_RULES.items())
                              + " (default: a)")


def _add_other_commands(commands, common) -> None:
    """doctor, methods and demo."""
    commands.add_parser("doctor", parents=common,
                        help="what is installed (R, seriation, rpy2, torch, CUDA) and how to "
                             "fix what is missing")
    methods = commands.add_parser(
        "methods", parents=common,
        help="every measure, transform, distance, linkage, ordering, group method and "
             "engine, with its options and facts")
    methods.add_argument("kind", nargs="?", choices=list(_registries()),
                         help="only this kind (default: all)")

    demo = commands.add_parser(
        "demo", parents=common,
        help="run the analysis on the embedded langid demo (97 languages, real model)",
        description="Score texts built from Babel's CLDR locale data with langid's 97-language "
                    "model (both ship inside their packages; nothing is downloaded), then run "
                    "the analysis. The scores are cached after the first run.")
    demo.add_argument("--out", default="demo-output", help="output folder")
    demo.add_argument("--transform", default="standardize",
                      choices=["none", "center", "standardize"],
                      help="per-text transform of langid's scores (default: standardize; raw "
                           "scores carry a per-text offset and scale that grow with length)")


def _registries() -> dict:
    from .engines import ENGINES
    from .groups import GROUP_METHODS
    from .ordering import DISTANCES, HCLUST_BACKENDS, LINKAGES, ORDERINGS
    from .scores import TRANSFORMS
    from .similarity import MEASURES

    return {"measures": MEASURES, "transforms": TRANSFORMS, "distances": DISTANCES,
            "linkages": LINKAGES, "hclust-backends": HCLUST_BACKENDS, "orderings": ORDERINGS,
            "group-methods": GROUP_METHODS, "engines": ENGINES}


def _plain_warning(message, category, *args, **kwargs) -> str:
    return f"warning: {message}\n"


def main(argv=None) -> int:
    previous_term = signal.getsignal(signal.SIGTERM)
    with warnings.catch_warnings():  # restores the caller's filters and format afterwards
        warnings.simplefilter("default")
        # As Python's own default: an interrupted library call's unclosed file is not news
        # for the user ("warning: unclosed file <...staging/heatmap.png>" after Ctrl-C).
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.formatwarning, previous = _plain_warning, warnings.formatwarning
        try:
            args = build_parser(raise_errors=True).parse_args(argv)
        except OptionError as exc:
            print(f"blocks-rx: error: {exc}", file=sys.stderr)
            return 2
        try:
            signal.signal(signal.SIGTERM, _raise_interrupted)
        except ValueError:  # not the main thread: leave signals alone
            previous_term = None
        try:
            return _dispatch(args)
        except (KeyboardInterrupt, Interrupted) as exc:
            name = "SIGTERM" if isinstance(exc, Interrupted) else "SIGINT"
            out = getattr(args, "out", None)
            kept = f"; {out} was left as it was" if out and args.command in ("analyze", "demo") else ""
            print(f"blocks-rx: interrupted by {name}{kept}", file=sys.stderr)
            return 143 if name == "SIGTERM" else 130
        finally:
            warnings.formatwarning = previous
            if previous_term is not None:
                signal.signal(signal.SIGTERM, previous_term)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


#: OpenBLAS's threads spin for 2**N cycles after a product before they sleep (N from 4 to
#: 30, 28 by default: about 0.1 s); waking them for the next product costs microseconds.
OPENBLAS_THREAD_TIMEOUT = 4


def console() -> None:
    """The ``blocks-rx`` program: :func:`main` on the process's arguments, then exit with
    its status.

    Before the interpreter exits, the objects left are frozen out of the garbage
    collector's reach (:func:`gc.freeze`): at exit Python runs several full collections
    over every object of the modules an analysis imported (about 1,700: numpy, pandas,
    matplotlib, rpy2, Bokeh), 0.6 s of a 10 s ``analyze``, and they only free memory the
    process is returning anyway. Objects no longer referenced are still freed and the
    standard streams flushed; only cycles of unreachable objects are left for the system
    to reclaim, and every file blocks-rx writes is closed before :func:`main` returns.

    Before numpy loads, OpenBLAS is told to let its threads sleep as soon as a product is
    done (``OPENBLAS_THREAD_TIMEOUT``, unless set already): by default they spin for a
    while, and between the similarity's products (its other passes over each block of
    rows) they held the second CPU for 0.7 s at 100,000 x 2,622 for nothing; now the
    groups' compiled code loads there (:func:`blocks_rx.pipeline.analyze`).

    A command that started R ends it as it exits (:func:`blocks_rx.r.session.end_before_exit`):
    R's session folder is removed, without the shell R would start for it.
    """
    from .r.session import end_before_exit as end_r_before_exit

    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", str(OPENBLAS_THREAD_TIMEOUT))
    status = main()
    gc.freeze()
    end_r_before_exit()
    sys.exit(status)


def run(argv=None) -> int:
    """Run a command as :func:`main` does, but let errors propagate instead of printing them.

    >>> run(["methods", "linkages"])  # doctest: +ELLIPSIS
    linkages:
    ...
    0
    """
    return _command(build_parser(raise_errors=True).parse_args(argv))


def _dispatch(args) -> int:
    """Run the command; print an error on one line and return its exit status."""
    from ._folders import FolderBusy
    from .errors import BlocksInputError
    from .preflight import PreflightError

    try:
        return _command(args)
    except BlocksInputError as exc:
        print(f"blocks-rx: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError as exc:
        if _reader_gone(sys.stdout):  # `blocks-rx methods | head`: stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        print(f"blocks-rx: error: {exc}", file=sys.stderr)
        return 1
    except (PreflightError, FolderBusy, ValueError, ImportError, OSError, RuntimeError) as exc:
        print(f"blocks-rx: error: {exc}", file=sys.stderr)
        return 1


def _reader_gone(stream) -> bool:
    """Whether ``stream`` is a pipe whose reader has closed it (nothing more can be shown)."""
    import select

    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no file descriptor, or no poll()
        return False


def _command(args) -> int:
    """Run the command, with progress on stderr unless ``--quiet`` (see
    :mod:`blocks_rx.progress`: shown only when stderr is a terminal)."""
    from .progress import enabled_as

    with enabled_as(False if args.quiet else None):
        return _subcommand(args, _informer(args.quiet))


def _informer(quiet: bool):
    """How the command prints its summary lines on stdout: ``print``, or nothing when quiet."""
    return _silent if quiet else print


def _silent(*_args, **_kwargs) -> None:
    """``print`` under ``--quiet``: the summary lines are dropped."""


def _subcommand(args, say) -> int:
    if args.command == "analyze":
        return _analyze(args, say)
    if args.command == "demo":
        return _demo(args, say)
    if args.command == "figures":
        from .figures import make_all

        say(f"writing figures to {args.out}/")
        make_all(args.out, dpi=args.dpi, log=say)
        return 0
    if args.command == "r-path":
        from .r_files import r_scripts_dir

        print(r_scripts_dir())  # the command's result: printed even with --quiet
        return 0
    if args.command == "export":
        return _export(args.result, args.format, args.out, say)
    if args.command == "compare":
        return _compare(args, say)
    if args.command == "explore":
        return _explore(args, say)
    if args.command == "report":
        return _report(args, say)
    if args.command == "doctor":
        from .doctor import report

        return report()
    if args.command == "methods":
        return _methods(args.kind)
    return 0  # pragma: no cover - argparse requires a command


def _analyze(args, say) -> int:
    from .progress import stage
    from .engines.inputs import open_scores
    from .results import check_target

    options = _analysis_kwargs(args)
    check_target(args.out)  # before reading a large input
    with stage(f"reading {args.scores}"):
        scores = open_scores(args.scores, engine=args.engine, classes=args.classes,
                             labels=args.labels, kind=args.kind, key=args.key)
    if args.dry_run:
        return _dry_run(scores, options)
    explorer = ({"taxonomy": options["taxonomy"]} if options.get("taxonomy") else {}
                if args.explorer else None)
    status = _run(scores, args.out, options, say, explorer=explorer)
    if status == 0 and args.export_r:
        from .r.session import available

        return _export(Path(args.out), "rds" if available() else "csv", None, say)
    return status


def _dry_run(scores, options: dict) -> int:
    from .pipeline import route_options
    from .preflight import plan

    ordering_options, _ = route_options(options["ordering"], options["groups"],
                                        _method_options(options), options["seed"])
    job = plan(scores.n_samples, scores.n_classes, itemsize=scores.dtype.itemsize,
               measure=options["measure"], ordering=options["ordering"],
               hclust_backend=_backend_for(ordering_options, scores.n_classes),
               groups=options["groups"], criteria=options["criteria"],
               block_size=options["block_size"], engine=options["engine"])
    print(job.describe())
    job.check(max_memory=options["max_memory"])
    print("fits: the job would run")
    return 0


def _method_options(options: dict) -> dict:
    from .engines import ENGINES

    general = {"measure", "transform", "clip_negative", "drop_constant", "ordering", "groups",
               "cuts", "criteria", "seed", "block_size", "max_memory", "engine",
               *ENGINES.options()}
    return {k: v for k, v in options.items() if k not in general}


def _backend_for(ordering_options: dict, m: int) -> str:
    backend = ordering_options.get("hclust_backend")
    if backend is None:
        return "python"
    from .ordering import resolve_backend

    return resolve_backend(backend, m)[0]


def _export(result_dir: Path, fmt: str, target: Path | None, say=print) -> int:
    from .export import export_csv, export_rds
    from .results import read

    stored = read(result_dir)
    if fmt == "rds":
        from .r.session import RUnavailable

        try:
            target = export_rds(stored, target or result_dir / "blocks.rds")
        except RUnavailable as exc:
            raise RUnavailable(f"{exc}; `--format csv` exports without R") from None
    else:
        target = export_csv(stored, target or result_dir / "r-export")
    say(f"wrote {target}; in R: library(blocksrx); x <- read_blocks('{target}'); plot(x)")
    return 0


def _explore(args, say) -> int:
    """Write the explorer page of a result folder (validated first), or serve it."""
    from .explorer import explore
    from .results import read

    stored = read(args.result)
    options = {"taxonomy": args.taxonomy} if args.taxonomy else {}
    if args.serve:
        from .explorer.server import serve

        return serve(stored, port=args.port, say=say, **options)
    page = explore(stored, **options)
    target = page.save(args.out or Path(args.result) / "explorer.html")
    say(f"wrote {target} ({page.content.m:,} classes, {len(page.html) / 1e6:.1f} MB); "
        "open it in a browser (it works offline)")
    return 0


def _report(args, say) -> int:
    """Write the report of what to check into a result folder; print its first findings."""
    from .quality import quality_report, write_report

    found = quality_report(args.result, scores=args.scores, labels=args.labels,
                           classes=args.classes, top_blocks=args.top_blocks,
                           max_pairs=args.max_pairs, max_samples=args.max_samples)
    written = write_report(found)
    say(found.summary())
    # The command's result: printed even with --quiet.
    print("\n".join(found.lines(5)) or "no finding: nothing these checks look for stands out")
    say(f"wrote {', '.join(str(path) for path in written.values())}")
    return 0


def _compare(args, say) -> int:
    """Print the comparison of two result folders; with ``--out`` write its files."""
    from .comparison import check_target, compare, write_comparison

    if args.out is not None:
        check_target(args.out)  # before reading two results
    found = compare(args.a, args.b, order=args.order)
    print(found.summary(top=10))  # the command's result: printed even with --quiet
    if args.out is not None:
        written = write_comparison(found, args.out)
        say(f"wrote {', '.join(written)} to {os.path.join(args.out, '')}")
    return 0


def _methods(kind: str | None) -> int:
    for name, registry in _registries().items():
        if kind is not None and name != kind:
            continue
        print(f"{name}:")
        for row in registry.table():
            facts = [f"{k}={v}" for k, v in row.items()
                     if k not in ("name", "description", "options") and v not in (False, "", None)]
            extra = "  [" + ", ".join(facts) + "]" if facts else ""
            options = f"  options: {', '.join(row['options'])}" if row["options"] else ""
            print(f"  {row['name']:<16} {row['description']}{extra}{options}")
        print()
    return 0


def _demo(args, say) -> int:
    from .datasets import load_langid_demo
    from .scores import load_scores

    started = time.perf_counter()
    data = load_langid_demo()
    say(f"demo: {len(data['texts']):,} texts scored by langid over {len(data['classes'])} "
          f"languages ({time.perf_counter() - started:.1f} s, cached after the first run)")
    scores = load_scores(data["scores"], classes=data["classes"], labels=data["labels"])
    examples = {}  # a few texts of each language, shown in the explorer
    for text, label in zip(data["texts"], data["labels"]):
        found = examples.setdefault(data["classes"][label], [])
        if len(found) < 3:
            found.append(text)
    return _run(scores, args.out, dict(transform=args.transform), say, demo=True,
                explorer={"examples": examples})


def _run(scores, out, options: dict, say=print, demo: bool = False,
         explorer: dict | None = None) -> int:
    """Analyze ``scores`` into the folder ``out``; ``say`` prints the summary lines.

    ``explorer`` holds the options of the explorer page (``examples``, ``taxonomy``); None
    leaves the page out."""
    from .pipeline import analyze
    from .results import DrawnAhead, staging, write_into

    started = time.perf_counter()
    with staging(out) as staged:  # taken first: a busy or foreign folder fails at once
        with DrawnAhead(staged.path, explorer=explorer is not None) as ahead:  # made meanwhile
            ahead.start(scores.n_classes)
            result = analyze(scores, before_ordering=ahead.prepare, before_groups=ahead.draw,
                             **options)
            written = write_into(result, staged.path, explorer=explorer is not None,
                                 explorer_options=explorer, ahead=ahead)
        staged.commit()
    sim, ordering = result.similarity, result.ordering
    how = (f"{ordering.linkage} linkage on {ordering.distance}, " if ordering.linkage else "")
    say(f"{sim.measure} similarity of {sim.n_classes} classes over {sim.n_samples:,} samples "
          f"({sim.seconds:.2f} s), {ordering.method} order ({how}{ordering.seconds:.2f} s); "
          f"total {time.perf_counter() - started:.1f} s")
    if result.accuracy is not None:
        say(f"top-1 accuracy against the labels: {result.accuracy:.3f}")
    say(f"wrote {len(written)} files to {os.path.join(out, '')}: {', '.join(written)}")
    if demo:
        say(f"open {Path(out) / 'heatmap.png'} to see the blocks, and "
            f"{Path(out) / 'explorer.html'} to explore them")
    return 0


if __name__ == "__main__":  # pragma: no cover
    console()
