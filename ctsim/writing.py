"""Writing a results file whole or not at all, for every room that writes results.

:func:`atomic_write` writes through a synced temporary file in the same folder and a
rename, so a reader (a report, a resumed sweep, a second process) sees the whole file or
none of it; a file that cannot be written is a one-line
:class:`~ctsim.errors.OutputError` naming its folder and the reason
(:func:`cannot_write`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ctsim.errors import OutputError


def _umask_permissions() -> int:
    """The mode new files get under this process's umask (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_PERMISSIONS = _umask_permissions()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file in the same folder and a
    rename, so a reader (or a resumed sweep) sees the whole file or none of it.

    Raises:
        OutputError: the file cannot be written (a full disk, a quota, a read-only or
            unwritable folder), naming its folder and the reason; nothing is left of it.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _PERMISSIONS)  # mkstemp's 0600 would ignore the user's umask
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise cannot_write(path.parent, exc) from None
        raise


def cannot_write(folder: Path, exc: OSError) -> OutputError:
    """The one-line error of results that could not be written into ``folder``."""
    reason = (os.strerror(exc.errno) if exc.errno else exc.strerror or str(exc)) or \
        type(exc).__name__
    return OutputError(f"{folder}: cannot write the results there ({reason})")
