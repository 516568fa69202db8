"""Options with a range or a fixed set of values, given bad values on the command line."""

from __future__ import annotations

from blocks_rx.errors import OptionError

from bad_inputs.corpus import Case

GOOD = "{made}/good.npy"

CASES = [
    Case("options/unknown-measure", ("analyze", GOOD, "--out", "{out}", "--measure", "kendall"),
         error=OptionError, mentions=("--measure", "kendall", "pearson")),
]
