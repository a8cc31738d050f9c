"""Model-form uncertainty applications, run as ``bayescal srom-stz|srom-md|srom-beam``.

One module per application, each with its command line ``main(argv) -> int`` and its
computational steps as public functions:

- :mod:`bayescal.apps.srom_stz`: SROM band of STZ strain fields against CuZr MD, from the
  best parameter sets of a ``cuzr_stz`` calibration;
- :mod:`bayescal.apps.srom_md`: SROM of copper MD across EAM potentials (reduced-order MD);
- :mod:`bayescal.apps.srom_beam`: SROM of a copper nanoplate's peak tip deflection across
  EAM potentials.

The modules are imported on demand (``import bayescal.apps.srom_md``); their figures are in
:mod:`bayescal.plots`.
"""

__all__: list[str] = []
