"""Runs that survive their users: the directory lock, the problem fingerprint, corrupt stores,
model/reference mismatches, signals, pool workers and file modes (issue 25's probes)."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from bayescal.cli import main
from bayescal.errors import (
    CorruptStoreError,
    InputDataError,
    RunInterrupted,
    RunLockedError,
    StudyDefinitionError,
)
from bayescal.io import EvaluationStore, open_evaluations
from bayescal.run_lock import RunLock
from bayescal.study import calibrate, load_study

TOY = Path(__file__).parents[2] / "studies" / "toy_shear_band.py"
OPTIONS = {"n": 16}


@pytest.fixture(scope="module")
def study():
    return load_study(TOY, **OPTIONS)


@pytest.fixture(scope="module")
def stored(study, tmp_path_factory):
    """A small finished run to copy and damage."""
    out = tmp_path_factory.mktemp("stored")
    main(["run", str(TOY), "--out", str(out), "--budget", "3", "--seeds", "1", "--set", "n=16",
          "--quiet", "--no-report", "--no-posterior"])  # fmt: skip
    return out


def _holder(directory: Path) -> subprocess.Popen:
    """A process that holds ``directory``'s lock until killed."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from bayescal.run_lock import RunLock
        RunLock({str(directory)!r}).acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_on_a_busy_directory_is_refused(study, tmp_path, capsys):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(RunLockedError, match=f"in use by pid {holder.pid} on this host"):
            calibrate(study, tmp_path, budget=2, seeds=1)
        code = main(["run", str(TOY), "--out", str(tmp_path), "--seeds", "1", "--quiet"])
        assert code == 2 and f"pid {holder.pid}" in capsys.readouterr().err
        assert not (tmp_path / "evaluations.nc").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: its lock is stale and taken over
    ev = calibrate(study, tmp_path, budget=2, seeds=1)
    assert ev.sizes["eval"] == 2 and not (tmp_path / RunLock.filename).exists()


def test_a_lock_from_another_host_names_it(tmp_path):
    lock = tmp_path / RunLock.filename
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": "2026-12-05"}))
    with pytest.raises(RunLockedError, match=f"host elsewhere.*delete {lock}"):
        RunLock(tmp_path).acquire()
    assert socket.gethostname() != "elsewhere"


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    outer = RunLock(tmp_path)
    with outer, RunLock(tmp_path):
        assert outer.holder()["pid"] == os.getpid()
    assert outer.holder() is None


def test_appends_merge_what_another_writer_stored(stored, tmp_path):
    data = open_evaluations(stored / "evaluations.nc")
    names = tuple(str(n) for n in data["param"].values)
    a = EvaluationStore(tmp_path, names, {})
    b = EvaluationStore(tmp_path, names, {})
    a.append(data.isel(eval=[0]))
    b.append(data.isel(eval=[1, 2]))  # b never read a's row: it is merged, not overwritten
    merged = open_evaluations(tmp_path / "evaluations.nc")
    assert merged.sizes["eval"] == 3
    np.testing.assert_array_equal(merged["theta"].values, data["theta"].values)


def test_a_changed_reference_is_refused_and_run_settings_are_not(study, tmp_path):
    calibrate(study, tmp_path, budget=2, seeds=1)
    # run and posterior settings: the store resumes
    options = dataclasses.replace(study, options={**study.options, "draws": 500})
    assert calibrate(options, tmp_path, budget=3, seeds=1).sizes["eval"] == 3
    other = load_study(TOY, **OPTIONS, tau_peak=2.0)  # a twin of another truth
    with pytest.raises(InputDataError, match="the reference data changed") as info:
        calibrate(other, tmp_path, budget=4, seeds=1)
    assert "parameter" not in str(info.value)
    model = dataclasses.replace(study, forward=lambda p: study.forward(p))
    with pytest.raises(InputDataError, match="the forward model changed"):
        calibrate(model, tmp_path, budget=4, seeds=1)


def test_budget_zero_is_refused_with_the_option_name(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", str(TOY), "--out", str(tmp_path), "--budget", "0"])
    assert info.value.code == 2 and "--budget" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "cannot be read"),
        (lambda p: _rewrite(p, discrepancy=-7.6e284), "discrepancy is -7.6e+284"),
        (lambda p: _rewrite(p, status=42), "unknown status 42"),
        (lambda p: _rewrite(p, theta=1e30), "has theta"),
    ],
    ids=["truncated", "negative-d", "status", "theta"],
)
def test_a_corrupt_store_exits_3_with_one_line(stored, tmp_path, capsys, damage, message):
    out = tmp_path / "run"
    out.mkdir()
    (out / "evaluations.nc").write_bytes((stored / "evaluations.nc").read_bytes())
    damage(out / "evaluations.nc")
    assert main(["posterior", str(out)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "evaluations.nc" in err
    with pytest.raises(CorruptStoreError):
        calibrate(load_study(TOY, **OPTIONS), out, budget=5, seeds=1)


def _rewrite(path: Path, **values) -> None:
    data = open_evaluations(path)
    for name, value in values.items():
        data[name].values[0] = value
    data.to_netcdf(path, engine="h5netcdf")


def test_an_unusable_out_is_found_before_any_forward_run(study, tmp_path, capsys):
    def never(p):
        raise AssertionError("forward model ran")

    target = tmp_path / "file"
    target.write_text("not a directory")
    with pytest.raises(InputDataError, match="not a directory"):
        calibrate(dataclasses.replace(study, forward=never), target, budget=2, seeds=1)
    assert main(["posterior", str(target)]) == 2
    assert "evaluations.nc" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_out_is_refused_before_any_forward_run(study, tmp_path):
    def never(p):
        raise AssertionError("forward model ran")

    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputDataError, match="not writable"):
            calibrate(dataclasses.replace(study, forward=never), locked, budget=2, seeds=1)
    finally:
        locked.chmod(0o700)


def test_a_short_strain_model_is_refused_after_its_first_batch(study, tmp_path, capsys):
    def short(p):  # the toy's frames stop at half the reference's strain range
        out = study.forward(p)
        return out.isel(frame=slice(0, out.sizes["frame"] // 2))

    with pytest.raises(StudyDefinitionError, match=r"strain .* reference's"):
        calibrate(dataclasses.replace(study, forward=short), tmp_path, budget=3, seeds=1)
    assert not (tmp_path / "evaluations.nc").exists()


def test_a_wrong_grid_is_refused(study, tmp_path):
    def coarse(p):
        return study.forward(p).isel(x=slice(0, 8), y=slice(0, 8))

    with pytest.raises(StudyDefinitionError, match=r"8 x 8 \(y, x\) grid.*16 x 16"):
        calibrate(dataclasses.replace(study, forward=coarse), tmp_path, budget=2, seeds=1)


def test_sigint_stops_after_the_batch_is_saved(study, tmp_path):
    calls = []

    def interrupted(p):
        calls.append(len(p["width"]))
        if len(calls) == 2:  # during the second batch
            os.kill(os.getpid(), signal.SIGINT)
        return study.forward(p)

    with pytest.raises(RunInterrupted, match="2 evaluations are saved"):
        calibrate(dataclasses.replace(study, forward=interrupted), tmp_path, budget=6, seeds=1)
    assert open_evaluations(tmp_path / "evaluations.nc").sizes["eval"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not (tmp_path / RunLock.filename).exists()


def test_files_take_the_umask_and_no_temporary_is_left(study, tmp_path):
    stale = tmp_path / ".evaluations.nc.abc123.tmp"
    stale.write_text("left by a killed write")
    old = os.umask(0o027)
    try:
        calibrate(study, tmp_path, budget=2, seeds=1)
    finally:
        os.umask(old)
    assert (tmp_path / "evaluations.nc").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluations.nc"]


def test_pool_workers_die_with_a_killed_parent(tmp_path):
    """SIGKILL of the process that made the pool: its workers exit (they watch the parent)."""
    code = textwrap.dedent(
        """
        import os, time
        from bayescal.executors import make_executor
        pool = make_executor(workers=2)
        pids = {pool.submit(os.getpid).result() for _ in range(8)}
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers and all(psutil.pid_exists(p) for p in workers)
    children = psutil.Process(parent.pid).children(recursive=True)
    parent.kill()
    parent.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.pid for p in alive]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_a_signalled_cli_run_leaves_no_process(tmp_path, sig):
    """``bayescal run --workers 2`` signalled mid-run: no worker or tracker survives it.

    SIGTERM saves the batch and exits 130 with one line; both resume to the full budget.
    """
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "bayescal.cli", "run", str(TOY), "--out", str(out),
           "--budget", "14", "--seeds", "1", "--set", "n=16", "--workers", "2", "--quiet",
           "--no-report", "--no-posterior"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while time.time() < deadline and not (out / "evaluations.nc").exists():
        time.sleep(0.1)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "the pool should have started"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [p.cmdline() for p in alive]
    if sig == signal.SIGTERM:
        assert proc.returncode == 130
        lines = err.strip().splitlines()
        assert "evaluations are saved" in lines[-1] and "Traceback" not in err
    assert subprocess.run(cmd, check=False).returncode == 0
    assert open_evaluations(out / "evaluations.nc").sizes["eval"] == 14
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_outside_a_run_is_one_line(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("bayescal.cli._report", interrupted)
    assert main(["report", str(tmp_path)]) == 130
    assert capsys.readouterr().err.count("\n") == 1


def test_posterior_refuses_a_study_file_that_changed_since_the_run(stored, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    data = open_evaluations(stored / "evaluations.nc")
    data.attrs["study_options"] = repr({"n": 16, "tau_peak": 2.0})  # as if build() changed
    data.to_netcdf(out / "evaluations.nc", engine="h5netcdf")
    assert main(["posterior", str(out)]) == 2
    assert "the reference data changed" in capsys.readouterr().err
