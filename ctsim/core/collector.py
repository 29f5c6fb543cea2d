"""The Mesa DataCollector of a CooperationModel: one reporter per column of the week's record.

Mesa's side of the record (:data:`ctsim.core.state.RECORDED`; phase 9 of
:func:`ctsim.core.phases.week` writes it): :class:`RecordCollector` gives the table users
read with ``model.datacollector.get_model_vars_dataframe()``; :func:`recorded` is its
reporter, the value of one column in the current week.
"""

from __future__ import annotations

from functools import partial

import mesa

from ctsim.core import state
from ctsim.core.metrics import IS_COUNT, RunState, recorded_columns


def recorded(model: RunState, column: int) -> float | int:
    """The DataCollector's reporter: column ``column`` of the record of the current week
    (``state.RECORDED``; phase 9 of :func:`ctsim.core.phases.week` writes it); ints for
    counts."""
    value = float(model.tally.record[model.steps, column])
    return int(value) if IS_COUNT[column] else value


class RecordCollector(mesa.DataCollector):
    """Mesa's DataCollector with one model reporter per column of the week's record
    (:func:`recorded`). While its reporters are these (and no agent reporters were added),
    collecting copies the record's rows at once, the values the reporters would give."""

    def __init__(self) -> None:
        super().__init__(model_reporters={name: partial(recorded, column=c)
                                          for c, name in enumerate(state.RECORDED)})
        self._own = dict(self.model_reporters)

    @property
    def reads_record_only(self) -> bool:
        """Whether its reporters are still the record's own (none added or replaced)."""
        return (not self.agent_reporters and not self.agenttype_reporters
                and self.model_reporters == self._own)

    def collect(self, model: RunState) -> None:
        """Record the current week (Mesa's DataCollector interface)."""
        if self.reads_record_only:
            self.collect_weeks(model, model.steps, model.steps)
        else:
            super().collect(model)

    def collect_weeks(self, model: RunState, first: int, last: int) -> None:
        """Record weeks ``first`` to ``last`` from the model's record, as collecting at the
        end of each of them would (Mesa's clock reads the week number then)."""
        for name, values in recorded_columns(model.tally, first, last).items():
            self.model_vars[name].extend(values)
        self._collection_steps.extend(float(t) for t in range(first, last + 1))


