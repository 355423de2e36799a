"""The Procfile, the systemd units and docs/production.md name the same processes."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
CHECKOUT = "/srv/store_monitoring"  # where the units expect the checkout


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(UNITS / f"store-monitoring-{name}.service")
    return parser


def test_the_procfile_starts_web_on_port_then_worker_and_beat() -> None:
    processes = procfile()

    assert list(processes) == ["web", "worker", "beat"]
    assert processes["web"].endswith("--bind 127.0.0.1:$PORT")


def test_each_unit_runs_its_procfile_command_with_the_env_file() -> None:
    for name, command in procfile().items():
        service = unit(name)["Service"]

        expected = f"{CHECKOUT}/{command}".replace("$PORT", "${PORT}")
        assert service["ExecStart"] == expected
        assert service["EnvironmentFile"] == f"{CHECKOUT}/.env"
        assert service["WorkingDirectory"] == CHECKOUT


def test_the_target_starts_every_unit() -> None:
    target = configparser.ConfigParser(interpolation=None)
    target.read(UNITS / "store-monitoring.target")

    wanted = target["Unit"]["Wants"].split()
    assert wanted == [f"store-monitoring-{name}.service" for name in procfile()]


def test_the_production_page_shows_the_procfile_commands() -> None:
    page = (ROOT / "docs" / "production.md").read_text()

    for command in procfile().values():
        assert f"\n{command}\n" in page
