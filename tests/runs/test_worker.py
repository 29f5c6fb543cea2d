"""A sweep worker's own bookkeeping (ctsim.runs.worker)."""

from __future__ import annotations

from ctsim.runs import worker


def test_override_keys_keep_equal_numbers_of_other_types_apart():
    # 1, 1.0 and True are equal in Python but validate differently (an int field refuses
    # 1.5-like floats, a bool field refuses 1): each must make its own scenario.
    keys = {worker._override_key({"threat.groups": v}) for v in (1, 1.0, True)}
    assert len(keys) == 3


def test_override_keys_do_not_depend_on_the_order_given():
    a = worker._override_key({"threat.groups": 4, "legal.mlat_delay": 2})
    b = worker._override_key({"legal.mlat_delay": 2, "threat.groups": 4})
    assert a == b and hash(a) == hash(b)


def test_an_unhashable_override_falls_back_to_its_text():
    key = worker._override_key({"world.blocs": ["a", "b"]})
    assert key == "[('world.blocs', ['a', 'b'])]"
