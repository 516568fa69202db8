"""Run every benchmark script in sequence and print every goal of the scale issue as a table.

Each script compares blocks-rx with its anchors measured in the same run and prints one line
per goal: ``GOAL `` followed by a JSON object (see benchmarks/_bench.py: ``goal``, ``label``,
``measured``, ``unit``, ``target``, ``cmp``, ``met``, ``size``, ``at_size``, ``note``, and
``seconds`` / ``anchor_seconds`` where there is an anchor). This script streams each script's
output, collects those lines and ends with the machine and a table: every goal of issue 13
(measured, or why not), then the goals of earlier issues the scripts also check.

Sizes: by default every script runs its quick size (minutes in all; goals measured at a
smaller size than they name are marked so); ``--full`` runs the sizes the goals name where
that takes minutes (100,000 x 2,622; 262,200 x 2,622 on the torch engine);
``--large`` adds the opt-in sizes (30,000 x 20,000 analyze and similarity, 1,000,000 x 2,622
from disk: tens of minutes, up to ~20 GB of memory, 11 GB of disk).

It exits 0 whether goals are met or not (it reports; CI does not run it), and when a script
fails (the table says which).

    python benchmarks/run_all.py                       # quick
    python benchmarks/run_all.py --full                # the goals' sizes, except the large ones
    python benchmarks/run_all.py --large               # everything (long)
    python benchmarks/run_all.py --large-only          # only the large sizes
    python benchmarks/run_all.py --full --only analyze similarity --save full.json
    python benchmarks/run_all.py --table-only --load full.json large.json   # merge runs
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench import machine  # noqa: E402

#: name -> (quick args, full args, args --large adds, --large-only args or None: not run).
#: A script that does not exist is skipped (spearman.py is written separately), and a flag
#: the script does not mention is dropped.
SCRIPTS = {
    "similarity": (["--quick"], [], ["--large"], ["--large", "--no-standard"]),
    "spearman": (["--quick"], [], ["--large"], None),
    "order": (["--classes", "2622", "--repeats", "1"], [], [], None),
    "groups": (["--classes", "2622", "--repeats", "1", "--dense-up-to", "0"],
               ["--classes", "2622", "5000"], [], None),
    "analyze": (["--quick"], [], ["--large"], ["--large", "--no-standard"]),
    "out_of_core": (["--quick"], [], ["--large"], ["--large"]),
    "torch_engine": (["--quick"], [], [], None),
}

#: The goals of issue 13, in its order: (goal id or prefix, the goal as the issue states it).
ISSUE_GOALS = [
    ("analyze_100k_speed", "100,000 x 2,622: `analyze` end to end >= 6x faster than seaborn "
                           "`clustermap`"),
    ("analyze_100k_memory", "100,000 x 2,622: `analyze` peak memory < 1 GB beyond the mapped "
                            "input"),
    ("analyze_30k_20k_time", "30,000 x 20,000: `analyze` end to end, groups included, < 200 s"),
    ("analyze_30k_20k_memory", "30,000 x 20,000: `analyze` peak memory < 6 GB"),
    ("similarity_30k_20k_vs_gemm", "30,000 x 20,000: similarity <= 1.3x the bare float32 GEMM"),
    ("spearman", "100,000 x 2,622: Spearman >= 5x faster than `scipy.stats.spearmanr`"),
    ("out_of_core_1m_memory", "1,000,000 x 2,622 (10.5 GB) from disk: peak memory < 2 GB "
                              "beyond the page cache"),
    ("gpu_262k_host_to_host", "H100: 262,200 x 2,622 host to host < 0.2 s"),
]

#: Which script measures each goal (for the rows of goals not measured).
GOAL_SCRIPT = {"analyze": "analyze", "similarity": "similarity", "spearman": "spearman",
               "out": "out_of_core", "gpu": "torch_engine"}

#: Goals that only ``--large`` measures.
LARGE_GOALS = ("analyze_30k_20k_time", "analyze_30k_20k_memory", "similarity_30k_20k_vs_gemm",
               "out_of_core_1m_memory")


def run_script(name: str, args: list[str]) -> tuple[list[dict], int, float]:
    """Run benchmarks/NAME.py, echoing its output; (goal lines, exit status, seconds)."""
    command = [sys.executable, "-u", str(HERE / f"{name}.py"), *args]
    print(f"\n=== {name}: {' '.join(['python', f'benchmarks/{name}.py', *args])}", flush=True)
    started = time.perf_counter()
    goals = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1, cwd=HERE.parent) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("GOAL "):
                try:
                    found = json.loads(line[5:])
                except json.JSONDecodeError:
                    print(f"(run_all: unreadable goal line from {name})")
                    continue
                found["script"] = name
                goals.append(found)
    seconds = time.perf_counter() - started
    print(f"=== {name}: exit {process.returncode}, {seconds:.0f} s", flush=True)
    return goals, process.returncode, seconds


def script_args(name: str, mode: str) -> list[str] | None:
    """The arguments for ``name`` in ``mode``; None when the script does not exist, False
    when it has nothing to run in that mode."""
    path = HERE / f"{name}.py"
    if not path.exists():
        return None
    if mode == "large-only" and SCRIPTS[name][3] is None:
        return False
    quick, full, large, large_only = SCRIPTS[name]
    if mode == "quick":
        args = quick
    elif mode == "full":
        args = full
    elif mode == "large-only":
        args = large_only
    else:
        args = full + large
    text = path.read_text()
    return [a for a in args if not a.startswith("--") or f'"{a}"' in text or f"'{a}'" in text
            or a in ("--classes", "--repeats")]


def fmt(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.1f} s"
    if unit == "GB":
        return f"{value:.2f} GB"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:g} {unit}"


def verdict(goal: dict) -> str:
    if goal.get("met") is None:
        return "not measured"
    word = "met" if goal["met"] else "NOT MET"
    return word if goal.get("at_size", True) else f"{word} (smaller size)"


def anchor_text(goal: dict) -> str:
    ours, theirs = goal.get("seconds"), goal.get("anchor_seconds")
    if ours and theirs:
        return f"{ours:.2f} s vs anchor {theirs:.2f} s"
    return ""


def row(text: str, goal: dict | None, why: str = "") -> str:
    if goal is None:
        return f"| {text} | - | - | - | - | not measured: {why} |"
    target = f"{goal['cmp']} {fmt(goal['target'], goal['unit'])}"
    size = goal.get("size", "") + ("" if goal.get("at_size", True) else " (smaller)")
    measured = fmt(goal.get("measured"), goal["unit"])
    details = "; ".join(x for x in (anchor_text(goal), goal.get("note", "")) if x)
    status = verdict(goal)
    if goal.get("met") is None and goal.get("note"):
        status = f"not measured: {goal['note']}"
        details = anchor_text(goal)
    return f"| {text} | {size} | {measured} | {details} | {target} | {status} |"


def table(goals: list[dict], ran: dict) -> str:
    by_id: dict[str, dict] = {}
    for goal in goals:  # later lines (runs) replace earlier ones, except that a figure at
        previous = by_id.get(goal["goal"])  # the goal's size beats one at a smaller size
        if (previous is not None and previous.get("at_size", True)
                and previous.get("met") is not None and not goal.get("at_size", True)):
            continue
        by_id[goal["goal"]] = goal
    lines = ["| goal | size measured | measured | time vs anchor; notes | target | verdict |",
             "|---|---|---|---|---|---|"]
    used = set()
    for key, text in ISSUE_GOALS:
        matches = [g for gid, g in by_id.items() if gid == key or
                   (key == "spearman" and gid.startswith("spearman"))]
        used.update(g["goal"] for g in matches)
        if not matches:
            script = GOAL_SCRIPT.get(key.split("_")[0], key)
            state = ran.get(script)
            why = ("the script does not exist" if state == "missing" else
                   f"{script}.py failed (exit {state})" if isinstance(state, int) and state else
                   f"needs --large ({script}.py)" if key in LARGE_GOALS else
                   f"{script}.py printed no goal line for it" if state == 0 else
                   f"{script}.py not run")
            lines.append(row(text, None, why))
        for goal in matches:
            lines.append(row(text if len(matches) == 1 else f"{text} ({goal['goal']})", goal))
    others = [g for gid, g in by_id.items() if gid not in used]
    if others:
        lines.append("| **goals of earlier issues** | | | | | |")
        lines += [row(g.get("label", g["goal"]), g) for g in others]
    return "\n".join(lines)


def load(path: Path, ran: dict) -> list[dict]:
    """Goal lines from a file: run_all's --save JSON, or any log holding GOAL lines (a
    script's own output, run by hand with options run_all does not pass)."""
    text = path.read_text()
    try:
        saved = json.loads(text)
    except json.JSONDecodeError:
        found = []
        for line in text.splitlines():
            if line.startswith("GOAL "):
                try:
                    found.append(json.loads(line[5:]))
                except json.JSONDecodeError:
                    pass
        return found
    ran.update(saved.get("ran", {}))
    return saved["goals"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the goals' sizes, without --large's")
    size.add_argument("--large", action="store_true", help="--full and the opt-in large sizes")
    size.add_argument("--large-only", action="store_true",
                      help="only the opt-in large sizes (30,000 x 20,000; 1,000,000 x 2,622)")
    parser.add_argument("--only", nargs="+", choices=list(SCRIPTS), help="run only these")
    parser.add_argument("--skip", nargs="+", choices=list(SCRIPTS), default=[])
    parser.add_argument("--save", help="write the collected goal lines to this JSON file")
    parser.add_argument("--load", nargs="+", default=[],
                        help="goal lines saved by earlier runs (--save, or a log with GOAL "
                             "lines), merged before this run's (a goal measured again "
                             "replaces the loaded one)")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: print the table of the --load files")
    args = parser.parse_args(argv)
    mode = ("large-only" if args.large_only else "large" if args.large else
            "full" if args.full else "quick")

    goals: list[dict] = []
    ran: dict[str, object] = {}
    for saved in args.load:
        goals += load(Path(saved), ran)
    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    started = time.perf_counter()
    if not args.table_only:
        for name in SCRIPTS:
            if (args.only and name not in args.only) or name in args.skip:
                continue
            script = script_args(name, mode)
            if script is None:
                print(f"\n=== {name}: benchmarks/{name}.py does not exist, skipped")
                ran[name] = "missing"
                continue
            if script is False:
                continue
            try:
                found, status, _ = run_script(name, script)
            except Exception as exc:  # noqa: BLE001 - report, never fail
                print(f"=== {name}: could not run: {exc}")
                found, status = [], -1
            goals += found
            ran[name] = status
    total = time.perf_counter() - started
    if args.save:
        Path(args.save).write_text(json.dumps({"mode": mode, "date": date.today().isoformat(),
                                               "machine": info, "ran": ran, "goals": goals},
                                              indent=1))
    heading = ("saved runs: " + ", ".join(args.load) if args.table_only else
               f"{mode} run, {total / 60:.1f} min")
    print(f"\n## Goals ({heading}, {date.today().isoformat()})\n")
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + "\n")
    print(table(goals, ran))
    failed = [name for name, state in ran.items() if isinstance(state, int) and state != 0]
    if failed:
        print(f"\nscripts that failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
