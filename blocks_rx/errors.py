"""The errors blocks-rx raises for input it cannot use: one small hierarchy.

Every error a user can cause with a file, an array, an option or a result folder is a
:class:`BlocksInputError`; its message names the file and the row, column, class or option
at fault, and the command line prints it on one line and exits with status 2. Errors of the
machine rather than the input (not enough memory, R missing, a busy folder) are not input
errors and exit with 1.

>>> from blocks_rx.errors import BlocksInputError, ScoresError
>>> issubclass(ScoresError, BlocksInputError) and issubclass(ScoresError, ValueError)
True
"""

from __future__ import annotations


class BlocksInputError(ValueError):
    """Input blocks-rx cannot use; the message says which file, row, column, class or option."""


class ScoresError(BlocksInputError):
    """A score matrix (file, array or DataFrame) that cannot be analysed."""


class SideFileError(ScoresError):
    """A file given beside the scores (``--classes``, ``--labels``, ``--taxonomy``) that
    cannot be used with them."""


class SimilarityError(BlocksInputError):
    """A similarity matrix given directly (to ``order_classes``, ``hclust``...) that is not
    one: not square, not symmetric, not finite, or outside [-1, 1]."""


class OptionError(BlocksInputError):
    """An option that the chosen method does not take, or a value it cannot accept."""


class UnknownChoice(OptionError, KeyError):
    """A name that no registry entry has; the message lists the names that exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ResultError(BlocksInputError):
    """A folder that is not a readable blocks-rx result; the message names what is wrong."""


class MixedResultError(ResultError):
    """A result folder whose files come from different runs (or were changed)."""
