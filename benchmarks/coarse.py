"""Benchmark: coarse-graining throughput and accuracy (binning, kernel windows, GP, atomic strain).

Part 1 times each method on ``n`` uniform random atoms in a 40 x 40 periodic box onto a 32 x 32
grid (n = 1e4, 1e5, 1e6; ``--quick``: 1e4, 1e5) and prints atoms per second. The GP uses its
fine-grid sufficient statistics (``--fine`` cells per side), so its cost beyond binning does not
grow with n. Atomic strain (3D, cutoff 3.6 at the density of a metal, ~40 neighbours) is timed on
the same n (1e6 skipped without ``--full-strain``: ~GBs of pair arrays).

Part 2 draws atoms from a known smooth periodic field plus unit noise, for several atom counts,
and prints the NRMSD (RMS error over the field's range, at the 32 x 32 cell centres) of binning,
the best moving (top-hat) window (width chosen by the oracle over a sweep), the best Gaussian
kernel and the GP (learned hyperparameters), side by side, with the GP's 95 % band coverage.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/coarse.py [--quick]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from bayescal.coarse import (
    Box,
    GPOptions,
    Grid,
    atomic_strain,
    bin_average,
    gp_field,
    kernel_average,
    nrmsd,
)

L = 40.0
GRID = Grid(lx=L, ly=L, nx=32, ny=32)


def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    k = 2 * np.pi / L
    return np.sin(k * x) * np.cos(k * y) + 0.5 * np.sin(2 * k * (x + y))


def timed(fn, *args, **kw) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def throughput(sizes: list[int], fine: int, full_strain: bool, rng: np.random.Generator) -> None:
    print(f"== throughput: atoms per second onto a 32 x 32 grid (GP fine grid {fine} x {fine})")
    print(
        f"{'n atoms':>10} {'bin':>12} {'gaussian':>12} {'tophat':>12} {'gp':>12} "
        f"{'atomic strain':>14}"
    )
    for n in sizes:
        xy = rng.uniform(0, L, (n, 2))
        v = field(xy[:, 0], xy[:, 1]) + rng.normal(0, 1, n)
        t_bin, _ = timed(bin_average, xy, v, GRID)
        t_g, _ = timed(kernel_average, xy, v, GRID, width=2.5, kernel="gaussian")
        t_t, _ = timed(kernel_average, xy, v, GRID, width=4.0, kernel="tophat")
        t_gp, _ = timed(gp_field, xy, v, GRID, options=GPOptions(fine_shape=(fine, fine)))
        strain = "skipped"
        if n <= 100_000 or full_strain:
            side = (n / 0.06) ** (1 / 3)  # metallic number density ~0.06 / Å^3
            box = Box.orthogonal([side] * 3)
            X = box.to_cartesian(rng.uniform(0, 1, (n, 3)))
            Xc = X @ np.array([[1, 0.05, 0], [0, 1, 0], [0, 0, 1.0]]).T
            box1 = Box(matrix=box.matrix @ np.array([[1, 0.05, 0], [0, 1, 0], [0, 0, 1.0]]).T)
            t_s, _ = timed(atomic_strain, X, Xc, box0=box, box=box1, cutoff=3.6)
            strain = f"{n / t_s:14.3g}"
        print(
            f"{n:>10d} {n / t_bin:12.3g} {n / t_g:12.3g} {n / t_t:12.3g} {n / t_gp:12.3g} "
            f"{strain:>14}"
        )


def accuracy(sizes: list[int], fine: int, rng: np.random.Generator) -> None:
    print("\n== accuracy: NRMSD vs the true field (32 x 32 cell centres), unit noise per atom")
    print(
        f"{'n atoms':>10} {'bin':>8} {'window*':>8} {'(width)':>8} {'gauss*':>8} {'(sd)':>6} "
        f"{'gp':>8} {'gp 95% cov':>10} {'gp l':>6} {'gp s':>6}"
    )
    gx, gy = np.meshgrid(GRID.x, GRID.y)
    truth = field(gx, gy)
    for n in sizes:
        xy = rng.uniform(0, L, (n, 2))
        v = field(xy[:, 0], xy[:, 1]) + rng.normal(0, 1, n)
        e_bin = nrmsd(bin_average(xy, v, GRID)[0], truth)
        win = [
            (nrmsd(kernel_average(xy, v, GRID, width=w, kernel="tophat")[0], truth), w)
            for w in np.arange(1.25, 16.0, 0.625)
        ]
        gau = [
            (nrmsd(kernel_average(xy, v, GRID, width=w, kernel="gaussian")[0], truth), w)
            for w in np.arange(0.5, 6.0, 0.25)
        ]
        e_win, w_win = min(win)
        e_gau, w_gau = min(gau)
        fit = gp_field(xy, v, GRID, options=GPOptions(fine_shape=(fine, fine)))
        e_gp = nrmsd(fit.mean, truth)
        cov = float(np.mean(np.abs(fit.mean - truth) <= 1.96 * fit.std))
        print(
            f"{n:>10d} {e_bin:8.4f} {e_win:8.4f} {w_win:8.2f} {e_gau:8.4f} {w_gau:6.2f} "
            f"{e_gp:8.4f} {cov:10.3f} {fit.params['lengthscale_x']:6.2f} "
            f"{np.sqrt(fit.params['noise_variance']):6.3f}"
        )
    print("window*, gauss*: best width by oracle (needs the truth); gp: learned from data only")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e4 and 1e5 atoms only")
    ap.add_argument("--fine", type=int, default=32, help="GP fine grid cells per side")
    ap.add_argument("--full-strain", action="store_true", help="atomic strain at 1e6 too")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (default 1: stable on a shared machine)",
    )
    args = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        print("threadpoolctl not installed: BLAS threads left at their default")
    else:
        threadpool_limits(limits=args.blas_threads, user_api="blas")
        print(f"BLAS threads: {args.blas_threads}")
    # empty cells at 2,000 atoms and isolated random atoms in the strain timing are expected
    warnings.simplefilter("ignore", category=UserWarning)
    rng = np.random.default_rng(args.seed)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    throughput(sizes, args.fine, args.full_strain, rng)
    acc = [2_000, 10_000, 50_000] if args.quick else [2_000, 10_000, 50_000, 250_000]
    accuracy(acc, args.fine, rng)


if __name__ == "__main__":
    main()
