"""Opening an input file: regular files only, never blocking, every OS error a one-line FormatError."""

from __future__ import annotations

import io
import os
import stat

from ..errors import FormatError

__all__ = ["open_regular"]


def open_regular(path: str | bytes | os.PathLike[str], shown: str, folder_fix: str) -> io.BufferedReader:
    """``open(path, "rb")`` for a regular file only; a FormatError naming ``shown`` (already escaped) otherwise.

    Opened non-blocking and checked with ``fstat`` on the open descriptor (no race with a ``stat`` before it):
    a named pipe called ``model.safetensors`` would block a plain ``open()`` forever, a device would be read
    without end. ``folder_fix`` completes the message for a folder (``pass the checkpoint file inside it``).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FormatError(f"{shown}: no such file; check the path") from None
    except IsADirectoryError:
        raise FormatError(f"{shown}: is a folder; {folder_fix}") from None
    except (OSError, ValueError) as e:  # ENAMETOOLONG, ELOOP, EACCES ...; ValueError: a NUL in the path
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise FormatError(f"{shown}: cannot open ({why}); check the path and its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FormatError(f"{shown}: is a folder; {folder_fix}")
        if not stat.S_ISREG(mode):
            raise FormatError(f"{shown}: not a regular file (a named pipe, device or socket); pass a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
