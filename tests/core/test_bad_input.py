"""Bad input on the scenario side, as a careless or hostile user gives it (SCENARIO_FORMAT.md,
"Bad input"): each case is one ``error:`` line, exit status 2, nothing written, no
traceback; or the stated behaviour (the page ignores a malformed message; validation time
grows about linearly with a scenario's size).
"""

from __future__ import annotations

import copy
import gc
import random
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from ctsim.cli import cli, main, printable
from ctsim.core.scenario import ScenarioError, load_scenario, scenario_from_dict
from tests.conftest import SMALL


def invoke(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error_line(result: Result, out: Path | None = None) -> str:
    """The single ``error:`` line of a command that exited 2 and wrote nothing."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if out is not None:
        assert not out.exists()
    return lines[0]


def write(path: Path, data: dict | str) -> Path:
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def small(**changes) -> dict:
    return copy.deepcopy(SMALL) | changes


# ---------------------------------------------------------------- 7. infinite numbers


@pytest.mark.parametrize("key, text", [
    ("world.legal_families.civil", "world:\n  legal_families: {civil: .inf}\n"),
    ("world.nations.0.target_weight",
     "world:\n  nations:\n  - {name: A, target_weight: .inf}\n  - {name: B}\n"),
    ("threat.plots_per_year", "threat:\n  plots_per_year: .nan\n"),
    ("threat.sensitivity.mean", "threat:\n  sensitivity: {mean: -.inf}\n"),
])
def test_an_infinite_number_in_a_scenario_is_one_error_naming_its_key(tmp_path, key, text):
    path = write(tmp_path / "inf.yaml", "name: inf\n" + text)
    out = tmp_path / "out"
    line = one_error_line(invoke("run", path, "--out", out, "-q"), out)
    assert line.startswith(f"error: {path}: {key}: input should be a finite number")


def test_an_infinite_target_weight_in_python_is_refused():
    data = small(world={"nations": [{"name": "A", "target_weight": float("inf")},
                                    {"name": "B"}]})
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.key == "world.nations.0.target_weight"


def test_an_infinite_set_value_is_one_error(tmp_path):
    path = write(tmp_path / "s.yaml", small())
    line = one_error_line(invoke("validate", path, "--set", "threat.ai_boost=.inf"))
    assert line == (f"error: {path} --set: threat.ai_boost: input should be a finite number, "
                    "got inf")


# ---------------------------------------------------------------- 12. over-long names


def test_an_over_long_scenario_name_is_one_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    long = "s" * 300 + ".yaml"
    line = one_error_line(invoke("validate", long))
    assert line.endswith(": cannot read: File name too long")


def test_an_over_long_extends_is_one_error(tmp_path):
    path = write(tmp_path / "c.yaml", "name: c\nextends: " + "p" * 300 + ".yaml\n")
    line = one_error_line(invoke("validate", path))
    assert f"{path}: extends: cannot read" in line and "File name too long (line 2)" in line


def test_an_over_long_app_scenario_is_one_error(tmp_path):
    line = one_error_line(invoke("app", "--scenario", tmp_path / ("a" * 300 + ".yaml")))
    assert line.endswith("cannot read: File name too long")


# ---------------------------------------------------------------- 13. long whole numbers


def test_a_whole_number_of_5000_digits_is_one_error(tmp_path):
    path = write(tmp_path / "n.yaml", f"name: n\nseed: {'3' * 5000}\n")
    line = one_error_line(invoke("validate", path))
    assert line == (f"error: {path}: seed: a whole number of 5,000 digits; a number has at "
                    f"most {sys.get_int_max_str_digits():,} (line 2)")


def test_a_set_of_5000_digits_is_one_error(tmp_path):
    path = write(tmp_path / "s.yaml", small())
    line = one_error_line(invoke("validate", path, "--set", "seed=" + "3" * 5000))
    assert line.startswith("error: --set seed: a whole number of 5,000 digits")


# ---------------------------------------------------------------- 17. paths followed


def test_extends_of_a_system_file_shows_nothing_of_it(tmp_path):
    path = write(tmp_path / "evil.yaml", "name: evil\nextends: /etc/passwd\n")
    line = one_error_line(invoke("validate", path))
    assert line == f"error: {path}: extends: must name a .yaml or .yml file (line 2)"


def test_extends_of_a_foreign_yaml_file_shows_nothing_of_it(tmp_path):
    write(tmp_path / "kube.yaml", "apiVersion: v1\nclient-key-data: c2VjcmV0\n")
    path = write(tmp_path / "evil.yaml", "name: evil\nextends: kube.yaml\n")
    line = one_error_line(invoke("validate", path))
    assert line == (f"error: {tmp_path / 'kube.yaml'}: not a scenario file (none of its keys "
                    "is a scenario key)")


def test_a_misspelt_key_in_a_parent_still_gets_its_suggestion(tmp_path):
    write(tmp_path / "p.yaml", "nmae: p\n")
    path = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\n")
    line = one_error_line(invoke("validate", path))
    assert "unknown key 'nmae'; did you mean 'name'?" in line


# ---------------------------------------------------------------- 18. terminal sequences


def test_control_sequences_from_a_key_are_escaped_in_the_error(tmp_path):
    path = write(tmp_path / "t.yaml",
                 'name: t\nthreat:\n  "\\e]0;pwned\\a\\e[2J": 1\n')
    line = one_error_line(invoke("validate", path))
    assert "\x1b" not in line and "\x07" not in line
    assert r"unknown key '\x1b]0;pwned\x07\x1b[2J'" in line


def test_the_printer_escapes_every_character_a_terminal_acts_on():
    assert printable("a\x1b[31mb\x07c\u202ed\ne") == r"a\x1b[31mb\x07c\u202ed\ne"
    assert printable("naïve, 東京: ok") == "naïve, 東京: ok"


def test_the_real_entry_point_escapes_too(tmp_path, capsys):
    path = write(tmp_path / "t.yaml", 'name: t\n"\\e[2J": 1\n')
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and r"\x1b[2J" in err


# ---------------------------------------------------------------- 19. the app


@pytest.mark.parametrize("host", ["", "  "])
def test_an_empty_host_is_refused(host):
    line = one_error_line(invoke("app", "--host", host))
    assert line.startswith("error: --host: give the interface to listen on")


@pytest.fixture(scope="module")
def session():
    pytest.importorskip("solara")
    from ctsim.teaching import sessions

    return sessions.Session()


@pytest.mark.parametrize("message", [
    "step", ["op", "step"], None, 7,
    {"op": "step", "weeks": 1e999},
    {"op": "seed", "value": 1e999},
    {"op": "seed", "value": -1e999},
    {"op": "set", "side": 0, "name": "leak_rate", "value": 0.1, "week": 1e999},
    {"op": "speed", "value": float("nan")},
])
def test_a_malformed_page_message_changes_nothing_and_raises_nothing(session, message):
    from ctsim.teaching.page import handle

    week = session.week
    assert handle(session, message) is False
    assert session.week == week


# ---------------------------------------------------------------- 21. validation time


def _listed_world(nations: int, pairs: int, seed: int = 1) -> dict:
    """A scenario of ``nations`` listed nations and ``pairs`` treaty pairs (half of them
    also direct-access pairs)."""
    rng = random.Random(seed)
    names = [f"N{i:05d}" for i in range(nations)]
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < pairs:
        a, b = rng.sample(range(nations), 2)
        chosen.add((min(a, b), max(a, b)))
    treaties = [[names[a], names[b]] for a, b in sorted(chosen)]
    return {"name": "big", "world": {"nations": [{"name": n} for n in names]},
            "relations": {"treaties": treaties, "direct_access": treaties[: pairs // 2]},
            "threat": {"footprint": names[:4]}}


def _seconds(data: dict) -> float:
    """The fastest of three validations of ``data``, with the garbage collector paused (its
    passes over the many small objects of a large scenario are noise here)."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            scenario_from_dict(data)
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def test_validation_time_grows_about_linearly_with_nations_and_treaty_pairs():
    # 10 times the nations and 10 times the pairs (2,000 nations, as many as a generated
    # world may have): linear work takes about 10 times as long (12 to 16 measured); a scan of the
    # nations for each pair's names (the step that made a 4 MB scenario take 46 s) took
    # about 100 to 180 times.
    small_world, big_world = _listed_world(200, 2_000), _listed_world(2_000, 20_000)
    ratio = _seconds(big_world) / _seconds(small_world)
    assert ratio < 40, f"validation took {ratio:.0f} times as long for 10 times the size"


def test_a_large_listed_world_validates_the_same_as_before(tmp_path):
    data = _listed_world(300, 3_000)
    data["relations"]["treaties"].append(["N00001", "N00001"])
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert (info.value.key, info.value.message) == (
        "relations.treaties.3000", "a treaty needs two nations, got 'N00001' twice")
    path = write(tmp_path / "big.yaml", _listed_world(300, 3_000))
    assert len(load_scenario(path).relations.treaties) == 3_000
