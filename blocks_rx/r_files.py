"""Where the R files that come with blocks-rx lie: ``read_blocks.R``, ``plot_blocks.R``,
``common.R`` and the source of the ``blocksrx`` R package.

In a source checkout or an editable install they are the repository's ``r_scripts/``; a wheel
carries the same files inside the package (``blocks_rx/_r_scripts/``, mapped from
``r_scripts/`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_MARKER = "read_blocks.R"


def r_scripts_dir() -> Path:
    """The folder holding ``read_blocks.R``, ``plot_blocks.R`` and ``blocksrx/`` (the R package).

    From R: ``source(file.path(DIR, "read_blocks.R")); x <- read_blocks("result/blocks.rds")``,
    or install the package with ``R CMD INSTALL DIR/blocksrx`` and use ``library(blocksrx)``.

    >>> import blocks_rx
    >>> folder = blocks_rx.r_scripts_dir()
    >>> (folder / "read_blocks.R").is_file(), (folder / "blocksrx" / "DESCRIPTION").is_file()
    (True, True)
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "_r_scripts", here.parent / "r_scripts"):
        if (folder / _MARKER).is_file():
            return folder
    raise FileNotFoundError(f"the R files of blocks-rx are missing: no {_MARKER} in "
                            f"{here / '_r_scripts'} or {here.parent / 'r_scripts'}; "
                            "reinstall blocks-rx")
