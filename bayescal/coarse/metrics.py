"""Error measures of coarse-grained fields."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = ["nrmsd"]


def nrmsd(estimate: ArrayLike, truth: ArrayLike) -> float:
    """Root-mean-square deviation normalised by the range of ``truth``.

    Parameters
    ----------
    estimate, truth : array_like, same shape
        Fields; NaN cells of ``estimate`` count as missing (ignored).

    Returns
    -------
    float
        ``sqrt(mean((estimate - truth)^2)) / (max(truth) - min(truth))``.

    Examples
    --------
    >>> nrmsd([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    0.28867513459481287
    """
    e = np.asarray(estimate, dtype=float)
    t = np.asarray(truth, dtype=float)
    if e.shape != t.shape:
        raise InputDataError(f"estimate and truth shapes differ: {e.shape} vs {t.shape}.")
    span = float(np.nanmax(t) - np.nanmin(t))
    if not span > 0:
        raise InputDataError("truth is constant; NRMSD is undefined.")
    return float(np.sqrt(np.nanmean((e - t) ** 2)) / span)
