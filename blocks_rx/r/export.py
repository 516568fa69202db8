"""Writing results into R: an ``.rds`` file, or straight into a live R session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .._folders import readable_as_made
from .session import session


def save_rds(content: dict, path) -> Path:
    """Save the export list (see :func:`blocks_rx.export.export_content`) as ``.rds``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".blocks-rx-", suffix=".rds", dir=path.parent)
    os.close(handle)
    try:
        session().call("blocks_save_rds", *_arguments(content), str(temporary))
        readable_as_made(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def assign(content: dict, name: str) -> None:
    """Assign the export list to ``name`` in the R session's global environment."""
    session().call("blocks_assign", name, *_arguments(content))


def _arguments(content: dict) -> list:
    return [content["matrix"], content["classes"], content["merge"], content["height"],
            content["order"], content["linkage"], content["distance"], content["hclust_call"],
            content["groups"], content["memberships"], content["provenance_json"]]
