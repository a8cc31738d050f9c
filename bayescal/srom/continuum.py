r"""SROM of strain-field bases: model-form uncertainty of STZ plasticity against CuZr MD.

The candidates are the POD bases of strain-field snapshot matrices: the MD reference
(``gamma_xy`` of :func:`bayescal.datasets.load_cuzr`, one column per frame, 1024 cells as rows)
and the STZ model at a few parameter sets (engineering strain ``2 exy``, e.g. the best set of
each calibration seed). The SROM (:class:`bayescal.srom.SROM`) around the POD basis of all
snapshots pooled gives random bases :math:`Y_k`; a nominal field :math:`g_t` (a model's) is
reconstructed on each, with one mean :math:`\mu` used for centring and reconstruction:

- ``reconstruction="projection"``: :math:`f_t^{(k)} = \mu + Y_k Y_k^T (g_t - \mu)`;
- ``reconstruction="coordinates"``: :math:`f_t^{(k)} = \mu + Y_k X^T (g_t - \mu)`, the reduced
  coordinates of the nominal field on the centre :math:`X` carried by the random modes.

The band is the cell-wise ``quantiles`` (default 5-95 %) over realizations; its coverage is the
fraction of MD cells inside it. The MD candidate is part of the SROM, so the band uses MD
information: it is a description of model-form spread, not a blind prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.errors import ForwardModelError, InputDataError
from bayescal.srom.model import SROM
from bayescal.srom.snapshots import Alignment, pod_basis

__all__ = [
    "CHI_LEN",
    "EP",
    "T_Z",
    "StrainSimulator",
    "best_parameters",
    "corners_to_centres",
    "field_snapshots",
    "strain_field_srom",
    "stz_strain_fields",
]

#: Fixed STZ parameters of the CuZr calibration (``studies/cuzr_stz.py``).
CHI_LEN = 25.59275383
EP = 44.52901253
#: STZ formation temperature [K] in ``chi_inf = beta (max pe_final - u0) T_Z``.
T_Z = 21000.0

StrainSimulator = Callable[..., xr.Dataset]
"""A batched STZ forward model, called as ``simulate(pe0, batch, steps_per_frame=...,
workers=...)`` with the ``(y, x)`` potential energy of frame 0 and a mapping of parameter
arrays of one length ``sample``; it returns ``exy(sample, frame, y, x)`` and ``status(sample)``
(0 for success), like :func:`models.stz.simulate`."""

#: Frames reconstructed at once (bounds memory to n_samples x n_dof x this).
_FRAME_CHUNK = 8


def corners_to_centres(field: ArrayLike) -> np.ndarray:
    """Average a periodic corner-located field onto cell centres.

    The STZ model stores ``exy`` at cell corners ``(i dx, j dy)``, the MD fields at centres
    ``((i + 1/2) dx, (j + 1/2) dy)``; the centre value is the mean of the four corners.

    Parameters
    ----------
    field : array_like, shape (..., y, x)

    Returns
    -------
    ndarray, shape (..., y, x)

    Examples
    --------
    >>> corners_to_centres(np.array([[0.0, 4.0], [0.0, 0.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    f = np.asarray(field, dtype=np.float64)
    if f.ndim < 2:
        raise InputDataError(f"field must have shape (..., y, x); got {f.shape}.")
    fx = f + np.roll(f, -1, axis=-1)
    return 0.25 * (fx + np.roll(fx, -1, axis=-2))


def field_snapshots(fields: ArrayLike) -> np.ndarray:
    """Snapshot matrix of a field history: one column per frame, cells row-major as rows.

    Parameters
    ----------
    fields : array_like, shape (frame, y, x)

    Returns
    -------
    ndarray, shape (y * x, frame)
        Row ``j * nx + i`` is cell ``(y=j, x=i)``.
    """
    f = np.asarray(fields, dtype=np.float64)
    if f.ndim != 3 or 0 in f.shape:
        raise InputDataError(f"fields must have shape (frame, y, x); got {f.shape}.")
    if not np.isfinite(f).all():
        raise InputDataError("fields contain non-finite values (NaN or inf); drop failed runs.")
    return f.reshape(f.shape[0], -1).T


def best_parameters(evaluations: xr.Dataset) -> list[dict[str, float]]:
    """Best parameter set of each calibration seed (seeds without a success are skipped).

    Parameters
    ----------
    evaluations : xarray.Dataset
        Contents of ``evaluations.nc`` (see :func:`bayescal.summary.best_per_seed`).

    Returns
    -------
    list of dict of str to float
    """
    from bayescal.summary import best_per_seed

    best = best_per_seed(evaluations)
    names = [str(p) for p in best["param"].values]
    return [
        dict(zip(names, map(float, row), strict=True))
        for row in best["theta"].values
        if np.isfinite(row).all()
    ]


def stz_strain_fields(
    params: Sequence[Mapping[str, float]],
    *,
    simulate: StrainSimulator,
    reference: xr.Dataset | None = None,
    steps_per_frame: int = 60,
    workers: int = 1,
    to_centres: bool = True,
) -> list[np.ndarray]:
    """Engineering shear-strain histories ``2 exy`` of the STZ model at parameter sets.

    ``chi_len`` and ``ep`` default to the calibration's fixed values and ``chi_inf`` to
    ``beta (max pe_final - u0) T_Z``; all sets run as one batch of the forward model
    ``simulate`` (the caller's, e.g. :func:`models.stz.simulate`) from the MD potential energy
    of frame 0.

    Parameters
    ----------
    params : sequence of mapping
        Each with ``beta``, ``u0`` (or ``chi0``, the mean initial effective temperature
        ``beta (mean pe_0 - u0) T_Z`` [K], as the CuZr study searches it), ``c0``, ``s_y``
        (and optionally ``chi_inf``, ``chi_len``, ``ep``).
    simulate : StrainSimulator
        The batched STZ model (see :data:`StrainSimulator`), e.g. :func:`models.stz.simulate`.
    reference : xarray.Dataset, optional
        The MD data; default :func:`bayescal.datasets.load_cuzr`.
    steps_per_frame : int, default 60
        Quasi-static steps per output frame.
    workers : int, default 1
        Threads, passed to ``simulate``.
    to_centres : bool, default True
        Move the corner-located strain to the MD's cell centres (:func:`corners_to_centres`).

    Returns
    -------
    list of ndarray, shape (frame, y, x)

    Raises
    ------
    ForwardModelError
        A run that failed (non-finite fields or too many plastic sub-steps).
    """
    if reference is None:
        from bayescal.datasets import load_cuzr

        reference = load_cuzr()
    if len(params) == 0:
        raise InputDataError("params must hold at least one parameter set.")
    pe = reference["pe"].transpose("frame", "y", "x").values
    pe_max = float(pe[-1].max())
    names = ("beta", "u0", "c0", "s_y")
    # a calibration that searched chi0 = beta (mean pe_0 - u0) T_Z gives u0 through it
    params = [
        p
        if "u0" in p or "chi0" not in p or "beta" not in p
        else {**p, "u0": float(pe[0].mean()) - p["chi0"] / (p["beta"] * T_Z)}
        for p in params
    ]
    missing = [k for k in names if any(k not in p for p in params)]
    if missing:
        raise InputDataError(f"every parameter set needs {names}; missing {missing}.")
    batch: dict[str, np.ndarray] = {k: np.array([p[k] for p in params], float) for k in names}
    batch["chi_len"] = np.array([p.get("chi_len", CHI_LEN) for p in params], float)
    batch["ep"] = np.array([p.get("ep", EP) for p in params], float)
    batch["chi_inf"] = np.array(
        [p.get("chi_inf", p["beta"] * (pe_max - p["u0"]) * T_Z) for p in params], float
    )
    ds = simulate(pe[0], batch, steps_per_frame=steps_per_frame, workers=workers)
    status = np.atleast_1d(ds["status"].values)
    if (status != 0).any():
        k = int(np.flatnonzero(status != 0)[0])
        raise ForwardModelError(
            f"STZ run {k} failed with status {int(status[k])}.",
            params={n: float(v[k]) for n, v in batch.items()},
        )
    exy = ds["exy"].transpose("sample", "frame", "y", "x").values
    out = 2.0 * exy
    if to_centres:
        out = corners_to_centres(out)
    return list(out)


def strain_field_srom(
    reference: xr.Dataset,
    model_fields: Sequence[ArrayLike],
    *,
    rank: int | None = None,
    tol: float = 1e-3,
    n_fixed: int = 0,
    n_samples: int = 200,
    nominal: int | Literal["mean"] = 0,
    centring: Literal["pooled", "nominal", "none"] = "pooled",
    reconstruction: Literal["projection", "coordinates"] = "projection",
    dispersion: float | Literal["auto"] = "auto",
    concentration: float | None = None,
    align: Alignment = "sign",
    quantiles: tuple[float, float] = (0.05, 0.95),
    variable: str = "gamma_xy",
    rng: int | np.random.Generator | None = None,
) -> xr.Dataset:
    r"""Stochastic strain-field prediction from an SROM of MD and model POD bases.

    Parameters
    ----------
    reference : xarray.Dataset
        MD data with ``variable(frame, y, x)`` and coordinate ``strain(frame)``.
    model_fields : sequence of array_like, shape (frame, y, x)
        Model engineering-strain histories on the MD grid (e.g. :func:`stz_strain_fields`).
    rank : int, optional
        Modes per basis; default from ``tol`` on the pooled snapshots.
    tol : float, default 1e-3
        Discarded-energy fraction of the pooled POD when ``rank`` is None.
    n_fixed : int, default 0
        Leading modes kept at the centre (frequency split).
    n_samples : int, default 200
        Realizations of the random basis.
    nominal : int or "mean", default 0
        The field reconstructed on the random bases: ``model_fields[nominal]`` or their mean.
    centring : {"pooled", "nominal", "none"}, default "pooled"
        The mean :math:`\mu` subtracted before projection and added back: the mean column of
        the pooled snapshots (the one the centre POD used) or of the nominal field; with
        ``"none"`` every POD is uncentred and :math:`\mu = 0`.
    reconstruction : {"projection", "coordinates"}, default "projection"
        See the module docstring.
    dispersion, concentration, align
        Passed to :meth:`SROM.fit` (``dispersion="auto"`` matches the candidates' spread).
    quantiles : tuple of float, default (0.05, 0.95)
        Lower and upper band quantiles.
    variable : str, default "gamma_xy"
        MD variable.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    xarray.Dataset
        ``reference``, ``nominal``, ``mean``, ``lower``, ``upper``, ``covered`` (bool) with
        dims ``(frame, y, x)``; ``coverage(frame)``; x-averaged profiles
        ``profile_reference``, ``profile_mean``, ``profile_lower``, ``profile_upper`` with dims
        ``(frame, y)``; ``alpha(candidate)``; attrs ``coverage`` (all cells and frames),
        ``rank``, ``dispersion``, ``concentration``, options.

    Raises
    ------
    InputDataError
        Fields of a shape other than the reference's, bad options.
    """
    if variable not in reference:
        raise InputDataError(f"reference has no variable {variable!r}; it has {list(reference)}.")
    md = reference[variable].transpose("frame", "y", "x")
    shape = md.shape
    if len(model_fields) == 0:
        raise InputDataError("model_fields must hold at least one model field history.")
    fields = [np.asarray(f, dtype=np.float64) for f in model_fields]
    bad = [i for i, f in enumerate(fields) if f.shape != shape]
    if bad:
        raise InputDataError(
            f"model_fields must have the reference's shape (frame, y, x) = {shape}; "
            f"entries {bad} have {[fields[i].shape for i in bad]}."
        )
    lo_q, hi_q = (float(q) for q in quantiles)
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise InputDataError(f"quantiles must satisfy 0 <= lower < upper <= 1; got {quantiles}.")
    if reconstruction not in ("projection", "coordinates"):
        raise InputDataError(
            f"reconstruction must be 'projection' or 'coordinates'; got {reconstruction!r}."
        )
    if centring not in ("pooled", "nominal", "none"):
        raise InputDataError(f"centring must be 'pooled', 'nominal' or 'none'; got {centring!r}.")
    if nominal == "mean":
        g_fields = np.mean(fields, axis=0)
    elif isinstance(nominal, int | np.integer) and 0 <= nominal < len(fields):
        g_fields = fields[int(nominal)]
    else:
        raise InputDataError(
            f"nominal must be 'mean' or an index in [0, {len(fields)}); got {nominal!r}."
        )

    gen = np.random.default_rng(rng)
    snaps = [field_snapshots(md.values)] + [field_snapshots(f) for f in fields]
    pooled = np.concatenate(snaps, axis=1)
    centred = centring != "none"
    X0, r, _ = pod_basis(pooled, tol=tol, rank=rank, center=centred)
    candidates = np.stack([pod_basis(S, rank=r, center=centred)[0] for S in snaps])
    srom = SROM.fit(
        candidates,
        center=X0,
        n_fixed=n_fixed,
        dispersion=dispersion,
        concentration=concentration,
        align=align,
        rng=gen,
    )
    bases = srom.sample(n_samples, rng=gen)  # (k, n, r)
    X = srom.center

    G = field_snapshots(g_fields)  # (n, frame)
    if centring == "none":
        mu = np.zeros((G.shape[0], 1))
    else:
        mu = (pooled if centring == "pooled" else G).mean(axis=1, keepdims=True)
    n_frame = shape[0]
    ny, nx = shape[1:]
    lower = np.empty((n_frame, ny * nx))
    upper = np.empty_like(lower)
    mean = np.empty_like(lower)
    prof = np.empty((3, n_frame, ny))
    left = bases if reconstruction == "projection" else X[None]
    for start in range(0, n_frame, _FRAME_CHUNK):
        sl = slice(start, min(start + _FRAME_CHUNK, n_frame))
        coef = np.swapaxes(left, -1, -2) @ (G[:, sl] - mu)  # (k or 1, r, f)
        F = mu + bases @ coef  # (k, n, f)
        F = np.swapaxes(F, 1, 2)  # (k, f, n)
        lower[sl], upper[sl] = np.quantile(F, [lo_q, hi_q], axis=0)
        mean[sl] = F.mean(axis=0)
        p = F.reshape(F.shape[0], F.shape[1], ny, nx).mean(axis=-1)  # x-average
        prof[0, sl], prof[1, sl] = np.quantile(p, [lo_q, hi_q], axis=0)
        prof[2, sl] = p.mean(axis=0)

    ref = md.values.reshape(n_frame, -1)
    covered = (ref >= lower) & (ref <= upper)
    dims3 = ("frame", "y", "x")
    dims2 = ("frame", "y")
    coords = {k: md.coords[k] for k in md.coords}
    names = ["md"] + [f"model_{i}" for i in range(len(fields))]
    return xr.Dataset(
        {
            "reference": (dims3, md.values, {"long_name": f"MD {variable}"}),
            "nominal": (dims3, g_fields, {"long_name": "nominal model field"}),
            "mean": (dims3, mean.reshape(shape), {"long_name": "SROM mean field"}),
            "lower": (dims3, lower.reshape(shape), {"long_name": f"SROM {lo_q:g} quantile"}),
            "upper": (dims3, upper.reshape(shape), {"long_name": f"SROM {hi_q:g} quantile"}),
            "covered": (dims3, covered.reshape(shape), {"long_name": "MD inside the band"}),
            "coverage": (("frame",), covered.mean(axis=1), {"units": "1"}),
            "profile_reference": (dims2, md.values.mean(axis=-1)),
            "profile_lower": (dims2, prof[0]),
            "profile_upper": (dims2, prof[1]),
            "profile_mean": (dims2, prof[2]),
            "alpha": (("candidate",), np.array(srom.alpha)),
        },
        coords={**coords, "candidate": names},
        attrs={
            "coverage": float(covered.mean()),
            "rank": r,
            "dispersion": srom.dispersion,
            "concentration": srom.concentration,
            "n_fixed": n_fixed,
            "n_samples": int(n_samples),
            "nominal": str(nominal),
            "centring": centring,
            "reconstruction": reconstruction,
            "quantiles": [lo_q, hi_q],
            "description": (
                "Stiefel SROM (Zhang & Guilleminot 2023) of POD bases of the MD and model "
                "strain-field snapshot matrices; band = cell-wise quantiles of the nominal field "
                "reconstructed on random bases."
            ),
        },
    )
