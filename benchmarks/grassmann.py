"""Benchmark: batched Grassmann distances vs a Python loop over scipy.linalg.subspace_angles.

Builds ``--n`` pairs of random ``--rows x --cols`` orthonormal bases (seeded), times
``bayescal.manifold.distance`` on the whole batch and a Python loop of
``scipy.linalg.subspace_angles`` + geodesic over the same pairs, in the same run, checks that
they agree to 1e-10 rad and prints both times and the speed-up (target: >= 10x). A second
scenario uses nearly coincident pairs (V = orth(U + 1e-9 noise)), where every pair needs the
sine formula.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/grassmann.py [--n 10000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg
import torch

from bayescal.manifold import distance


def random_bases(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Orthonormal bases (Q factors of Gaussian matrices), built in chunks to bound memory."""
    out = np.empty(shape)
    for start in range(0, shape[0], 500):
        sl = slice(start, min(start + 500, shape[0]))
        out[sl] = np.linalg.qr(rng.standard_normal(out[sl].shape))[0]
    return out


def near(rng: np.random.Generator, U: np.ndarray, eps: float) -> np.ndarray:
    """Bases of subspaces at principal angles of order ``eps`` from those of ``U``."""
    out = np.empty_like(U)
    for start in range(0, U.shape[0], 500):
        sl = slice(start, min(start + 500, U.shape[0]))
        out[sl] = np.linalg.qr(U[sl] + eps * rng.standard_normal(U[sl].shape))[0]
    return out


def best_time(repeats: int, **kwargs: object) -> tuple[float, np.ndarray]:
    """Best wall time of ``distance(**kwargs)`` over ``repeats`` calls, and its result."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = distance(**kwargs)
        times.append(time.perf_counter() - t0)
    return min(times), result


def run_case(label: str, U: np.ndarray, V: np.ndarray, repeats: int) -> float:
    """Time both paths on one set of pairs, check agreement, print; return the speed-up."""
    t_batch, d_batch = best_time(repeats, U=U, V=V)
    t_nocheck, d_nocheck = best_time(repeats, U=U, V=V, check=False)

    t0 = time.perf_counter()
    d_loop = np.array(
        [
            np.sqrt(np.sum(scipy.linalg.subspace_angles(u, v) ** 2))
            for u, v in zip(U, V, strict=True)
        ]
    )
    t_loop = time.perf_counter() - t0

    err = float(max(np.max(np.abs(d_batch - d_loop)), np.max(np.abs(d_nocheck - d_loop))))
    ratio = t_loop / t_batch
    print(f"[{label}] pairs: {U.shape[0]:,} of {U.shape[1]} x {U.shape[2]} bases")
    print(f"[{label}]   {'batched distance (best of ' + str(repeats) + ')':36s} {t_batch:8.3f} s")
    print(f"[{label}]   {'same with check=False':36s} {t_nocheck:8.3f} s")
    print(f"[{label}]   {'loop of scipy subspace_angles (1 run)':36s} {t_loop:8.3f} s")
    print(
        f"[{label}]   speed-up: {ratio:.1f}x (check=False: {t_loop / t_nocheck:.1f}x)   "
        f"max |difference| = {err:.2e} rad"
    )
    print(f"[{label}]   agreement to 1e-10 rad: {'OK' if err <= 1e-10 else 'FAIL'}")
    if err > 1e-10:
        raise SystemExit(f"{label}: batched and looped distances differ by {err:.2e} rad")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of pairs")
    parser.add_argument("--rows", type=int, default=1024, help="ambient dimension n")
    parser.add_argument("--cols", type=int, default=16, help="subspace dimension p")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the batched call")
    parser.add_argument("--no-near", action="store_true", help="skip the near-coincident case")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads for both paths (default 1: fair and stable on a shared machine)",
    )
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        print("threadpoolctl not installed: BLAS threads left at their default")
    else:
        threadpool_limits(limits=args.blas_threads, user_api="blas")
        print(f"BLAS threads: {args.blas_threads} (both paths)")
    torch.set_num_threads(args.blas_threads)  # the batched products run in torch (MKL)

    rng = np.random.default_rng(args.seed)
    shape = (args.n, args.rows, args.cols)
    t0 = time.perf_counter()
    U = random_bases(rng, shape)
    V = random_bases(rng, shape)
    print(
        f"built {2 * args.n:,} random bases ({2 * U.nbytes / 2**30:.2f} GiB) in "
        f"{time.perf_counter() - t0:.1f} s; numpy {np.__version__}, scipy {scipy.__version__}"
    )
    ratio = run_case("random", U, V, args.repeats)
    if not args.no_near:
        V = near(rng, U, 1e-9)
        run_case("near-coincident", U, V, args.repeats)  # extra scenario, reported only
    verdict = "OK" if ratio >= 10 else "MISSED"
    print(f"target (random pairs, default validation) speed-up >= 10x: {verdict} ({ratio:.1f}x)")


if __name__ == "__main__":
    main()
