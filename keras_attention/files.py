"""Writing files so that none is ever half-written (any backend)."""

import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Calls `write(temporary_path)`, then renames the result to `path`.

    The temporary file sits beside `path` (same file system, so the rename
    is atomic), hidden, and keeps every suffix of `path`, so that writers
    that insist on one (`.keras`, `.weights.h5`) accept it. If `write`
    fails, `path` is untouched and the temporary file is removed.
    """
    path = Path(path)
    suffixes = "".join(path.suffixes)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name[: len(path.name) - len(suffixes)]}.", suffix=suffixes
    )
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
