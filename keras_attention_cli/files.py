"""Files: read as UTF-8 with errors that name the line, written so that
none is ever half-written (any backend)."""

import os
import shutil
import uuid
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
    stem = path.name[: len(path.name) - len(suffixes)]
    temporary = path.parent / f".{stem}.{uuid.uuid4().hex[:12]}{suffixes}"
    # Created as open() creates files (0666 less the umask, which is never
    # set here: that would race with other threads), so the result has the
    # mode any new file gets.
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(str(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def atomic_folder(folder, write):
    """Calls `write(partial_folder)`, then renames the result to `folder`,
    so that `folder` appears whole or not at all (a process killed while
    writing leaves no `folder`, or the one there was). The partial folder
    sits beside it, named `folder` + `.partial`; one a killed writer left
    is removed first. A `folder` already there is replaced: renamed aside,
    then removed once the new one is in place (killed between the two, a
    `folder` + `.old` is left, and removed by the next call)."""
    folder = Path(folder)
    partial, old = (folder.with_name(folder.name + suffix) for suffix in (".partial", ".old"))
    for leftover in (partial, old):
        shutil.rmtree(leftover, ignore_errors=True)
    write(partial)
    if folder.exists():
        os.replace(folder, old)
    os.replace(partial, folder)
    shutil.rmtree(old, ignore_errors=True)


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
