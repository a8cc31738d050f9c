"""Benchmark of models.stz against the reference C++ solver's recorded wall time.

Prints (a) one run at the parameters of stz_ref_a.npz on one thread, as a ratio to the
reference's wall time on one core (want <= 1); (b) throughput in evaluations/s for batches of
1, 8, 32 and 128 parameter sets on two threads, as a multiple of the reference's 1 / wall_s
(want >= 10 at large batch); (c) cost per quasi-static step on 32, 64 and 128 grids.

Run:  PYTHONPATH=. python benchmarks/stz.py [--quick]

``--quick`` shortens (b) and (c) to a few frames and extrapolates to the full 6000 steps
(plastic work grows along the run, so full runs cost somewhat more than the extrapolation).
Timings on a shared machine are noisy; all figures printed come from this one process.
"""

from __future__ import annotations

import os

# idle OpenMP threads sleep instead of spinning, so the plastic kernel's Python threads get
# the cores between torch's parallel regions (as the bayescal CLI does); before torch loads
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from models.stz import simulate
from models.stz.native import load as load_native

DATA = Path("/work/shared/data")
REF = DATA / "stz_reference" / "stz_ref_a.npz"
PE0 = DATA / "cuzr_md" / "pe.MD.0"
PE100 = DATA / "cuzr_md" / "pe.MD.100"
FULL_FRAMES, STEPS = 100, 60


def load() -> tuple[np.ndarray, np.ndarray, dict[str, float], float, np.ndarray]:
    with np.load(REF) as d:
        params = json.loads(str(d["params"]))
        wall = float(d["wall_s"])
        ref_stress = d["stress_gpa"]
    return np.loadtxt(PE0, skiprows=1), np.loadtxt(PE100, skiprows=1), params, wall, ref_stress


def batch_params(
    n: int, pe0: np.ndarray, pe100: np.ndarray, seed: int = 0
) -> dict[str, np.ndarray]:
    """Parameter sets drawn from the paper's box (chi_inf from the last MD frame, as there)."""
    rng = np.random.default_rng(seed)
    beta = rng.uniform(2.0, 15.0, n)
    u0 = rng.uniform(-3.395, -3.365, n)  # keeps u0 below min(pe0) so initial chi > 0
    u0 = np.minimum(u0, pe0.min() - 1e-3)
    return {
        "beta": beta,
        "u0": u0,
        "c0": rng.uniform(0.05, 1.0, n),
        "s_y": rng.uniform(0.8, 1.1, n),
        "chi_inf": beta * (pe100.max() - u0) * 21000.0,
    }


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs for (b) and (c)")
    parser.add_argument("--skip-single", action="store_true", help="skip (a)")
    args = parser.parse_args()
    pe0, pe100, params, ref_wall, ref_stress = load()
    print(f"models.stz benchmark  (torch {torch.__version__}, float64, CPU)")
    native = "C kernel" if load_native() is not None else "torch (no C compiler found)"
    print(f"plastic update: {native}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    print(f"reference C++ solver: {ref_wall:.2f} s per run (stz_ref_a.npz wall_s, one core)")

    # (a) one run, one thread ----------------------------------------------------------------
    if not args.skip_single:
        torch.set_num_threads(1)
        print("\n(a) one run at stz_ref_a parameters, 1 thread, 100 frames x 60 steps")
        for label, compile in (("eager", False), ("compiled", True)):
            if compile:  # compile outside the timing (a one-off per process; see (b))
                wall_c, _ = timed(
                    lambda: simulate(pe0, params, frames=1, final_strain=0.005, compile=True)
                )
                print(f"    (compiling the kernels, a short run: {wall_c:.1f} s)")
            wall, ds = timed(lambda c=compile: simulate(pe0, params, compile=c))
            err = np.linalg.norm(ds.stress.values - ref_stress) / np.linalg.norm(ref_stress)
            print(
                f"    {label:9s} {wall:8.2f} s   reference {ref_wall:8.2f} s   ratio ours/ref = "
                f"{wall / ref_wall:.2f}  (want <= 1)   [stress rel L2 vs ref {err:.1e}]"
            )

    # (b) throughput, two threads --------------------------------------------------------------
    frames = 2 if args.quick else FULL_FRAMES
    scale = FULL_FRAMES / frames
    print(
        f"\n(b) throughput on 2 cores, paper-box parameters, {frames} frames x {STEPS} steps"
        + (f" (x{scale:.0f} to a full run)" if scale != 1 else "")
    )
    print("    'eager x2': eager kernels, torch.set_num_threads(1), simulate(..., workers=2): two")
    print("    sample groups in two threads; 'compiled x2': torch.compile-d kernels, one batch on")
    print("    two torch threads (simulate(..., compile=True, workers=2); compiled beforehand)")
    print(
        f"    {'batch':>5} {'mode':>11} {'wall s':>9} {'s/eval':>8} {'evals/s':>9} {'x ref':>7}"
        f" {'failed':>6}"
    )
    # compile once up front, for a batch of 1 and one of 2 (the second makes the batch dim
    # dynamic, so no later batch size recompiles); a one-off cost per process, printed
    warm = 0.0
    for n in (1, 2):
        wall, _ = timed(
            lambda n=n: simulate(
                pe0,
                batch_params(n, pe0, pe100),
                frames=1,
                final_strain=0.005,
                compile=True,
                workers=2,
            )
        )
        warm += wall
    print(f"    (compiling the kernels for any batch size: {warm:.1f} s, not counted below)")
    for n in (1, 8, 32, 128):
        p = batch_params(n, pe0, pe100)
        kw = {"frames": frames, "final_strain": 0.5 * frames / FULL_FRAMES}
        for mode, compile in (("eager x2", False), ("compiled x2", True)):
            torch.set_num_threads(1)
            wall, ds = timed(
                lambda p=p, kw=kw, c=compile: simulate(pe0, p, workers=2, compile=c, **kw)
            )
            per_eval = wall * scale / n
            failed = int((ds.status.values != 0).sum())
            print(
                f"    {n:5d} {mode:>11} {wall:9.2f} {per_eval:8.3f} {1 / per_eval:9.3f} "
                f"{ref_wall / per_eval:7.1f} {failed:6d}"
            )

    # (c) grid scaling --------------------------------------------------------------------------
    torch.set_num_threads(1)
    steps = 2 * STEPS if args.quick else 5 * STEPS
    print(f"\n(c) cost per quasi-static step vs grid size, 1 thread, batch 1, {steps} steps")
    print(f"    {'grid':>9} {'ms/step':>9} {'s per 6000 steps':>17}")
    for n in (32, 64, 128):
        kw = {"nx": n, "ny": n, "frames": steps // STEPS, "final_strain": 0.005 * steps / STEPS}
        wall, _ = timed(lambda kw=kw: simulate(pe0, params, **kw))
        print(f"    {n:4d}x{n:<4d} {1e3 * wall / steps:9.3f} {wall / steps * 6000:17.1f}")


if __name__ == "__main__":
    main()
