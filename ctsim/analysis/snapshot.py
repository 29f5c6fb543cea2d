"""What a run's figures need of its first replication, kept with its results.

A run folder's trust network and safe-haven figures show one replication: its world as
laid out (names, blocs, regions, capacities, hubs and the trust at the start) and how it
ended (trust, trust in hubs, where plots were based). :class:`RunSnapshot` holds exactly
that, taken from the replication when it ends (:meth:`RunSnapshot.of`) and stored beside
the tables as ``snapshot.npz`` (:data:`SNAPSHOT_FILE`, named in the folder's manifest), so
that ``ctsim report`` draws the same figures from the folder alone, with no run again.

Plain numpy only (no matplotlib, no model): a sweep's worker makes one, and the report
reads one, without loading either.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ctsim.errors import ResultsError

if TYPE_CHECKING:
    from ctsim.core.simulation import Simulation

#: The snapshot's file in a run folder.
SNAPSHOT_FILE = "snapshot.npz"
#: The layout of the file; a reader refuses another.
FORMAT = 1


class HasWorld(Protocol):
    """Anything with a world to lay out: a :class:`RunSnapshot`, or a live model (the
    teaching page's), whose ``world`` has the same arrays under the same names."""

    @property
    def world(self) -> Any: ...


@dataclass(frozen=True)
class WorldLayout:
    """The part of a world (:class:`ctsim.core.world.World`) that figures draw, with the
    same names: N nations, H hubs.

    Attributes:
        names: nation names, length N; ``codes`` their ISO3 codes ("" outside a dataset).
        capacity: (N,) intelligence capacity in [0, 1] (node size).
        bloc, region: (N,) label index per nation; ``bloc_names``, ``region_names`` spell them.
        inst_names: hub names, length H; ``members`` (H, N) bool membership.
        trust0: (N, N) trust at the start in [0, 1].
        inst_trust0: (N, H) each member's trust in each hub at the start in [0, 1].
    """

    names: list[str]
    codes: list[str]
    capacity: NDArray[np.float64]
    bloc: NDArray[np.int64]
    bloc_names: list[str]
    region: NDArray[np.int64]
    region_names: list[str]
    inst_names: list[str]
    members: NDArray[np.bool_]
    trust0: NDArray[np.float64]
    inst_trust0: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of nations."""
        return len(self.names)

    @classmethod
    def of(cls, world: Any) -> WorldLayout:
        """The layout of ``world`` (a :class:`ctsim.core.world.World`), its arrays copied."""
        n = world.n
        return cls(
            names=list(world.names),
            codes=list(world.codes) if len(world.codes) else [""] * n,
            capacity=np.array(world.capacity, np.float64),
            bloc=np.array(world.bloc, np.int64), bloc_names=list(world.bloc_names),
            region=np.array(world.region, np.int64), region_names=list(world.region_names),
            inst_names=list(world.inst_names),
            members=np.array(world.members, bool).reshape(-1, n),
            trust0=np.array(world.trust0, np.float64),
            inst_trust0=np.array(world.inst_trust0, np.float64).reshape(n, -1))


@dataclass(frozen=True)
class RunSnapshot:
    """One replication at its end, as its figures draw it.

    Attributes:
        world: the world's layout (:class:`WorldLayout`).
        trust: (N, N) trust at the end, ``trust[i, j]`` how far nation i trusts nation j.
        inst_trust: (N, H) each member's trust in each hub at the end.
        plots_by_base: (N,) plots spawned from each nation's territory (counts).
        haven_concentration: the Herfindahl index of those counts' shares, in [0, 1].
        steps: weeks run.
    """

    world: WorldLayout
    trust: NDArray[np.float64]
    inst_trust: NDArray[np.float64]
    plots_by_base: NDArray[np.int64]
    haven_concentration: float
    steps: int

    @classmethod
    def of(cls, run: Simulation) -> RunSnapshot:
        """The snapshot of a run that has ended (a Simulation, or a CooperationModel:
        both have ``world``, ``trust``, ``inst_trust``, ``tally`` and ``steps``)."""
        from ctsim.core.metrics import haven_concentration

        world = WorldLayout.of(run.world)
        return cls(world=world, trust=np.array(run.trust, np.float64),
                   inst_trust=np.array(run.inst_trust, np.float64).reshape(world.n, -1),
                   plots_by_base=np.array(run.tally.plots_by_base, np.int64),
                   haven_concentration=haven_concentration(run), steps=int(run.steps))

    # ------------------------------------------------------------------ the file

    def to_bytes(self) -> bytes:
        """The snapshot as a compressed ``.npz`` (arrays and text only, no pickle)."""
        arrays: dict[str, Any] = {"format": np.int64(FORMAT)}
        for part, prefix in ((self.world, "world."), (self, "")):
            for f in fields(part):
                if f.name == "world":
                    continue
                value = getattr(part, f.name)
                arrays[prefix + f.name] = (np.array(value, dtype=str) if isinstance(value, list)
                                           else np.asarray(value))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def load(cls, path: Path) -> RunSnapshot:
        """Read a snapshot written by :meth:`to_bytes`.

        Raises:
            ResultsError: the file is missing, damaged or not a snapshot of this format.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError:
            raise ResultsError(f"{path}: missing (the run's figures need it)") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None
        if arrays.get("format", np.int64(-1)).tolist() != FORMAT:
            raise ResultsError(f"{path}: not a run snapshot of format {FORMAT}")
        try:
            world = WorldLayout(**{f.name: _value(arrays.pop("world." + f.name), f.type)
                                   for f in fields(WorldLayout)})
            snap = cls(world=world, **{f.name: _value(arrays.pop(f.name), f.type)
                                       for f in fields(cls) if f.name != "world"})
            _check(snap)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise ResultsError(f"{path}: not a whole run snapshot ({exc})") from None
        return snap


def _value(array: np.ndarray, kind: str) -> Any:
    """A stored array as the field of type ``kind`` (the annotation's text) holds it."""
    if kind == "list[str]":
        return [str(x) for x in array.reshape(-1)]
    if kind == "float":
        return float(array)
    if kind == "int":
        return int(array)
    return array


def _check(snap: RunSnapshot) -> None:
    """Raise ValueError unless the arrays' shapes and labels fit one world of N nations."""
    w = snap.world
    n, h = w.n, len(w.inst_names)
    shapes = {"codes": (len(w.codes),), "capacity": w.capacity.shape, "bloc": w.bloc.shape,
              "region": w.region.shape, "members": w.members.shape, "trust0": w.trust0.shape,
              "inst_trust0": w.inst_trust0.shape, "trust": snap.trust.shape,
              "inst_trust": snap.inst_trust.shape, "plots_by_base": snap.plots_by_base.shape}
    want = {"codes": (n,), "capacity": (n,), "bloc": (n,), "region": (n,), "members": (h, n),
            "trust0": (n, n), "inst_trust0": (n, h), "trust": (n, n), "inst_trust": (n, h),
            "plots_by_base": (n,)}
    for name, shape in want.items():
        if shapes[name] != shape:
            raise ValueError(f"{name} has shape {shapes[name]}, not {shape}")
    for labels, names in ((w.bloc, w.bloc_names), (w.region, w.region_names)):
        if n and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError("a label index outside its names")
