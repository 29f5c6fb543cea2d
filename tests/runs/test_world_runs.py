"""The ``ctsim`` command on dataset worlds, as a user meets it: a run of the real world
writes its havens table and world figures, a small one the plain trust network, and a bad
dataset file is one ``error:`` line with nothing written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

from ctsim.analysis import figures
from ctsim.cli import cli
from tests.conftest import SCENARIOS
from tests.conftest import dataset_world as dataset
from tests.core.test_world import BAD
from tests.test_data import COUNTRIES


def cli_error_line(result: Result) -> str:
    """Exit 2, no output, and one ``error:`` line on stderr (as tests/test_cli.py checks)."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("case", ["unknown_membership", "countries_without_dataset",
                                  "unknown_country", "include_unknown_name"])
def test_validate_of_a_bad_dataset_file_is_one_error_line_and_status_two(tmp_path, case):
    data, key, _ = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", **data}, sort_keys=False), encoding="utf-8")
    line = cli_error_line(CliRunner().invoke(cli, ["validate", str(path)]))
    assert line.startswith(f"error: {path}: {key}: ")


def test_run_of_a_bad_dataset_file_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nworld:\n  dataset: world\n  countries: {Atlantis: {}}\n")
    out = tmp_path / "out"
    line = cli_error_line(CliRunner().invoke(cli, ["run", str(path), "--steps", "2", "-q",
                                                   "--out", str(out)]))
    assert "world.countries.Atlantis" in line
    assert "(line 4)" in line
    assert not out.exists()


def test_ctsim_run_of_the_world_writes_havens_and_world_figures(tmp_path, monkeypatch):
    calls = []
    world_network = figures.world_trust_network

    def spy(model, scenario, *args, **kwargs):
        calls.append(model.world.n)
        return world_network(model, scenario, *args, **kwargs)

    monkeypatch.setattr(figures, "world_trust_network", spy)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(SCENARIOS / "world" / "world.yaml"),
                                      "--replications", "2", "--steps", "20",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert calls == [194]
    havens = pd.read_csv(out / "havens.csv", keep_default_na=False)
    assert len(havens) == 194
    assert set(havens["iso3"]) == {c.iso3 for c in COUNTRIES}
    assert havens["share"].astype(float).sum() == pytest.approx(1.0, abs=1e-4)
    assert (np.diff(havens["share"].astype(float)) <= 0).all()
    for name in ("haven_ranking", "trust_network"):
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_ctsim_run_of_a_small_dataset_world_draws_the_plain_trust_network(tmp_path,
                                                                         monkeypatch):
    calls = []
    monkeypatch.setattr(figures, "world_trust_network", lambda *a, **k: calls.append(a))
    path = tmp_path / "africa.yaml"
    path.write_text(yaml.safe_dump(dataset(include={"region": "africa"})))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "--replications", "1", "--steps", "5",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert calls == []  # 54 nations: at most 60 keeps the nation-level network
    assert len(pd.read_csv(out / "havens.csv")) == 54
    assert (out / "figures" / "trust_network.png").is_file()
