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


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--budget", "0"),
        ("--seeds", "-1"),
        ("--batch", "0"),
        ("--workers", "-3"),
        ("--timeout", "0"),
        ("--timeout", "nan"),
        ("--budget", "abc"),
    ],
)
def test_run_values_are_validated_where_they_enter(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "studies/toy_shear_band.py", "--out", str(tmp_path), option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and value in err
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written
