"""Keep numba's on-disk cache of the compiled core in step with the core's sources.

numba invalidates a cached function when its own file changes, but not when a file it
depends on does: a phase in ``phases.py`` compiled against an older ``rules.py`` or
``state.py`` (a rule, or a column table captured as a constant) would load from the cache
unchanged. So, once per process and before anything compiled is loaded, this module
compares a digest of the compiled modules' sources (every module of ``ctsim/core`` that
imports this one, as each module with compiled functions does) with the one stored beside
the cache, and clears the core's cache files (``__pycache__/*.nbi``, ``*.nbc``) when they
differ. Compiled code reads only those modules, so an edit elsewhere in the core (the
scenario schema, the Mesa model) keeps the cache. Where the package cannot be written (a
read-only install), numba keeps its cache in the user's folder and the installed sources
do not change; nothing is done.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CORE = Path(__file__).resolve().parent
STAMP = CORE / "__pycache__" / "ctsim-core-sources.sha256"


#: How a module with compiled functions says so (``phases.py``, ``rules.py``, ...).
MARK = b"import ctsim.core._fresh"


def sources_digest() -> str:
    """SHA-256 of this file and the compiled modules' source files, in name order."""
    digest = hashlib.sha256()
    for path in sorted(CORE.glob("*.py")):
        text = path.read_bytes()
        if path.name == "_fresh.py" or MARK in text:
            digest.update(path.name.encode() + b"\0" + text)
    return digest.hexdigest()


def clear_cache(stamp: Path, value: str) -> bool:
    """Clear the core's cache files unless ``stamp`` holds ``value`` (then write it there);
    True if it cleared them. A read-only package is left alone (numba then caches in the
    user's folder, and the installed sources cannot change)."""
    try:
        if stamp.read_text() == value:
            return False
    except OSError:
        pass
    try:
        stamp.parent.mkdir(exist_ok=True)
        for path in stamp.parent.glob("*.nb[ic]"):
            path.unlink(missing_ok=True)
        stamp.write_text(value)
    except OSError:
        return False
    return True


def clear_stale_cache() -> bool:
    """Clear the compiled core's cache files if the sources changed since they were
    written; True if it cleared them."""
    return clear_cache(STAMP, sources_digest())

clear_stale_cache()
