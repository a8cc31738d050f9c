"""Command line: ``bayescal run STUDY.py --out DIR`` and ``bayescal report DIR``."""

from __future__ import annotations

import argparse
import ast
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bayescal.errors import BayescalError

__all__ = ["main"]

logger = logging.getLogger("bayescal")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayescal",
        description="Bayesian calibration of continuum models against atomistic data.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a study's EGO calibration (resumes an existing DIR)")
    run.add_argument("study", type=Path, help="study file defining build(**options) -> Study")
    run.add_argument("--out", type=Path, required=True, help="output directory")
    run.add_argument("--budget", type=int, help="forward evaluations per seed")
    run.add_argument("--seeds", type=int, help="number of independent EGO runs")
    run.add_argument("--batch", type=int, help="points per EGO round (qLogEI when > 1)")
    run.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="option passed to the study's build(); repeatable",
    )
    run.add_argument("--workers", type=int, help="local worker processes for forward runs")
    run.add_argument("--scheduler", help="Dask scheduler address, or 'local'")
    run.add_argument("--timeout", type=float, help="seconds to wait for a chunk of evaluations")
    run.add_argument("--no-report", action="store_true", help="skip the plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    report = sub.add_parser("report", help="(re)write DIR/report from DIR/evaluations.nc")
    report.add_argument("out", type=Path, help="output directory of a run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bayescal`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "run":
            return _run(args)
        return _report(args)
    except BayescalError as exc:
        print(f"bayescal: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from bayescal.executors import make_executor
    from bayescal.study import StudySpec, calibrate, load_study, parse_option
    from bayescal.study.report import write_report

    options = dict(parse_option(text) for text in args.options)
    study = load_study(args.study, **options)
    spec = StudySpec(str(args.study.resolve()), tuple(sorted(options.items())))
    executor = make_executor(workers=args.workers, scheduler=args.scheduler)
    seeds = args.seeds or study.seeds
    budget = args.budget or study.budget
    print(
        f"study {study.name}: {study.dim} parameters ({', '.join(study.names)}), "
        f"{seeds} seed(s) x {budget} evaluations -> {args.out}"
    )
    start = time.perf_counter()
    try:
        evaluations = calibrate(
            study,
            args.out,
            budget=budget,
            seeds=seeds,
            batch_size=args.batch,
            executor=executor,
            spec=spec,
            timeout=args.timeout,
            progress=not args.quiet,
        )
    finally:
        executor.shutdown(wait=False)
        client = getattr(executor, "bayescal_client", None)
        if client is not None:
            client.close()
    print(
        f"{evaluations.sizes['eval']} evaluations in {time.perf_counter() - start:.1f} s, "
        f"stored in {args.out / 'evaluations.nc'}"
    )
    if args.no_report:
        from bayescal.summary import best_per_seed, format_table

        print(format_table(best_per_seed(evaluations), truth=study.truth))
    else:
        print(write_report(study, evaluations, args.out))
        print(f"report: {args.out / 'report'}")
    return 0


def _report(args: argparse.Namespace) -> int:
    import xarray as xr

    from bayescal.errors import InputDataError
    from bayescal.study import load_study
    from bayescal.study.report import write_report

    path = args.out / "evaluations.nc"
    if not path.exists():
        raise InputDataError(f"no evaluations found: {path} does not exist.")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        evaluations = ds.load()
    study_path = evaluations.attrs.get("study_path")
    if not study_path:
        raise InputDataError(f"{path} does not record its study file; rerun with bayescal run.")
    options = ast.literal_eval(evaluations.attrs.get("study_options", "{}"))
    study = load_study(study_path, **options)
    print(write_report(study, evaluations, args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
