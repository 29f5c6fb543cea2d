"""The files ctsim ships: scenarios (with the lessons' and the real world's), experiments.

They live inside the package (``ctsim/scenarios``, ``ctsim/experiments``; the source
tree's top-level ``scenarios/`` and ``experiments/`` point there), so an installed wheel
has them too, found with :mod:`importlib.resources`. A scenario or experiment named on the
command line is a file path, or the name of a shipped one: first in a ``scenarios/`` (or
``experiments/``) folder of the working directory, a user's own copy
(``ctsim scenarios --copy``), then among the shipped files.
"""

from __future__ import annotations

import difflib
import shutil
from importlib.resources import files
from pathlib import Path

from ctsim.errors import OutputError, ScenarioError


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
    if path.is_file():
        return path
    for root in (Path.cwd() / kind, shipped(kind)):
        candidate = root / f"{arg}.yaml"
        if candidate.is_file():
            return candidate
    if path.suffix in (".yaml", ".yml") or "/" in arg:
        raise ScenarioError(arg, "", "file not found")
    close = difflib.get_close_matches(arg, names(kind), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (see: ctsim {kind})"
    raise ScenarioError(arg, "", f"no such file and no shipped {kind[:-1]} of that name{hint}")


def copy_shipped(dest: Path, kind: str = "scenarios") -> list[Path]:
    """Copy the shipped files into ``dest`` (created), keeping their sub-folders.

    Raises:
        OutputError: ``dest`` is a file, or already holds a file of that name (nothing is
            overwritten and nothing is copied).
    """
    root = shipped(kind)
    sources = sorted(root.rglob("*.yaml"))
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{dest}: exists and is not a folder")
    clash = [dest / p.relative_to(root) for p in sources if (dest / p.relative_to(root)).exists()]
    if clash:
        raise OutputError(f"{clash[0]}: already exists ({len(clash)} of the {len(sources)} "
                          "files would be overwritten); choose an empty folder")
    written = []
    try:
        for p in sources:
            target = dest / p.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
            written.append(target)
    except OSError as exc:
        raise OutputError(f"{dest}: cannot write ({exc.strerror or exc})") from None
    return written
