"""The one reader of ctsim's YAML files (ctsim/files.py): limits, ``extends`` and the paths
a file may point to, origins, overrides, one-line errors and what they may quote.

The contract is SCENARIO_FORMAT.md's "Bad input": one line naming the file, the key and
what is wrong; nothing read from a file that is not a ctsim file of the kind expected is
shown; numbers are finite and no longer than Python converts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ctsim import files
from ctsim.core.scenario import SCENARIO_KEYS, Scenario, load_scenario
from ctsim.errors import ScenarioError
from ctsim.files import (
    Origins,
    apply_overrides,
    copied_along,
    did_you_mean,
    first_error,
    follow,
    load_raw,
    parse_assignment,
    parse_yaml,
    read_yaml,
)

PACKAGE = Path(files.__file__).resolve().parent


def error_of(call, *args, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        call(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------- the module's place


def test_the_reader_imports_only_errors_and_the_limits_of_ctsim():
    tree = ast.parse((PACKAGE / "files.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert {m for m in imported if m.startswith("ctsim")} <= {"ctsim.errors",
                                                               "ctsim.core.limits"}


@pytest.mark.parametrize("name", ["read_yaml", "load_raw", "Origins", "apply_overrides",
                                  "first_error", "parse_assignment", "parse_yaml"])
def test_the_reader_lives_in_one_place(name):
    from ctsim.core import scenario

    assert getattr(files, name).__module__ == "ctsim.files"
    # the schema module uses it, it does not define it again
    assert getattr(scenario, name, getattr(files, name)) is getattr(files, name)


# ---------------------------------------------------------------- parsing and limits


def test_a_whole_number_longer_than_python_converts_is_one_error_with_its_line():
    digits = sys.get_int_max_str_digits()
    err = error_of(parse_yaml, f"name: x\nsteps: {'7' * (digits + 1)}\n", "big.yaml")
    assert (err.source, err.key, err.line) == ("big.yaml", "steps", 2)
    assert f"{digits + 1:,} digits" in err.message


def test_a_whole_number_at_the_limit_is_read():
    digits = sys.get_int_max_str_digits()
    value, _ = parse_yaml(f"steps: {'7' * digits}\n", "ok.yaml")
    assert value["steps"] == int("7" * digits)


def test_a_long_number_in_a_set_is_one_error_not_text():
    digits = sys.get_int_max_str_digits()
    err = error_of(parse_assignment, f"steps={'1' * (digits + 5)}")
    assert err.source == "--set steps"
    assert "digits" in err.message


def test_a_long_number_in_an_error_is_shortened(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nsteps: {'9' * 3000}\n", encoding="utf-8")
    err = error_of(load_scenario, path)
    assert err.key == "steps"
    assert "(3,000 characters)" in err.message
    assert len(str(err)) < 300


def test_a_duplicate_key_names_both_lines():
    err = error_of(parse_yaml, "a: 1\nb: 2\na: 3\n", "d.yaml")
    assert (err.key, err.message, err.line) == ("a", "duplicate key (first on line 1)", 3)


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (files.MAX_FILE_BYTES + 1))
    err = error_of(read_yaml, path)
    assert err.message.startswith("file too large")


def test_a_yaml_syntax_error_quotes_no_text_of_the_file():
    err = error_of(parse_yaml, "a: !!python/name:os.system secret_word\n", "x.yaml")
    assert err.message == ("not valid YAML: could not determine a constructor for the tag "
                           "(not shown)")


def test_a_yaml_syntax_error_keeps_token_names():
    err = error_of(parse_yaml, "a: [1, 2\n", "x.yaml")
    assert "'<stream end>'" in err.message or "','" in err.message


# ---------------------------------------------------------------- files of the kind expected


def test_a_mapping_with_no_key_of_the_kind_is_refused_without_quoting_it(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("aws_secret_access_key: AKIAEXAMPLESECRET\nregion: eu\n",
                    encoding="utf-8")
    err = error_of(read_yaml, path, SCENARIO_KEYS)
    assert err.message == "not a scenario file (none of its keys is a scenario key)"
    assert "AKIA" not in str(err) and "aws" not in str(err)


def test_a_file_of_the_kind_with_a_misspelt_key_still_gets_its_suggestion(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("nmae: typo\n", encoding="utf-8")
    data, _ = read_yaml(path, SCENARIO_KEYS)
    assert data == {"nmae": "typo"}


def test_an_experiment_file_is_named_as_such(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("password: hunter2\n", encoding="utf-8")
    err = error_of(read_yaml, path, {"name", "design", "factors"}, "experiment")
    assert err.message == "not an experiment file (none of its keys is an experiment key)"


# ---------------------------------------------------------------- paths a file points to


def test_extends_follows_only_yaml_files(tmp_path):
    (tmp_path / "secret.txt").write_text("name: leaked\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: secret.txt\n", encoding="utf-8")
    err = error_of(load_scenario, child)
    assert (err.key, err.message, err.line) == ("extends", "must name a .yaml or .yml file", 2)
    assert "leaked" not in str(err)


def test_extends_to_a_foreign_yaml_file_does_not_show_its_keys(tmp_path):
    (tmp_path / "creds.yml").write_text("token_for_the_bank: 12345\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: creds.yml\n", encoding="utf-8")
    err = error_of(load_scenario, child)
    assert err.source == str(tmp_path / "creds.yml")
    assert "not a scenario file" in err.message
    assert "token" not in str(err) and "12345" not in str(err)


def test_extends_an_absolute_system_file_is_refused_by_its_name(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: /etc/passwd\n", encoding="utf-8")
    err = error_of(load_scenario, child)
    assert err.message == "must name a .yaml or .yml file"


def test_a_path_component_over_255_bytes_is_one_error(tmp_path):
    long = "p" * 300 + ".yaml"
    err = error_of(read_yaml, tmp_path / long)
    assert err.message == "cannot read: File name too long"
    child = tmp_path / "child.yaml"
    child.write_text(f"name: child\nextends: {long}\n", encoding="utf-8")
    err = error_of(load_scenario, child)
    assert err.key == "extends"
    assert err.message.endswith("... (305 characters): File name too long")


def test_follow_names_the_pointing_file_key_and_line(tmp_path):
    base = tmp_path / "e.yaml"
    err = error_of(follow, base, "gone.yaml", "scenario", 3, what="scenario file")
    assert (err.source, err.key, err.message, err.line) == (
        str(base), "scenario", "scenario file not found: gone.yaml", 3)
    (tmp_path / "here.yml").write_text("name: h\n", encoding="utf-8")
    assert follow(base, "here.yml", "scenario") == tmp_path / "here.yml"


def test_load_raw_merges_the_chain_and_remembers_where_each_key_came_from(tmp_path):
    (tmp_path / "p.yaml").write_text("name: p\nthreat:\n  groups: 2\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("extends: p.yaml\nthreat:\n  plots_per_year: 9\n",
                                     encoding="utf-8")
    data, origins = load_raw(tmp_path / "c.yaml", SCENARIO_KEYS)
    assert data == {"name": "p", "threat": {"groups": 2, "plots_per_year": 9}}
    assert origins.locate("threat.groups") == (str(tmp_path / "p.yaml"), 3)
    assert origins.locate("threat.plots_per_year") == (str(tmp_path / "c.yaml"), 3)
    assert origins.locate("world.nations") == (str(tmp_path / "c.yaml"), None)


# ---------------------------------------------------------------- errors and suggestions


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    rate: float = 0.0


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    inner: _Inner | int = 0


def test_first_error_suggests_a_key_of_any_schema_and_drops_union_tags():
    origins = Origins("o.yaml")
    origins.add("o.yaml", {"inner": 1, "inner.rtae": 2})
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"inner": {"rtae": 1}})
    err = first_error(info.value, origins, _Outer)
    assert (err.key, err.line) == ("inner.rtae", 2)
    assert err.message == "unknown key 'rtae'; did you mean 'inner.rate'?"


def test_first_error_refuses_an_infinite_number():
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"inner": {"rate": float("inf")}})
    err = first_error(info.value, Origins("o.yaml"), _Outer)
    assert err.key == "inner.rate"
    assert err.message == "input should be a finite number, got inf"


def test_did_you_mean():
    assert did_you_mean("Borduira", ["Avalon", "Borduria"]) == "; did you mean 'Borduria'?"
    assert did_you_mean("zzz", ["Avalon"]) == ""


# ---------------------------------------------------------------- overrides


def test_overrides_set_dotted_paths_and_list_items():
    data = {"a": {"b": 1}, "items": [{"x": 1}, {"x": 2}]}
    apply_overrides(data, {"a.c": 3, "items.1.x": 5, "new.deep": True})
    assert data == {"a": {"b": 1, "c": 3}, "items": [{"x": 1}, {"x": 5}],
                    "new": {"deep": True}}
    err = error_of(apply_overrides, data, {"items.7.x": 1}, "f.yaml --set")
    assert (err.source, err.key, err.message) == ("f.yaml --set", "items.7", "no such list item")


def test_copied_along_leaves_the_original_untouched():
    data = {"a": {"b": {"c": 1}}, "other": {"d": 2}}
    copy = copied_along(data, ["a.b.c"])
    apply_overrides(copy, {"a.b.c": 9})
    assert data["a"]["b"]["c"] == 1 and copy["a"]["b"]["c"] == 9
    assert copy["other"] is data["other"]


def test_a_set_value_is_read_as_yaml():
    assert parse_assignment("threat.groups=4") == ("threat.groups", 4)
    assert parse_assignment("world.blocs=[a, b]") == ("world.blocs", ["a", "b"])


def test_an_infinite_set_value_is_one_error_naming_the_key():
    value = parse_assignment("world.legal_families.civil=.inf")[1]
    assert value == float("inf")
    err = error_of(Scenario().with_overrides, {"world.legal_families.civil": value},
                   "b.yaml --set")
    assert err.key == "world.legal_families.civil"
    assert "finite number" in err.message


def test_yaml_dump_of_the_shipped_keys_round_trips_through_the_reader():
    text = yaml.safe_dump(Scenario().model_dump(mode="json"), sort_keys=False)
    data, lines = parse_yaml(text, "dump.yaml", SCENARIO_KEYS)
    assert Scenario.model_validate(data) == Scenario()
    assert lines["threat.leak_rate"] > lines["threat"]
