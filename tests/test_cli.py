"""The ``ctsim`` command: run, validate, scenarios, compare, and the bad-input contract.

Most cases use click's CliRunner on :data:`ctsim.cli.cli` (fast, in process); a few run the
installed ``ctsim`` entry point in a subprocess to prove the real command exits with status 2,
prints one ``error:`` line on stderr and no traceback. A hypothesis fuzz mutates valid
scenarios into malformed ones and checks every one gives that same one-line error.
"""

from __future__ import annotations

import copy
import itertools
import json
import string
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ctsim.cli import cli
from ctsim.core import registry
from ctsim.core import scenario as scenario_module
from tests.conftest import SCENARIOS, SMALL

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
#: Metric names SCENARIO_FORMAT.md requires in summary.json.
REQUIRED_METRICS = (
    "disruption_rate", "plots", "disrupted", "attacks", "weeks_to_disruption", "foreign_share",
    "shared_bilateral", "shared_institutional", "leaks", "extraditions_granted",
    "extraditions_refused", "mean_trust", "haven_concentration",
)
RUN_ARGS = ("--replications", "2", "--steps", "30", "--quiet")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def assert_one_line_error(result: Result, names: str | tuple[str, ...], out: Path | None = None):
    """Exit 2, one ``error:`` line on stderr naming a file, nothing else, nothing written."""
    names = (names,) if isinstance(names, str) else names
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert any(n in lines[0] for n in names), lines[0]
    assert "Traceback" not in result.output
    if out is not None:
        assert not out.exists()
    return lines[0]


# ---------------------------------------------------------------- ctsim run: output


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    return write_yaml(tmp_path_factory.mktemp("scn") / "small.yaml", SMALL)


@pytest.fixture(scope="module")
def small_run(small_file, tmp_path_factory) -> Path:
    """One `ctsim run` of the small scenario: 2 replications of 30 weeks."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = invoke("run", small_file, *RUN_ARGS, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_summary_with_the_contract_keys(small_run):
    doc = json.loads((small_run / "summary.json").read_text())
    assert doc["scenario"] == "small"
    assert doc["seed"] == SMALL["seed"]
    assert doc["replications"] == 2
    assert doc["steps"] == 30
    assert set(REQUIRED_METRICS) <= set(doc["metrics"])
    for name, m in doc["metrics"].items():
        assert set(m) >= {"mean", "ci95", "values"}, name
        assert len(m["values"]) == 2, name
        assert len(m["ci95"]) == 2, name
        finite = [v for v in m["values"] if v is not None]
        if len(finite) == 2:
            assert m["mean"] == pytest.approx(sum(finite) / 2), name
            lo, hi = m["ci95"]
            assert lo <= m["mean"] <= hi, name


def test_run_summary_values_are_consistent(small_run):
    metrics = json.loads((small_run / "summary.json").read_text())["metrics"]
    vals = {k: m["values"] for k, m in metrics.items()}
    for r in range(2):
        plots, disrupted, attacks = vals["plots"][r], vals["disrupted"][r], vals["attacks"][r]
        assert plots > 0
        assert disrupted + attacks <= plots
        assert vals["disruption_rate"][r] == pytest.approx(disrupted / (disrupted + attacks))
        assert 0.0 <= vals["mean_trust"][r] <= 1.0
        assert 0.0 < vals["haven_concentration"][r] <= 1.0


def test_run_writes_one_timeseries_row_per_replication_and_step(small_run):
    ts = pd.read_csv(small_run / "timeseries.csv")
    assert len(ts) == 2 * 31  # steps 0..30: the initial state is recorded at step 0
    assert {"replication", "seed", "step"} <= set(ts.columns)
    for r in (0, 1):
        steps = ts.loc[ts.replication == r, "step"].tolist()
        assert steps == list(range(31))
    doc = json.loads((small_run / "summary.json").read_text())
    assert ts.groupby("replication").seed.nunique().tolist() == [1, 1]
    assert ts.seed.nunique() == 2
    # the last row of each replication ends where the summary's counts do
    last = ts[ts.step == 30].sort_values("replication")
    for name in ("plots", "disrupted", "attacks"):
        assert last[name].tolist() == doc["metrics"][name]["values"], name


def test_run_writes_png_figures(small_run):
    pngs = sorted((small_run / "figures").glob("*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_twice_gives_byte_identical_summary(small_run, small_file, tmp_path):
    out = tmp_path / "again"
    result = invoke("run", small_file, *RUN_ARGS, "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").read_bytes() == (small_run / "summary.json").read_bytes()


def test_run_with_another_seed_gives_other_values(small_run, small_file, tmp_path):
    out = tmp_path / "seed"
    result = invoke("run", small_file, *RUN_ARGS, "--seed", "6", "--out", out)
    assert result.exit_code == 0, result.output
    new = json.loads((out / "summary.json").read_text())
    old = json.loads((small_run / "summary.json").read_text())
    assert new["seed"] == 6
    assert new["metrics"]["plots"]["values"] != old["metrics"]["plots"]["values"]


def test_run_with_set_changes_the_run(small_run, small_file, tmp_path):
    out = tmp_path / "set"
    result = invoke("run", small_file, "--replications", "2", "--steps", "30",
                    "--set", "threat.detection_rate=0.6", "--set", "threat.evidence_threshold=1",
                    "--out", out)  # not --quiet: the table is printed
    assert result.exit_code == 0, result.output
    assert "disruption_rate" in result.stdout
    assert f"wrote {out}/summary.json" in result.stdout
    new = json.loads((out / "summary.json").read_text())
    old = json.loads((small_run / "summary.json").read_text())
    assert new["metrics"] != old["metrics"]
    # far more detection and a threshold of one fragment disrupt far more plots
    assert new["metrics"]["disruption_rate"]["mean"] > old["metrics"]["disruption_rate"]["mean"]
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert resolved["threat"]["detection_rate"] == 0.6


def test_run_with_a_misspelt_set_key_is_a_one_line_error(small_file, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", small_file, "--set", "threat.detection_rat=0.2", "--out", out)
    line = assert_one_line_error(result, small_file.name, out)
    assert "threat.detection_rat" in line
    assert "did you mean 'threat.detection_rate'?" in line


@pytest.mark.parametrize("assignment", ["threat.detection_rate", "=0.2",
                                        "threat.detection_rate=7",
                                        "cooperation.institutions.9.latency=1"])
def test_run_with_a_bad_set_is_a_one_line_error(small_file, tmp_path, assignment):
    out = tmp_path / "out"
    result = invoke("run", small_file, "--set", assignment, "--out", out)
    assert_one_line_error(result, (small_file.name, "<overrides>"), out)


def test_run_resolves_a_shipped_scenario_name(tmp_path):
    out = tmp_path / "base"
    result = invoke("run", "baseline", "--replications", "1", "--steps", "3", "--quiet",
                    "--out", out)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "summary.json").read_text())
    assert doc["scenario"] == "baseline"
    seed = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text()).get("seed", 42)
    assert (doc["replications"], doc["steps"], doc["seed"]) == (1, 3, seed)


# ---------------------------------------------------------------- validate, scenarios, compare


def test_validate_prints_ok_for_every_shipped_scenario():
    result = invoke("validate", *SHIPPED)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(SHIPPED)
    for line, path in zip(lines, SHIPPED, strict=True):
        assert line.startswith("ok: ")
        assert line.endswith(f"({path.stem})")


def test_validate_resolves_shipped_names():
    result = invoke("validate", "baseline", "leaks")
    assert result.exit_code == 0, result.output
    assert "(baseline)" in result.stdout and "(leaks)" in result.stdout


def test_validate_with_set(small_file):
    assert invoke("validate", small_file, "--set", "world.nations=12").exit_code == 0
    result = invoke("validate", small_file, "--set", "world.nations=0")
    assert_one_line_error(result, small_file.name)


def test_scenarios_lists_every_shipped_scenario():
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    first_words = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    for path in SHIPPED:
        assert path.stem in first_words


def test_scenarios_of_a_missing_folder_is_a_one_line_error(tmp_path):
    result = invoke("scenarios", "--dir", tmp_path / "nope")
    assert_one_line_error(result, "nope")


def test_compare_prints_both_scenario_names(tmp_path):
    a = dict(copy.deepcopy(SMALL), name="small_a")
    b = dict(copy.deepcopy(SMALL), name="small_b")
    b["threat"]["detection_rate"] = 0.5
    pa, pb = write_yaml(tmp_path / "a.yaml", a), write_yaml(tmp_path / "b.yaml", b)
    result = invoke("compare", pa, pb, "--replications", "2", "--steps", "20", "--quiet",
                    "--metric", "plots")
    assert result.exit_code == 0, result.output
    assert "small_a" in result.stdout and "small_b" in result.stdout
    assert "difference vs small_a" in result.stdout


def test_compare_with_an_unknown_metric_is_a_one_line_error(small_file):
    result = invoke("compare", small_file, "--metric", "nope", "--quiet")
    line = assert_one_line_error(result, "--metric")
    assert "'nope'" in line


def test_compare_with_a_bad_scenario_is_a_one_line_error(small_file, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nthreat: {groups: -1}\n")
    result = invoke("compare", small_file, bad, "--replications", "2", "--quiet")
    assert_one_line_error(result, "bad.yaml")


# ---------------------------------------------------------------- the bad-input contract

BAD_INPUTS = {
    "not_yaml": ({"s.yaml": "name: s\nworld: [unclosed\n"}, "not valid YAML"),
    "non_mapping": ({"s.yaml": "- just\n- a list\n"}, "expected a mapping"),
    "unknown_key": ({"s.yaml": "name: s\nthreat:\n  detection_rat: 0.1\n"},
                    "did you mean 'threat.detection_rate'? (line 3)"),
    "out_of_range": ({"s.yaml": "name: s\nthreat:\n  detection_rate: 1.5\n"},
                     "threat.detection_rate: input should be less than or equal to 1"),
    "wrong_type": ({"s.yaml": "name: s\nsteps: many\n"}, "steps: input should be a valid integer"),
    "missing_file": ({}, "file not found"),
    "extends_loop": ({"s.yaml": "name: s\nextends: t.yaml\n",
                      "t.yaml": "name: t\nextends: s.yaml\n"}, "extends loop"),
    "missing_extends": ({"s.yaml": "name: s\nextends: gone.yaml\n"},
                        "extends: file not found: gone.yaml (line 2)"),
    "unknown_footprint_nation": (
        {"s.yaml": "name: s\nworld: {nations: 4}\nthreat: {footprint: [Avalon, Carpanai]}\n"},
        "unknown nation 'Carpanai'; did you mean 'Carpania'?"),
    "unknown_treaty_nation": (
        {"s.yaml": "name: s\nworld: {nations: 4}\nrelations: {treaties: [[Avalon, Oz]]}\n"},
        "relations.treaties.0: unknown nation 'Oz'"),
    "members_match_no_region": (
        {"s.yaml": "name: s\ncooperation:\n  institutions: [{name: h, members: {region: mars}}]\n"},
        "no nation has region 'mars'"),
    "duplicate_nations": (
        {"s.yaml": "name: s\nworld:\n  nations: [{name: A}, {name: A}]\n"},
        "nation names repeat: A"),
    "footprint_min_above_max": (
        {"s.yaml": "name: s\nthreat:\n  footprint: {min: 4, max: 2}\n"},
        "threat.footprint.max: max (2) is below min (4) (line 3)"),
    "missing_name": ({"s.yaml": "description: nameless\n"}, "name: required"),
    "error_in_parent": ({"s.yaml": "name: s\nextends: t.yaml\n",
                         "t.yaml": "name: t\nlegal: {mlat_delay: -3}\n"},
                        "t.yaml: legal.mlat_delay"),
}


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_gives_one_error_line_and_status_two(tmp_path, command, kind):
    files, words = BAD_INPUTS[kind]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "s.yaml"
    out = tmp_path / "out"
    args = ["run", path, "--quiet", "--steps", "5", "--out", out] if command == "run" else [
        "validate", path]
    line = assert_one_line_error(invoke(*args), "s.yaml" if kind != "error_in_parent" else "t.yaml",
                                 out)
    assert words in line
    assert line.startswith(f"error: {tmp_path}")


def test_bad_input_by_missing_shipped_name(tmp_path):
    out = tmp_path / "out"
    line = assert_one_line_error(invoke("run", "no_such_scenario", "--out", out),
                                 "no_such_scenario", out)
    assert line == ("error: no_such_scenario: no such file and no shipped scenario of that "
                    "name (see: ctsim scenarios)")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_run_with_an_institution_without_members_is_a_one_line_error(tmp_path):
    path = tmp_path / "s.yaml"
    data = copy.deepcopy(SMALL)
    data["cooperation"]["institutions"] = [{"name": "hub", "members": []}]
    write_yaml(path, data)
    out = tmp_path / "out"
    assert_one_line_error(invoke("run", path, "--steps", "5", "--replications", "1", "--quiet",
                                 "--out", out), "s.yaml", out)


def test_validate_a_recursive_yaml_alias_is_a_one_line_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nworld: &w {nations: *w}\n")
    assert_one_line_error(invoke("validate", path), "s.yaml")


# ---------------------------------------------------------------- the real entry point

CTSIM = Path(sys.executable).with_name("ctsim")

#: (scenario text, extra arguments, words the error line must contain)
ENTRY_CASES = {
    "unknown_key": ("name: s\nthreat:\n  detection_rat: 0.1\n", (),
                    "did you mean 'threat.detection_rate'? (line 3)"),
    "out_of_range": ("name: s\nrelations:\n  trust: 2\n", ("--set", "threat.groups=1"),
                     "relations.trust: input should be less than or equal to 1"),
}


@pytest.fixture(scope="module")
def entry_point_runs(tmp_path_factory) -> dict:
    """`ctsim run` on each bad file, as real processes started together (start-up is slow)."""
    assert CTSIM.exists(), CTSIM
    procs = {}
    for case, (text, args, _words) in ENTRY_CASES.items():
        folder = tmp_path_factory.mktemp(case)
        (folder / "scn.yaml").write_text(text)
        cmd = [str(CTSIM), "run", "scn.yaml", *args, "--out", "out"]
        procs[case] = (folder, subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True))
    done = {}
    for case, (folder, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        done[case] = (folder, proc.returncode, stdout, stderr)
    return done


@pytest.mark.parametrize("case", list(ENTRY_CASES))
def test_entry_point_gives_status_two_and_one_error_line(entry_point_runs, case):
    folder, status, stdout, stderr = entry_point_runs[case]
    assert status == 2, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: scn.yaml: ")
    assert ENTRY_CASES[case][2] in lines[0]
    assert "Traceback" not in stderr
    assert sorted(p.name for p in folder.iterdir()) == ["scn.yaml"]  # no out/, nothing else


# ---------------------------------------------------------------- fuzz

#: Two valid scenarios to mutate: generated nations, and explicit nations with name references.
FUZZ_BASES = [
    {
        "name": "fuzz",
        "description": "A valid scenario to break.",
        "seed": 3,
        "steps": 20,
        "world": {
            "nations": 8, "regions": 2,
            "capacity": {"mean": 0.5, "spread": 0.2},
            "legal_families": {"civil": 0.6, "common": 0.4},
        },
        "relations": {"trust": 0.6, "treaties": 0.3, "ad_hoc_sharing": False},
        "legal": {"mlat_delay": 8, "harmonization": 0.0},
        "cooperation": {
            "regime": "hybrid",
            "institutions": [
                {"name": "hub", "members": "all", "latency": 1, "trust": 0.5},
                {"name": "north_hub", "members": {"region": "north"}},
            ],
        },
        "trust_dynamics": {"learning_rate": 0.05, "shock": 0.2},
        "threat": {
            "groups": 3, "plots_per_year": 30.0, "adaptive": True,
            "footprint": {"min": 1, "max": 3}, "lead_time": {"min": 8, "max": 20},
            "detection_rate": 0.15, "sensitivity": {"mean": 0.5, "spread": 0.1},
            "evidence_threshold": 3, "surge_half_life": 13,
        },
    },
    {
        "name": "fuzz_explicit",
        "steps": 20,
        "world": {
            "nations": [
                {"name": "Avalon", "capacity": 1.0, "sovereignty": 0.0, "security": 1.0,
                 "tech": 0.0, "legal_family": "civil", "definition": 0.5, "bloc": "west",
                 "region": "north"},
                {"name": "Borduria", "bloc": "east", "region": "south", "target_weight": 2.0},
                {"name": "Carpania", "legal_family": "common", "bloc": "west",
                 "region": "north"},
            ],
        },
        "relations": {"treaties": [["Avalon", "Borduria"]]},
        "cooperation": {
            "regime": "hybrid",
            "institutions": [
                {"name": "west_hub", "members": {"bloc": "west"}},
                {"name": "pair", "members": ["Avalon", "Carpania"]},
            ],
        },
        "threat": {"footprint": ["Avalon", "Carpania"], "lead_time": 10, "sensitivity": 0.4},
    },
]


def _known_keys() -> set[str]:
    keys = {*scenario_module.FILE_KEYS, "region", "bloc", "legal_family",
            *scenario_module.LEGAL_FAMILIES}
    for obj in vars(scenario_module).values():
        if isinstance(obj, type) and hasattr(obj, "model_fields"):
            keys |= set(obj.model_fields)
    return keys


KNOWN_KEYS = _known_keys()


def _bounds(path) -> registry.Bounds | None:
    """The schema's numeric range at a fuzzed node (None where no number is allowed)."""
    return registry.bounds(".".join(str(p) for p in path))


WRONG_TYPE = {
    "number": ["not-a-number", [1, 2], {"zz": 1}],
    "bool": ["maybe-not", [1], {"zz": 1}],
    "str": [12345, 1.5, [1, 2], {"zz": 1}],
    "list": ["not-a-list", 3.5],
    "dict": ["not-a-mapping", [1, 2]],
}


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "str", list: "list", dict: "dict"}[type(value)]


def _nodes(node, path=()):
    """Every (path, value) in a nested mapping/list, the root excluded."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*path, key), value
        if isinstance(value, dict | list):
            yield from _nodes(value, (*path, key))


def _parent(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


def _misspell(key: str, how: int, extra: str) -> str:
    if how == 0 and len(key) > 2:
        bad = key[:1] + key[2:]  # drop the second letter
    elif how == 1 and len(key) > 2 and key[1] != key[2]:
        bad = key[0] + key[2] + key[1] + key[3:]  # swap two letters
    elif how == 2:
        bad = key + key[-1]  # double the last letter
    else:
        bad = key + extra
    if bad in KNOWN_KEYS or bad == key:
        bad = key + "_" + extra
    return bad


@st.composite
def malformed(draw):
    """(files: name -> bytes, the name the error must mention) of one malformed scenario."""
    base = copy.deepcopy(draw(st.sampled_from(FUZZ_BASES)))
    # hypothesis favours the first choices: the rarer kinds come first
    kind = draw(st.sampled_from(["bad_extends", "delete", "not_mapping", "garbage", "wrong_type",
                                 "too_small", "too_big", "misspell", "add_key"]))
    nodes = list(_nodes(base))
    files: dict[str, bytes] = {}
    blame = "main"

    if kind in ("misspell", "add_key"):
        mappings = [((), base)] + [(p, v) for p, v in nodes if isinstance(v, dict)]
        path, mapping = draw(st.sampled_from(mappings))
        extra = draw(st.text("qxzj", min_size=1, max_size=3))
        if kind == "misspell":
            key = draw(st.sampled_from(sorted(mapping)))
            bad = _misspell(key, draw(st.integers(0, 3)), extra)
            mapping[bad] = mapping.pop(key)
        else:
            new = draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=12))
            if new in KNOWN_KEYS or new in mapping:
                new += "_" + extra
            mapping[new] = draw(st.sampled_from([1, 0.5, "x", True, [1], {"a": 1}]))
    elif kind == "wrong_type":
        path, value = draw(st.sampled_from(nodes))
        _parent(base, path)[path[-1]] = draw(st.sampled_from(WRONG_TYPE[_kind(value)]))
    elif kind == "too_small":
        bounded = [(p, v) for p, v in nodes
                   if _kind(v) == "number" and (b := _bounds(p)) and b.low is not None]
        path, value = draw(st.sampled_from(bounded))
        bound = _bounds(path).low
        if isinstance(value, int) and isinstance(bound, int):
            bad = bound - draw(st.integers(1, 10**6))
        else:
            bad = bound - draw(st.floats(1e-6, 1e6))
        _parent(base, path)[path[-1]] = bad
    elif kind == "too_big":
        bounded = [(p, v) for p, v in nodes
                   if _kind(v) == "number" and (b := _bounds(p)) and b.high is not None]
        path, value = draw(st.sampled_from(bounded))
        bound = _bounds(path).high
        if isinstance(value, int) and isinstance(bound, int):
            bad = bound + draw(st.integers(1, 10**6))
        else:
            bad = bound + draw(st.floats(1e-3, 1e6))
        _parent(base, path)[path[-1]] = bad
    elif kind == "garbage":
        text = yaml.safe_dump(base, sort_keys=False)
        lines = text.splitlines()
        how = draw(st.integers(0, 5))
        if how == 0:  # a line no YAML token can start, anywhere in the file
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, draw(st.sampled_from(["@oops", "`oops", "\tthreat: {}"])))
            raw = "\n".join(lines).encode()
        elif how == 1:  # an unclosed flow mapping
            body = draw(st.text(string.ascii_letters + string.digits + " :,#'-\n", max_size=40))
            raw = ("{" + body.replace("'", "")).encode()
        elif how == 2:  # a truncated flow sequence at the end
            raw = (text + "extra: [1, 2\n").encode()
        elif how == 3:  # bytes that are not UTF-8
            raw = text.encode()[: draw(st.integers(0, 40))] + b"\xff\xfe\xfa"
        elif how == 4:  # a control character
            raw = f"name: fu\x01zz\n{text}".encode()
        else:  # a Python tag safe_load refuses
            raw = (b"name: !!python/name:os.system fuzz\n")
        files["main"] = raw
    elif kind == "not_mapping":
        top = draw(st.one_of(
            st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
            st.text(min_size=1, max_size=20), st.lists(st.integers(), max_size=3),
            st.just([base]),
        ))
        files["main"] = yaml.safe_dump(top).encode()
    elif kind == "delete":
        if draw(st.integers(0, 4)) == 0:
            del base["name"]  # required in a file
        elif base["name"] == "fuzz":
            how = draw(st.sampled_from(["inst_name", "footprint", "institutions_item"]))
            insts = base["cooperation"]["institutions"]
            if how == "inst_name":
                del insts[draw(st.integers(0, len(insts) - 1))]["name"]
            elif how == "footprint":
                base["threat"]["footprint"] = []
            else:
                insts[draw(st.integers(0, len(insts) - 1))] = {}
        else:
            how = draw(st.sampled_from(["nation_name", "nation", "pair_half", "nations",
                                        "footprint"]))
            nations = base["world"]["nations"]
            if how == "nation_name":
                del nations[draw(st.integers(0, len(nations) - 1))]["name"]
            elif how == "nation":
                del nations[0]  # Avalon: the footprint, a treaty and a hub name it
            elif how == "pair_half":
                base["relations"]["treaties"][0].pop(draw(st.integers(0, 1)))
            elif how == "nations":
                base["world"]["nations"] = []
            else:
                base["threat"]["footprint"] = []
    else:  # bad_extends
        how = draw(st.sampled_from(["missing", "self", "not_a_path", "folder", "loop",
                                    "bad_parent"]))
        if how == "missing":
            base["extends"] = "missing_parent.yaml"
        elif how == "self":
            base["extends"] = "main"
        elif how == "not_a_path":
            base["extends"] = draw(st.sampled_from([5, "", [], {}, True, ["a.yaml"]]))
        elif how == "folder":
            base["extends"] = "."
        elif how == "loop":
            base["extends"] = "parent"
            files["parent"] = yaml.safe_dump({"name": "p", "extends": "main"}).encode()
        else:
            base["extends"] = "parent"
            # an unknown key: the child cannot override it away
            files["parent"] = yaml.safe_dump({"name": "p", "world": {"colour": "red"}}).encode()
            blame = "parent"
    files.setdefault("main", yaml.safe_dump(base, sort_keys=False).encode())
    return files, blame, kind


_case = itertools.count()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=malformed(), command=st.sampled_from(["run", "validate"]))
def test_fuzzed_malformed_scenarios_give_one_error_line(tmp_path, case, command):
    files, blame, kind = case
    note(f"mutation: {kind}")
    folder = tmp_path / f"case{next(_case)}"
    folder.mkdir()
    names = {key: f"{key}_{folder.name}.yaml" for key in files}
    for key, raw in files.items():
        # file names inside the files (extends) point at the unique names
        for other, name in names.items():
            raw = raw.replace(f"extends: {other}\n".encode(), f"extends: {name}\n".encode())
        (folder / names[key]).write_bytes(raw)
    path = folder / names["main"]
    out = folder / "out"
    if command == "run":
        result = invoke("run", path, "--steps", "5", "--replications", "1", "--quiet",
                        "--out", out)
    else:
        result = invoke("validate", path)
    assert_one_line_error(result, names[blame], out)


def test_a_progress_line_says_the_rate_and_the_time_left(monkeypatch, capsys):
    """Written to a log (no terminal), each progress line after the first result gives the
    rate since that result and the time the rest would take at it."""
    from ctsim import cli as command

    clock = [100.0]
    monkeypatch.setattr(command.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(command.sys.stderr, "isatty", lambda: False, raising=False)
    progress = command.Progress("exp", 1000, quiet=False)
    progress(0, 0)
    progress(100, 0)  # the first result: no rate yet
    clock[0] += 10
    progress(100, 0)
    clock[0] += 600
    progress(300, 1)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["exp: 1,000 runs", "exp: 100 of 1,000 runs",
                     "exp: 200 of 1,000 runs, 10 runs/s, about 80 s left",
                     "exp: 500 of 1,000 runs, 1 failed, 1 runs/s, about 13 min left"]


# ---------------------------------------------------------------- the end of the process


@pytest.mark.parametrize(("args", "status", "says"), [
    (["validate", "baseline"], 0, "ok: "), (["validate", "no_such_scenario"], 2, "error: ")])
def test_the_program_ends_without_the_interpreters_teardown_and_keeps_its_status(
        args, status, says):
    # an object freed only by the interpreter's teardown, and a function run at exit
    code = ("import atexit, sys\n"
            "class Freed:\n"
            "    def __del__(self):\n"
            "        print('torn down', flush=True)\n"
            "kept = Freed()\n"
            "atexit.register(lambda: print('at exit', flush=True))\n"
            "sys.argv = ['ctsim', *sys.argv[1:]]\n"
            "from ctsim.cli import main\n"
            "main()\n")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True)
    assert done.returncode == status, done.stderr
    assert says in done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "at exit"
    assert "torn down" not in done.stdout
    # called with its arguments (from Python), it raises SystemExit and the caller goes on
    code = code.replace("main()\n", "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
                                    "    print('status', e.code)\n")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True)
    assert f"status {status}" in done.stdout and "torn down" in done.stdout
