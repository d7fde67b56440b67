"""Files: read as UTF-8 with errors that name the line, written so that
none is ever half-written (any backend)."""

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
        # mkstemp makes the file private (0600); the result gets the mode
        # any new file would get (0666 less the umask), like open() gives.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_utf8(path, error_type):
    """The text of the UTF-8 file `path`.

    A missing file or an invalid byte raises `error_type` with a message
    naming the file (and the line): `file: no such file`,
    `file:line: not valid UTF-8 (...)`.
    """
    path = Path(path)
    if not path.is_file():
        raise error_type(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise error_type(f"{path}:{line}: not valid UTF-8 ({error.reason})") from None
