"""Model-form uncertainty of STZ plasticity against CuZr MD, with a Stiefel SROM of strain fields.

The continuum application of Zhang & Guilleminot (CMAME 403, 115702, 2023) on the calibration
of ``studies/cuzr_stz.py``:

1. the best parameter set of each calibration seed (:func:`bayescal.srom.best_parameters`) is a
   candidate model; near-identical sets are merged and, with ``--top N``, only the N best
   (lowest discrepancy) are kept;
2. the STZ model runs at all candidates in one batch (:func:`bayescal.srom.stz_strain_fields`,
   engineering strain ``2 exy`` at the MD cell centres);
3. the SROM of the POD bases of the MD and model strain fields
   (:func:`bayescal.srom.strain_field_srom`) gives a band of the best candidate's field, and
   its coverage of the MD field.

Run after a calibration::

    bayescal run studies/cuzr_stz.py --out runs/cuzr
    bayescal srom-stz runs/cuzr                  # writes runs/cuzr/srom
    bayescal srom-stz runs/cuzr --top 3 --n-fixed 2 --samples 400

Writes ``OUT/srom_stz.nc`` (the :func:`~bayescal.srom.strain_field_srom` result with the
candidates' ``theta(candidate, param)``, provenance and options in attrs), ``OUT/srom_fields.png``
and ``OUT/srom_coverage.png``, and prints a summary.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescal.datasets import load_cuzr
from bayescal.errors import BayescalError, InputDataError, InputDataWarning
from bayescal.io import provenance_attrs, write_netcdf_atomic
from bayescal.plots import plot_srom_coverage, plot_srom_fields
from bayescal.srom import best_parameters, strain_field_srom, stz_strain_fields
from bayescal.summary import best_per_seed
from models import stz

__all__ = [
    "COVERAGE_STRAINS",
    "DEFAULT_STEPS_PER_FRAME",
    "coverage_at",
    "main",
    "run",
    "select_candidates",
    "summary",
]

logger = logging.getLogger("bayescal.apps.srom_stz")

#: Applied strains at which the summary reports the band's coverage.
COVERAGE_STRAINS = (0.05, 0.1, 0.2, 0.5)
#: Default quasi-static steps per frame when the calibration's options do not say.
DEFAULT_STEPS_PER_FRAME = 60


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srom_stz",
        description="SROM of MD and STZ strain-field bases: model-form band of the calibration.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="calibration dir (evaluations.nc)")
    p.add_argument("--out", type=Path, help="output directory (default RUN_DIR/srom)")
    p.add_argument("--samples", type=int, default=200, help="SROM realizations")
    p.add_argument("--n-fixed", type=int, default=0, help="leading modes held at the centre")
    p.add_argument("--tol", type=float, default=1e-3, help="discarded pooled POD energy")
    p.add_argument("--seed", type=int, default=0, help="seed of the SROM draws")
    p.add_argument("--top", type=int, help="use the N best seeds' sets (default all seeds)")
    p.add_argument(
        "--steps-per-frame",
        type=int,
        help=f"STZ steps per frame (default: the calibration's, else {DEFAULT_STEPS_PER_FRAME})",
    )
    p.add_argument("--workers", type=int, default=1, help="threads of the STZ batch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _as_int(name: str, value: Any, lower: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lower:
        raise InputDataError(f"{name} must be an int >= {lower}; got {value!r}.")
    return int(value)


def _load_evaluations(run_dir: Path) -> xr.Dataset:
    path = run_dir / "evaluations.nc"
    if not path.is_file():
        raise InputDataError(
            f"run_dir must hold evaluations.nc of a calibration; {path} does not exist. "
            "Run `bayescal run studies/cuzr_stz.py --out RUN_DIR` first."
        )
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _unit_coordinates(evaluations: xr.Dataset, index: np.ndarray) -> np.ndarray:
    """Parameters of evaluations ``index`` scaled to the unit cube of the calibration."""
    if "unit" in evaluations:
        return evaluations["unit"].values[index]
    theta = evaluations["theta"].values
    lo = np.asarray(evaluations.attrs.get("param_lower", np.nanmin(theta, axis=0)), float)
    hi = np.asarray(evaluations.attrs.get("param_upper", np.nanmax(theta, axis=0)), float)
    return (theta[index] - lo) / np.where(hi > lo, hi - lo, 1.0)


def select_candidates(
    evaluations: xr.Dataset, *, top: int | None = None, dedupe_tol: float = 1e-3
) -> xr.Dataset:
    """Best parameter set of each seed, best first, near-identical sets merged.

    Parameters
    ----------
    evaluations : xarray.Dataset
        Contents of ``evaluations.nc`` (see :func:`bayescal.summary.best_per_seed`).
    top : int, optional
        Keep the ``top`` best distinct sets (lowest discrepancy); default all.
    dedupe_tol : float, default 1e-3
        Two sets closer than this in the max-norm of the calibration's unit cube are the same;
        the one of lower discrepancy is kept.

    Returns
    -------
    xarray.Dataset
        Dim ``model`` (best first) and ``param``: ``theta``, ``seed``, ``discrepancy``,
        ``eval``; attr ``merged`` lists the seeds dropped as duplicates.

    Raises
    ------
    InputDataError
        No seed has a successful evaluation, or ``top`` is not an int >= 1.
    """
    if top is not None:
        top = _as_int("top", top, 1)
    params = best_parameters(evaluations)  # seeds without a success are skipped
    if not params:
        raise InputDataError(
            "evaluations hold no successful evaluation (status OK) in any seed; nothing to use "
            "as a candidate model."
        )
    best = best_per_seed(evaluations)  # the same seeds' discrepancy and evaluation index
    best = best.isel(seed=np.flatnonzero(np.isfinite(best["theta"].values).all(axis=1)))
    order = np.argsort(best["discrepancy"].values, kind="stable")
    unit = _unit_coordinates(evaluations, best["eval"].values[order])
    keep: list[int] = []
    merged: list[int] = []
    for k, i in enumerate(order):
        if any(np.max(np.abs(unit[k] - unit[j])) < dedupe_tol for j in keep):
            merged.append(int(best["seed"].values[i]))
        else:
            keep.append(k)
    chosen = order[keep[:top]]
    names = list(params[0])
    sel = best.isel(seed=chosen)
    return xr.Dataset(
        {
            "theta": (("model", "param"), [[params[i][n] for n in names] for i in chosen]),
            "seed": (("model",), sel["seed"].values.astype(int)),
            "discrepancy": (("model",), sel["discrepancy"].values),
            "eval": (("model",), sel["eval"].values.astype(int)),
        },
        coords={"model": np.arange(len(chosen)), "param": names},
        attrs={"merged": merged},
    )


def _steps_per_frame(evaluations: xr.Dataset) -> int:
    try:
        options = ast.literal_eval(str(evaluations.attrs.get("study_options", "{}")))
        return int(options.get("steps_per_frame", DEFAULT_STEPS_PER_FRAME))
    except (ValueError, SyntaxError, TypeError, AttributeError):
        return DEFAULT_STEPS_PER_FRAME


class _Stages:
    """A tqdm bar over the pipeline stages (the STZ batch is a single call); silent if off."""

    def __init__(self, names: Sequence[str], *, progress: bool) -> None:
        self._bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(names), desc="srom_stz", unit="stage")

    def begin(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def coverage_at(result: xr.Dataset, strains: Sequence[float] = COVERAGE_STRAINS) -> list[float]:
    """Band coverage of the MD cells at the frames nearest to applied ``strains``.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`bayescal.srom.strain_field_srom` result (``strain`` and ``coverage`` per
        frame).
    strains : sequence of float, default :data:`COVERAGE_STRAINS`
        Applied strains.

    Returns
    -------
    list of float
        Fraction of MD cells inside the band at each strain's nearest frame.
    """
    strain = result["strain"].values
    return [float(result["coverage"].values[int(np.abs(strain - s).argmin())]) for s in strains]


def run(
    run_dir: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    samples: int = 200,
    n_fixed: int = 0,
    tol: float = 1e-3,
    seed: int = 0,
    top: int | None = None,
    steps_per_frame: int | None = None,
    workers: int = 1,
    dedupe_tol: float = 1e-3,
    progress: bool = True,
) -> xr.Dataset:
    """Run the SROM study on a calibration directory and write its results.

    Parameters
    ----------
    run_dir : path
        Directory with ``evaluations.nc`` of ``bayescal run studies/cuzr_stz.py``.
    out : path, optional
        Output directory; default ``run_dir/srom``.
    samples : int, default 200
        SROM realizations.
    n_fixed : int, default 0
        Leading modes kept at the centre (frequency split).
    tol : float, default 1e-3
        Discarded-energy fraction of the pooled POD, sets the rank.
    seed : int, default 0
        Seed of the SROM draws.
    top : int, optional
        Use the ``top`` best distinct seeds' sets (:func:`select_candidates`); default all.
    steps_per_frame : int, optional
        STZ quasi-static steps per frame; default the calibration's ``steps_per_frame`` option,
        else 60.
    workers : int, default 1
        Threads of the STZ batch.
    dedupe_tol : float, default 1e-3
        Unit-cube distance below which two parameter sets count as one.
    progress : bool, default True
        Show a tqdm bar over the stages.

    Returns
    -------
    xarray.Dataset
        The :func:`bayescal.srom.strain_field_srom` result (``candidate`` = ``md``,
        ``model_0`` (best, the nominal field), ...) with ``theta(candidate, param)``,
        ``candidate_seed(candidate)`` and ``candidate_discrepancy(candidate)`` (NaN / -1 for
        ``md``), ``coverage_at_strain(applied_strain)`` (at the frames nearest to
        :data:`COVERAGE_STRAINS`), and provenance attrs (``run_dir``, ``parameters`` and
        ``options`` as JSON, ``seed``, versions).

    Raises
    ------
    InputDataError
        A missing ``evaluations.nc``, no successful evaluation, bad options.
    ForwardModelError
        An STZ run failed.
    """
    run_dir = Path(run_dir)
    out_dir = run_dir / "srom" if out is None else Path(out)
    samples = _as_int("samples", samples, 1)
    evaluations = _load_evaluations(run_dir)
    name = evaluations.attrs.get("study_name")
    if name is not None and name != "cuzr_stz":
        warnings.warn(
            f"{run_dir} holds a calibration of study {name!r}, not 'cuzr_stz'; its parameters "
            "are compared with the CuZr MD all the same.",
            InputDataWarning,
            stacklevel=2,
        )
    cands = select_candidates(evaluations, top=top, dedupe_tol=dedupe_tol)
    names = [str(p) for p in cands["param"].values]
    params = [dict(zip(names, map(float, row), strict=True)) for row in cands["theta"].values]
    spf = _steps_per_frame(evaluations) if steps_per_frame is None else steps_per_frame
    spf = _as_int("steps_per_frame", spf, 1)
    options = {
        "samples": samples,
        "n_fixed": n_fixed,
        "tol": tol,
        "seed": seed,
        "top": top,
        "steps_per_frame": spf,
        "workers": workers,
        "dedupe_tol": dedupe_tol,
    }
    reference = load_cuzr()
    stages = _Stages(("stz", "srom", "write"), progress=progress)
    try:
        stages.begin(f"STZ at {len(params)} set(s), {spf} steps/frame")
        fields = stz_strain_fields(
            params,
            simulate=stz.simulate,
            reference=reference,
            steps_per_frame=spf,
            workers=workers,
        )
        stages.done()
        stages.begin(f"SROM, {samples} samples")
        result = strain_field_srom(
            reference, fields, tol=tol, n_fixed=n_fixed, n_samples=samples, rng=seed
        )
        stages.done()
        stages.begin("write")
        result = _annotate(result, cands)
        result.attrs |= provenance_attrs(
            run_dir=str(run_dir.resolve()),
            out_dir=str(out_dir.resolve()),
            calibration_study=str(name),
            calibration_fingerprint=str(evaluations.attrs.get("study_fingerprint", "")),
            parameters=json.dumps(params),
            merged_seeds=json.dumps(cands.attrs["merged"]),
            options=json.dumps(options),
            seed=seed,
        )
        _write(result, out_dir)
        stages.done()
    finally:
        stages.close()
    return result


def _annotate(result: xr.Dataset, cands: xr.Dataset) -> xr.Dataset:
    n_param = cands.sizes["param"]
    theta = np.vstack([np.full((1, n_param), np.nan), cands["theta"].values])
    cov = coverage_at(result)
    return result.assign(
        theta=(("candidate", "param"), theta, {"long_name": "STZ parameters (NaN: MD)"}),
        candidate_seed=(("candidate",), np.concatenate([[-1], cands["seed"].values])),
        candidate_discrepancy=(
            ("candidate",),
            np.concatenate([[np.nan], cands["discrepancy"].values]),
            {"long_name": "calibration discrepancy of the set"},
        ),
        coverage_at_strain=(("applied_strain",), cov, {"units": "1"}),
    ).assign_coords(
        param=cands["param"].values,
        applied_strain=("applied_strain", list(COVERAGE_STRAINS), {"units": "1"}),
    )


def _write(result: xr.Dataset, out_dir: Path) -> None:
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    write_netcdf_atomic(result, out_dir / "srom_stz.nc")
    for fname, fig in (
        ("srom_fields.png", plot_srom_fields(result, strains=COVERAGE_STRAINS)),
        ("srom_coverage.png", plot_srom_coverage(result)),
    ):
        fig.savefig(out_dir / fname, dpi=130)
        plt.close(fig)
    logger.info("wrote %s", out_dir)


def summary(result: xr.Dataset) -> str:
    """Plain-text summary: candidates, rank, dispersion and coverage of the MD field.

    Parameters
    ----------
    result : xarray.Dataset
        The output of :func:`run`.

    Returns
    -------
    str
        A table of the candidate sets, then the SROM settings and the band's coverage.
    """
    names = [str(p) for p in result["param"].values]
    rows = [["candidate", "seed", *names, "d"]]
    for i, cand in enumerate(result["candidate"].values):
        if str(cand) == "md":
            continue
        rows.append(
            [
                str(cand) + (" (nominal)" if i == 1 else ""),
                str(int(result["candidate_seed"].values[i])),
                *(f"{v:.5g}" for v in result["theta"].values[i]),
                f"{result['candidate_discrepancy'].values[i]:.4f}",
            ]
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    a = result.attrs
    merged = json.loads(a.get("merged_seeds", "[]"))
    if merged:
        lines.append(f"seeds merged as near-duplicates: {', '.join(map(str, merged))}")
    q = a.get("quantiles", [0.05, 0.95])
    lines.append(
        f"SROM: rank {a['rank']}, dispersion {a['dispersion']:.4g}, concentration "
        f"{a['concentration']:.3g}, n_fixed {a['n_fixed']}, {a['n_samples']} samples"
    )
    lines.append(
        f"coverage of MD cells by the {100 * q[0]:g}-{100 * q[1]:g} % band: "
        f"{a['coverage']:.1%} overall; "
        + ", ".join(
            f"{s:g}: {c:.1%}"
            for s, c in zip(
                result["applied_strain"].values, result["coverage_at_strain"].values, strict=True
            )
        )
        + " (at applied strain)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (``bayescal srom-stz``): run on ``RUN_DIR``, write, print a summary.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the subcommand (default ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        Exit status: 0 done, 2 bad input (:class:`~bayescal.errors.BayescalError`).
    """
    args = _parser().parse_args(argv)
    out = args.run_dir / "srom" if args.out is None else args.out
    try:
        result = run(
            args.run_dir,
            out=out,
            samples=args.samples,
            n_fixed=args.n_fixed,
            tol=args.tol,
            seed=args.seed,
            top=args.top,
            steps_per_frame=args.steps_per_frame,
            workers=args.workers,
            progress=not args.quiet,
        )
    except BayescalError as exc:
        print(f"srom_stz: error: {exc}", file=sys.stderr)
        return 2
    print(summary(result))
    print(f"wrote {out / 'srom_stz.nc'}, {out / 'srom_fields.png'}, {out / 'srom_coverage.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
