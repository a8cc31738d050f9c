"""Command line: ``bayescal run STUDY.py --out DIR``, ``bayescal posterior|report|outputs DIR``.

Exit status:

- 0: done;
- 1: the posterior's convergence diagnostics failed their thresholds (R-hat, bulk ESS,
  divergences; the results are still written);
- 2: bad input (a usage error, an invalid option or study, a forward model that fails or does
  not fit the reference) or a refused resume (the directory holds another problem or is in use);
- 3: a corrupt store (``evaluations.nc`` cannot be read or holds impossible values);
- 130: interrupted (SIGINT or SIGTERM; a run saves its current batch first).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bayescal.errors import BayescalError, CorruptStoreError, InputDataError, RunInterrupted

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
    run.add_argument("--budget", type=_positive(int), help="forward evaluations per seed")
    run.add_argument("--seeds", type=_positive(int), help="number of independent EGO runs")
    run.add_argument("--batch", type=_positive(int), help="points per EGO round (qLogEI when > 1)")
    run.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="option passed to the study's build(); repeatable",
    )
    run.add_argument(
        "--workers", type=_positive(int), help="local worker processes for forward runs"
    )
    run.add_argument("--scheduler", help="Dask scheduler address, or 'local'")
    run.add_argument(
        "--timeout", type=_positive(float), help="seconds to wait for a chunk of evaluations"
    )
    run.add_argument("--no-report", action="store_true", help="skip the plots")
    run.add_argument(
        "--no-posterior", action="store_true", help="stop after EGO (no DIR/posterior.nc)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    post = sub.add_parser("posterior", help="(re)run only the posterior step on DIR/evaluations.nc")
    post.add_argument("out", type=Path, help="output directory of a run")
    post.add_argument("--seed", type=int, help="root seed of emulators and chains")
    post.add_argument("--quiet", action="store_true", help="no progress bar")
    post.add_argument(
        "--per-seed",
        action="store_true",
        help="also sample one posterior per EGO seed from its own evaluations (a diagnostic "
        "of how robust the search was; residual likelihood)",
    )

    outputs = sub.add_parser(
        "outputs",
        help="rerun the forward model where DIR/evaluations.nc lacks the kept model outputs",
    )
    outputs.add_argument("out", type=Path, help="output directory of a run")

    report = sub.add_parser("report", help="(re)write DIR/report from DIR/evaluations.nc")
    report.add_argument("out", type=Path, help="output directory of a run")

    # model-form uncertainty applications: their own options follow (see --help of each)
    for name, text in _APPLICATIONS.items():
        sub.add_parser(name, add_help=False, help=text)
    return parser


#: Subcommands that forward their arguments to ``main(argv)`` of a module of bayescal.apps.
_APPLICATIONS = {
    "srom-stz": "SROM strain-field band of STZ vs MD from a calibration DIR "
    "(bayescal.apps.srom_stz)",
    "srom-md": "SROM of MD with several interatomic potentials (bayescal.apps.srom_md)",
    "srom-beam": "SROM of a Cu nanoplate's tip deflection across potentials "
    "(bayescal.apps.srom_beam)",
    "md-realizations": "make the 2D LJ glass MD realizations again (bayescal.apps.md_realizations)",
}


def _run_application(command: str, argv: list[str]) -> int:
    import importlib

    module = importlib.import_module(f"bayescal.apps.{command.replace('-', '_')}")
    return int(module.main(argv))


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` > 0 (the error names the value)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            name = "an int" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {name}; got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be > 0 and finite; got {text}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bayescal`` command; returns the exit status."""
    # idle OpenMP threads sleep rather than spin, so the STZ plastic kernel's Python threads
    # get the cores between torch's parallel regions; must be set before torch is imported
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # the command line only writes figures to files (a notebook keeps its own backend)
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in _APPLICATIONS:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM (what batch schedulers send) takes the same path as Ctrl-C
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command == "run":
            return _run(args)
        if args.command in _APPLICATIONS:
            return _run_application(args.command, rest)
        if args.command == "outputs":
            return _outputs(args.out)
        if args.command == "posterior":
            study, evaluations = _load_run(args.out)
            if args.per_seed and study.run.posterior.likelihood != "residual":
                raise InputDataError(
                    f"--per-seed needs the residual likelihood; the study {study.name!r} uses "
                    f"{study.run.posterior.likelihood!r}."
                )
            status = _posterior(study, evaluations, args.out, seed=args.seed, quiet=args.quiet)
            if args.per_seed:
                _per_seed(study, evaluations, args.out, seed=args.seed)
            return status
        return _report(args)
    except RunInterrupted as exc:
        print(f"bayescal: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(
            "bayescal: interrupted; stored evaluations are kept, rerun to resume.", file=sys.stderr
        )
        return 130
    except CorruptStoreError as exc:
        print(f"bayescal: corrupt store: {exc}", file=sys.stderr)
        return 3
    except BayescalError as exc:
        print(f"bayescal: error: {exc}", file=sys.stderr)
        return 2


def _load_run(out: Path):
    """The study and evaluations of a run directory (:func:`bayescal.study.load.load_run`)."""
    from bayescal.study.load import load_run as load

    return load(out)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    from bayescal.executors import make_executor
    from bayescal.study import StudySpec, calibrate, load_study, parse_option
    from bayescal.study.report import write_report

    options = dict(parse_option(text) for text in args.options)
    study = load_study(args.study, **options)
    spec = StudySpec(str(args.study.resolve()), tuple(sorted(options.items())))
    executor = make_executor(workers=args.workers, scheduler=args.scheduler)
    seeds = study.run.seeds if args.seeds is None else args.seeds
    budget = study.run.budget if args.budget is None else args.budget
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

        print(format_table(best_per_seed(evaluations), truth=study.truth, ranges=study.ranges))
    else:
        print(write_report(study, evaluations, args.out))
        print(f"report: {args.out / 'report'}")
    if args.no_posterior:
        return 0
    return _posterior(study, evaluations, args.out, quiet=args.quiet)


def _posterior(study, evaluations, out: Path, *, seed: int | None = None, quiet: bool) -> int:
    from bayescal.study import posterior_options, run_posterior

    options = posterior_options(study, seed=seed, progressbar=not quiet)
    nuts = options.sampling
    print(
        f"posterior: {options.pooling} pooling, {nuts.chains} chains x {nuts.draws} draws "
        f"(+{nuts.tune} tuning) on {nuts.n_cores} core(s), {nuts.nuts_sampler} NUTS"
    )
    result = run_posterior(study, evaluations, out, options=options, progress=not quiet)
    diag = result.diagnostics
    print(result.table)
    print(
        f"posterior in {result.wall_s:.1f} s: max R-hat {diag.max_rhat:.4f}, "
        f"min bulk ESS {diag.min_ess_bulk:.0f}, {diag.divergences} divergences -> {result.path}"
    )
    if diag.passed:
        return 0
    message = "posterior diagnostics failed: " + "; ".join(diag.failures)
    print(f"bayescal: warning: {message}", file=sys.stderr)
    return 1


def _per_seed(study, evaluations, out: Path, *, seed: int | None) -> None:
    """Print and write (``DIR/report/per_seed.md``) the per-EGO-seed posterior intervals."""
    from bayescal.infer.residual_posterior import per_seed_hdi
    from bayescal.study import posterior_options

    options = posterior_options(study, seed=seed, progressbar=False)
    table = per_seed_hdi(evaluations, study.discrepancy, study.reference, options=options)
    names = [str(n) for n in table["param"].values]
    lines = [
        f"# Posterior per EGO seed ({100 * table.attrs['hdi_prob']:.0f} % HDI, own evaluations)",
        "",
        "| seed | " + " | ".join(names) + " | max R-hat | min ESS |",
        "|---" * (len(names) + 3) + "|",
    ]
    for s in table["seed"].values:
        row = table.sel(seed=s)
        bounds = zip(row["lower"].values, row["upper"].values, strict=True)
        cells = [f"[{lo:.4g}, {hi:.4g}]" for lo, hi in bounds]
        lines.append(
            f"| {int(s)} | " + " | ".join(cells) + f" | {float(row['max_rhat']):.3f} | "
            f"{float(row['min_ess_bulk']):.0f} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "report").mkdir(exist_ok=True)
    (out / "report" / "per_seed.md").write_text(text)
    print(text)


def _outputs(out: Path) -> int:
    from bayescal.io import write_netcdf_atomic
    from bayescal.run_lock import RunLock
    from bayescal.study.outputs import fill_compared_outputs, missing_outputs

    with RunLock(out):
        study, evaluations = _load_run(out)
        rows = missing_outputs(study, evaluations)
        print(
            f"{len(rows)} of {evaluations.sizes['eval']} evaluations lack kept outputs; rerunning"
        )
        if len(rows):
            filled = fill_compared_outputs(study, evaluations)
            write_netcdf_atomic(filled, out / "evaluations.nc")
    still = missing_outputs(study, _load_run(out)[1])
    print(f"done: {len(rows) - len(still)} filled, {len(still)} failed when rerun")
    return 0


def _report(args: argparse.Namespace) -> int:
    from bayescal.study.report import write_report

    study, evaluations = _load_run(args.out)
    print(write_report(study, evaluations, args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
