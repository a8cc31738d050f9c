"""Benchmark: EGO settings compared on a GP proxy of a study's discrepancy, many seeds at once.

A search setting has to be judged over many seeds (a setting that strands one seed in eight
needs dozens of seeds to show), and on the STZ studies a seed of 100 evaluations costs minutes.
This script fits a GP of ``log d`` to the evaluations of a run (``DIR/evaluations.nc``: several
seeds cover the basins and the space between them) and runs EGO on the GP's mean instead of the
forward model, which costs seconds per seed. The study's own EGO options drive each search,
rebuilt with the run's recorded study options and the ``--variant`` ones on top.

It prints, per setting, every seed's best proxy ``d`` and where it ended, the number of seeds
within 0.02 of the best of all the searches (the issue-23 criterion) and the number that ended in
another basin (more than 0.05 above). First it checks the proxy against the run itself: the
run's own settings and seeds on the proxy, next to what each seed reached with the forward model.

Run (after ``bayescal run studies/cuzr_stz.py --out runs/cuzr8 --seeds 8 --budget 100
--no-posterior``, here with the settings before issue 23's change): ``.venv/bin/python
benchmarks/ego_proxy.py runs/cuzr8 --seeds 16 --run-settings n_init=20,local_from=24 --variant
n_init=20,local_from=24``.
"""

from __future__ import annotations

import argparse
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from bayescal.optimize import EGO, EvalStatus
from bayescal.optimize.surrogate import fit_gp
from bayescal.study.calibrate import seed_sequences
from bayescal.study.load import StudySpec, load_run, parse_option

_PROXY: dict = {}


def _variant(text: str) -> dict:
    """``name=value,name=value`` as study options (``{}`` for ``defaults``)."""
    if text == "defaults":
        return {}
    return dict(parse_option(part) for part in text.split(","))


def _init(unit: np.ndarray, log_d: np.ndarray) -> None:
    torch.set_num_threads(1)
    logging.getLogger("bayescal").setLevel(logging.ERROR)
    bounds = np.array([np.zeros(unit.shape[1]), np.ones(unit.shape[1])])
    _PROXY["gp"] = fit_gp(unit, -log_d, input_bounds=bounds, seed=0)


def _proxy_d(x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        mean = _PROXY["gp"].posterior(torch.as_tensor(x, dtype=torch.float64)).mean
    return np.exp(-mean.numpy().ravel())


def _search(spec: StudySpec, root: int, k: int, budget: int) -> tuple[float, np.ndarray]:
    """Best proxy ``d`` and its parameters for seed ``k`` of ``root`` with the study ``spec``."""
    study = spec.build()  # cached per process
    seed = seed_sequences(root, k + 1)[k]
    ego = EGO(
        study.dim, options=study.run.ego.for_budget(budget), seed=seed, feasible=study.feasible_unit
    )
    while ego.n_told < budget:
        x = ego.ask()
        ego.tell(x, _proxy_d(x))
    best = ego.best
    assert best is not None
    return best[1], study.from_unit(best[0][None])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    parser.add_argument("--seeds", type=int, default=24, help="seeds per setting")
    parser.add_argument("--root", type=int, default=None, help="root seed (default: the run's)")
    parser.add_argument("--budget", type=int, default=100, help="evaluations per seed")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="study options name=value[,name=value] to compare with the run's (repeatable)",
    )
    parser.add_argument(
        "--run-settings",
        default="defaults",
        help="study options the run's searches used beyond the recorded ones (name=value,...), "
        "when the study's defaults changed since the run",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    study, evaluations = load_run(args.run)
    ok = np.isfinite(evaluations["discrepancy"].values) & (
        evaluations["status"].values == EvalStatus.OK
    )
    unit = evaluations["unit"].values[ok]
    log_d = np.log(evaluations["discrepancy"].values[ok])
    path, recorded = evaluations.attrs["study_path"], dict(study.options)

    def spec(text: str) -> StudySpec:
        """The run's study with the options ``text`` on top of the recorded ones."""
        return StudySpec(path, tuple(sorted((recorded | _variant(text)).items())))

    root = study.run.seed if args.root is None else args.root
    names = study.names
    initargs = (unit, log_d)
    print(f"proxy: GP of log d on {ok.sum()} evaluations of {args.run}; root seed {root}")
    with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=initargs) as pool:
        store_seeds = np.unique(evaluations["seed"].values)
        made_with = spec(args.run_settings)
        check = [
            pool.submit(_search, made_with, study.run.seed, int(k), args.budget)
            for k in store_seeds
        ]
        print(f"the run's seeds ({args.run_settings}), forward model vs proxy (best d):")
        for k, future in zip(store_seeds, check, strict=True):
            rows = evaluations["seed"].values[ok] == k
            print(f"  seed {k}: {np.exp(log_d[rows].min()):.4f} vs {future.result()[0]:.4f}")
        results = {}
        for text in ["defaults", *args.variant]:
            t0 = time.perf_counter()
            futures = [
                pool.submit(_search, spec(text), root, k, args.budget) for k in range(args.seeds)
            ]
            results[text] = [f.result() for f in futures]
            print(f"{text}: {args.seeds} seeds in {time.perf_counter() - t0:.0f} s", flush=True)
    floor = min(d for runs in results.values() for d, _ in runs)
    print(f"best proxy d of all searches: {floor:.4f}")
    for text, runs in results.items():
        d = np.array([r[0] for r in runs])
        print(
            f"{text}: within 0.02 of the best {int(np.sum(d <= floor + 0.02))} of {len(d)}, "
            f"in another basin (> best + 0.05) {int(np.sum(d > floor + 0.05))}, "
            f"median d {np.median(d):.4f}"
        )
        for k, (dk, theta) in enumerate(runs):
            where = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, theta, strict=True))
            print(f"    seed {k:2d}: d {dk:.4f}  ({where})")


if __name__ == "__main__":
    main()
