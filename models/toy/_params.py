"""Parameter handling shared by the toy models: names, defaults, batch broadcasting."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["broadcast_params", "check_positive_int", "check_positive_number"]


def broadcast_params(
    params: Mapping[str, ArrayLike] | None,
    names: Sequence[str],
    defaults: Mapping[str, float] | None = None,
) -> tuple[dict[str, np.ndarray], bool]:
    """Turn ``{name: float or 1-D array}`` into equal-length float64 arrays.

    Parameters
    ----------
    params : mapping of str to float or array_like of shape (n,), or None
        Parameter values; 1-D arrays form a batch (all of one length ``n``), scalars are
        broadcast to it.
    names : sequence of str
        The model's parameter names, in order.
    defaults : mapping of str to float, optional
        Values of names missing from ``params``; without it every name is required.

    Returns
    -------
    values : dict of str to ndarray, shape (n,)
        One array per name (``n = 1`` when nothing is batched).
    batched : bool
        Whether any value was a 1-D array (then the output has a ``sample`` dim).

    Raises
    ------
    ValueError
        An unknown or missing name, a value that is not a finite number, more than one dimension,
        an empty batch, or batches of different lengths; the message names the parameter.
    """
    given = dict(params or {})
    for key in given:
        if key not in names:
            lowered = {n.lower(): n for n in names}
            close = difflib.get_close_matches(str(key).lower(), list(lowered), n=1)
            hint = f" Did you mean {lowered[close[0]]!r}?" if close else ""
            raise ValueError(
                f"unknown parameter {key!r}.{hint} Known: {', '.join(names)}.",
            )
    defaults = dict(defaults or {})
    missing = [n for n in names if n not in given and n not in defaults]
    if missing:
        raise ValueError(f"missing parameter(s) {', '.join(map(repr, missing))}.")
    arrays: dict[str, np.ndarray] = {}
    size: int | None = None
    size_from = ""
    for name in names:
        raw = given.get(name, defaults.get(name))
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"parameter {name!r} must be a number or a 1-D array; got {raw!r}."
            ) from None
        if arr.ndim > 1:
            raise ValueError(
                f"parameter {name!r} must be a number or a 1-D array; got shape {arr.shape}."
            )
        if not np.isfinite(arr).all():
            if arr.ndim == 0:
                raise ValueError(f"parameter {name!r} must be finite; got {name}={float(arr)}.")
            i = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise ValueError(
                f"parameter {name!r} must be finite; got {name}={arr[i]} at sample {i}."
            )
        if arr.ndim == 1:
            if arr.size == 0:
                raise ValueError(f"parameter {name!r} is an empty batch.")
            if size is not None and arr.size != size:
                raise ValueError(
                    f"parameter {name!r} has batch length {arr.size} but {size_from!r} has {size}."
                )
            size, size_from = arr.size, name
        arrays[name] = arr
    batched = size is not None
    n = size if size is not None else 1
    return {k: np.broadcast_to(v, (n,)).copy() for k, v in arrays.items()}, batched


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"option {name!r} must be an int >= {minimum}; got {value!r}.")
    return int(value)


def check_positive_number(name: str, value: object) -> float:
    """Return ``value`` as float if it is a finite number > 0, else raise ValueError."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"option {name!r} must be a finite number > 0; got {value!r}.")
    return v
