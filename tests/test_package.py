"""Package-level promises: light imports, runnable docstring examples, one table per registry."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["blocks_rx", "blocks_rx.scores", "blocks_rx.similarity", "blocks_rx.ordering",
           "blocks_rx.synthetic", "blocks_rx.r", "blocks_rx.r.seriation", "blocks_rx.plot._common",
           "blocks_rx.plot._frequency", "blocks_rx.plot._samples",
           "blocks_rx.analysis", "blocks_rx.plot._heatmap", "blocks_rx.plot._distributions"]


def test_import_loads_no_heavy_optional_modules():
    code = ("import sys, blocks_rx; print(' '.join(m for m in ('rpy2', 'torch', "
            "'matplotlib', 'matplotlib.pyplot', 'numba', 'langid') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


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
    assert list(choices["method"]) == list(similarity.METHODS)
    assert list(choices["linkage"]) == list(ordering.LINKAGES)
    assert list(choices["distance"]) == list(ordering.DISTANCES)
    assert list(choices["transform"]) == list(scores.TRANSFORMS)
