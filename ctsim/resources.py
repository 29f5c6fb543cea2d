"""The files ctsim ships: scenarios (with the lessons' and the real world's), experiments.

They live inside the package (``ctsim/scenarios``, ``ctsim/experiments``; the source
tree's top-level ``scenarios/`` and ``experiments/`` point there), so an installed wheel
has them too, found with :mod:`importlib.resources`. A scenario or experiment named on the
command line is a file path, or the name of a shipped one: first in a ``scenarios/`` (or
``experiments/``) folder of the working directory, a user's own copy
(``ctsim scenarios --copy``), then among the shipped files.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from importlib.resources import files
from pathlib import Path

from ctsim.errors import OutputError, ScenarioError
from ctsim.files import is_file


def shipped(kind: str = "scenarios") -> Path:
    """The folder of shipped ``scenarios`` or ``experiments`` (inside the package)."""
    return Path(str(files("ctsim") / kind))


def lesson_dir() -> Path:
    """The shipped lessons' scenarios."""
    return shipped("scenarios") / "lessons"


def names(kind: str = "scenarios") -> list[str]:
    """The shipped names (``baseline``, ``lessons/legal_friction``, ``world/world``)."""
    root = shipped(kind)
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


def resolve(arg: str, kind: str = "scenarios") -> Path:
    """A scenario (or experiment) argument as a file: a path, else a shipped name.

    Raises:
        ScenarioError: neither a file nor a shipped name; says which shipped name is
            closest when one is.
    """
    path = Path(arg)
    if is_file(path):
        return path
    for root in (Path.cwd() / kind, shipped(kind)):
        candidate = root / f"{arg}.yaml"
        if is_file(candidate):
            return candidate
    if path.suffix in (".yaml", ".yml") or "/" in arg:
        raise ScenarioError(arg, "", "file not found")
    close = difflib.get_close_matches(arg, names(kind), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (see: ctsim {kind})"
    raise ScenarioError(arg, "", f"no such file and no shipped {kind[:-1]} of that name{hint}")


def copy_shipped(dest: Path, kind: str = "scenarios") -> list[Path]:
    """Copy the shipped files into ``dest`` (created), keeping their sub-folders.

    ``dest`` is checked first, as every output place is
    (:func:`ctsim.runs.store.check_place`), and locked while the files are written. Each
    file is written whole or not at all (:func:`ctsim.runs.store.atomic_write`), and a
    copy that fails half-way (a full disk) removes what it wrote: the copy is all the
    files or none.

    Raises:
        OutputError: ``dest`` is empty, the current folder, inside the installed package,
            a file, a name the system refuses, a place that cannot be written, or already
            holds a file of that name (nothing is overwritten and nothing is copied).
    """
    from ctsim.runs.store import atomic_write, check_place, folder_lock

    check_place(dest, "--copy")
    root = shipped(kind)
    sources = sorted(root.rglob("*.yaml"))
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{dest}: exists and is not a folder")
    clash = [dest / p.relative_to(root) for p in sources if (dest / p.relative_to(root)).exists()]
    if clash:
        raise OutputError(f"{clash[0]}: already exists ({len(clash)} of the {len(sources)} "
                          "files would be overwritten); choose an empty folder")
    written: list[Path] = []
    made = [f for f in [dest, *dest.parents] if not os.path.lexists(f)]
    with folder_lock(Path(os.path.abspath(dest))):
        try:
            for p in sources:
                target = dest / p.relative_to(root)
                made += [f for f in [target.parent, *target.parent.parents]
                         if not os.path.lexists(f) and f not in made]
                atomic_write(target, p.read_bytes())
                written.append(target)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
    return written


def scenario_files(folder: Path, most: int = 2000) -> list[Path]:
    """The scenario files (``*.yaml``) in ``folder`` and its sub-folders, in order.

    Raises:
        ScenarioError: ``folder`` is not a folder, or one of its sub-folders cannot be
            read, or it holds more than ``most`` YAML files (not a folder of scenarios).
    """
    try:
        found = folder.is_dir()
    except (OSError, ValueError) as exc:  # a name the system refuses
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ScenarioError(str(folder), "", f"cannot read: {reason}") from None
    if not found:
        raise ScenarioError(str(folder), "", "no scenarios folder here")

    def unreadable(exc: OSError) -> None:
        raise ScenarioError(str(exc.filename or folder), "",
                            f"cannot read: {exc.strerror or type(exc).__name__}")

    files_found: list[Path] = []
    for here, subfolders, names in os.walk(folder, onerror=unreadable):
        subfolders.sort()
        files_found += [Path(here) / n for n in names if n.endswith(".yaml")]
        if len(files_found) > most:
            raise ScenarioError(str(folder), "", f"holds more than {most} YAML files: not a "
                                "folder of scenarios (choose the folder that holds them)")
    return sorted(files_found)
