"""Command-line plumbing: application subcommands forward their own arguments."""

import pytest

from bayescal.cli import main


@pytest.mark.parametrize("command", ["srom-stz", "srom-md"])
def test_application_help_is_forwarded(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: srom_" in capsys.readouterr().out


def test_unknown_arguments_rejected_for_other_commands(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path), "--bogus"])
    assert info.value.code == 2
    assert "--bogus" in capsys.readouterr().err


def test_srom_stz_missing_run_dir(tmp_path, capsys):
    assert main(["srom-stz", str(tmp_path / "nothing"), "--quiet"]) == 2
