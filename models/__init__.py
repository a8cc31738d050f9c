"""Forward models for bayescal, one subpackage each.

A model depends on numpy, torch and xarray only (never on bayescal), so it can be used and tested
alone. Each exposes ``simulate(..., params, **options) -> xarray.Dataset`` where ``params`` maps a
parameter name to a float or a 1-D array (a batch, leading ``sample`` dim).
"""
