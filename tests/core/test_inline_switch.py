"""The benchmark switch ``CTSIM_INLINE`` (:data:`ctsim.core.phases.INLINE`).

It is read once, when :mod:`ctsim.core.phases` is imported, so each case imports the module
in a fresh interpreter with the environment it sets (importing compiles nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Prints the switch and the inlining options of a phase and of a helper, as numba holds
#: them (numba's ``inline``, default "never", and ``forceinline``, default False).
PROBE = ("from ctsim.core import phases; "
         "o = [f.targetoptions for f in (phases.start_week, phases.receive)]; "
         "print(phases.INLINE, *(x.get('inline', 'never') for x in o), "
         "*(x.get('forceinline', False) for x in o))")


def imported(**env: str) -> subprocess.CompletedProcess:
    """``python -c PROBE`` with the switch and numba's cache folder as given (unset
    otherwise)."""
    base = {k: v for k, v in os.environ.items() if k not in ("CTSIM_INLINE", "NUMBA_CACHE_DIR")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**base, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env", [{}, {"CTSIM_INLINE": ""}])
def test_phases_are_inlined_by_llvm_by_default(env):
    done = imported(**env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["llvm", "never", "never", "True", "True"]


def test_numba_copies_the_phases_at_each_call_site_when_asked(tmp_path):
    done = imported(CTSIM_INLINE="numba", NUMBA_CACHE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["numba", "always", "always", "False", "False"]


def test_never_compiles_the_phases_as_separate_functions(tmp_path):
    done = imported(CTSIM_INLINE="never", NUMBA_CACHE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["never", "never", "never", "False", "False"]


@pytest.mark.parametrize("env", [{"CTSIM_INLINE": "sometimes"}, {"CTSIM_INLINE": "Never"},
                                 {"CTSIM_INLINE": "never"}, {"CTSIM_INLINE": "numba"}])
def test_an_unknown_value_or_another_than_llvm_without_a_cache_of_its_own_is_refused(env):
    done = imported(**env)
    assert done.returncode != 0
    assert f"CTSIM_INLINE={env['CTSIM_INLINE']!r}: expected 'llvm' (the default)" in done.stderr
