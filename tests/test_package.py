"""Package-level promises: light imports, runnable docstring examples, one table per registry."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import blocks_rx

#: Every module of the package (their docstring examples all run); the old data modules
#: are shims that warn, and blocks_rx.torch's examples run in test_torch.
MODULES = sorted(
    info.name for info in __import__("pkgutil").walk_packages(blocks_rx.__path__, "blocks_rx.")
    if info.name not in ("blocks_rx.demo", "blocks_rx.synthetic", "blocks_rx.torch",
                         "blocks_rx.cli"))


def test_import_loads_no_heavy_optional_modules():
    code = ("import sys, blocks_rx; print(' '.join(m for m in ('rpy2', 'torch', "
            "'matplotlib', 'matplotlib.pyplot', 'numba', 'langid') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


def test_import_loads_no_numpy_and_every_public_name_on_first_use():
    code = ("import sys, blocks_rx\n"
            "print('numpy' in sys.modules)\n"
            "missing = [name for name in blocks_rx.__all__ if name not in dir(blocks_rx)]\n"
            "from blocks_rx import analyze, compute_similarity, read_result\n"
            "from blocks_rx.pipeline import analyze as defined\n"
            "from blocks_rx.similarity import compute\n"
            "from blocks_rx.results import read\n"
            "print(missing, analyze is defined, compute_similarity is compute, read_result is read,\n"
            "      all(getattr(blocks_rx, name) is not None for name in blocks_rx.__all__))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:2] == ["False", "[] True True True True"]
    with pytest.raises(AttributeError, match="has no attribute 'analyse'"):
        blocks_rx.analyse  # noqa: B018


def test_the_program_lets_openblas_threads_sleep_before_numpy_loads():
    code = ("import os, sys, blocks_rx.cli as cli\n"
            "def main():\n"
            "    import numpy\n"
            "    print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), 'numpy' in sys.modules)\n"
            "    return 0\n"
            "cli.main = main\n"
            "cli.console()\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert run.stdout.strip() == "4 True"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "OPENBLAS_THREAD_TIMEOUT": "20"}, check=True)
    assert run.stdout.strip() == "20 True"  # a setting of the user's own is kept


def test_datasets_import_loads_none_of_their_dependencies():
    code = ("import sys, blocks_rx.datasets; print(' '.join(m for m in ('langid', 'babel', "
            "'sklearn', 'torch', 'matplotlib.pyplot') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


@pytest.mark.parametrize("old, new, name", [
    ("blocks_rx.demo", "blocks_rx.datasets.langid", "load_langid_demo"),
    ("blocks_rx.synthetic", "blocks_rx.datasets.planted", "planted_overlaps")])
def test_old_data_modules_warn_and_reexport(old, new, name):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is now {new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_cli_choices_come_from_the_registries():
    from blocks_rx import cli, ordering, scores, similarity

    parser = cli.build_parser()
    analyze = parser._subparsers._group_actions[0].choices["analyze"]
    choices = {a.dest: a.choices for a in analyze._actions if a.choices}
    assert list(choices["measure"]) == list(similarity.MEASURES)
    assert list(choices["linkage"]) == list(ordering.LINKAGES)
    assert list(choices["distance"]) == list(ordering.DISTANCES)
    assert list(choices["transform"]) == list(scores.TRANSFORMS)


def test_every_registry_is_a_table_of_entries_with_options_and_facts():
    from blocks_rx import cli
    from blocks_rx.registry import Entry, Registry

    registries = cli._registries()
    assert len(registries) == 8
    for kind, registry in registries.items():
        assert isinstance(registry, Registry) and len(registry) >= 1, kind
        for name, entry in registry.items():
            assert isinstance(entry, Entry) and entry.name == name
            assert entry.description and "\n" not in entry.description, (kind, name)
            for option in entry.options:
                assert option.help and option.flag.startswith("--"), (kind, name, option)
                if option.allowed() is not None and option.default is not None:
                    assert option.default in option.allowed(), (kind, name, option.name)
            row = next(r for r in registry.table() if r["name"] == name)
            __import__("json").dumps(row)  # tables are plain values
