"""The errors a user can cause, one family.

Every mistake a user can make (a bad scenario or experiment file, an output place that
cannot be written, results that cannot be read) raises a :class:`CtsimError`; the
``ctsim`` command turns it into one line ``error: ...`` and exit status 2, in one place
(:func:`ctsim.cli.main`). Any other exception is a bug and shows its traceback.
"""

from __future__ import annotations


class CtsimError(Exception):
    """A mistake a user can cause and correct, told in one line."""


class ScenarioError(CtsimError, ValueError):
    """A mistake in a scenario file, its overrides or an option that sets a scenario key.

    Attributes:
        source: the file (or ``<overrides>``/``<scenario>``) the mistake is in.
        key: the dotted key path, empty when the whole file is wrong.
        message: what is wrong, in words.
        line: the 1-based YAML line where known.
    """

    def __init__(self, source: str, key: str, message: str, line: int | None = None):
        self.source, self.key, self.message, self.line = source, key, message, line
        parts = [source] + ([key] if key else []) + [message]
        text = ": ".join(parts)
        if line is not None:
            text += f" (line {line})"
        super().__init__(text)

    def __reduce__(self):
        """Pickle with the constructor's arguments (errors cross process boundaries)."""
        return (type(self), (self.source, self.key, self.message, self.line))


class ExperimentError(ScenarioError):
    """A mistake in an experiment (sweep) file, or an experiment its results do not match."""


class OutputError(CtsimError):
    """An output place that cannot be used: unwritable, a file where a folder must be, or
    holding results that would be overwritten."""


class ResultsError(CtsimError):
    """Stored results that are missing, incomplete or unreadable."""


class ArgumentError(CtsimError, ValueError):
    """A wrong argument of a call of the Python API, told in one line
    (``ctsim.run: replications: ...``)."""
