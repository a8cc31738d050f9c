"""Convert the raw CuZr MD text files into the bundled netCDF file and record its SHA-256.

Usage (from the repository root)::

    python scripts/make_cuzr_dataset.py [SOURCE] [--out FILE] [--no-checksum]

SOURCE defaults to ``../shared/data/cuzr_md`` relative to the repository; FILE defaults to
``bayescal/datasets/data/cuzr_md.nc``. The output is deterministic for fixed versions of
h5netcdf/h5py/HDF5 (their versions are written into the file's ``_NCProperties``). Unless
``--no-checksum`` is given, the digest is written to ``bayescal/datasets/_checksums.py``, which
``bayescal.datasets.load_cuzr`` checks, and the licence text is copied next to the data.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bayescal.datasets.cuzr import build_cuzr_dataset, write_cuzr_netcdf

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / ".." / "shared" / "data" / "cuzr_md"
DEFAULT_OUT = REPO / "bayescal" / "datasets" / "data" / "cuzr_md.nc"
CHECKSUMS = REPO / "bayescal" / "datasets" / "_checksums.py"
LICENSE_OUT = REPO / "bayescal" / "datasets" / "data" / "LICENSE-cuzr_md.txt"

CHECKSUMS_TEMPLATE = '''"""SHA-256 of the bundled data.

Written by scripts/make_cuzr_dataset.py; do not edit.
"""

__all__ = ["CUZR_MD_SHA256"]

CUZR_MD_SHA256 = "{digest}"
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--no-checksum",
        action="store_true",
        help="do not update bayescal/datasets/_checksums.py nor copy the licence",
    )
    args = parser.parse_args(argv)
    ds = build_cuzr_dataset(args.source)
    digest = write_cuzr_netcdf(ds, args.out)
    size = args.out.stat().st_size
    sys.stdout.write(f"{args.out}: {size} bytes, sha256 {digest}\n")
    if not args.no_checksum:
        CHECKSUMS.write_text(CHECKSUMS_TEMPLATE.format(digest=digest))
        shutil.copyfile(args.source / "LICENSE", LICENSE_OUT)
        sys.stdout.write(f"wrote {CHECKSUMS.relative_to(REPO)} and {LICENSE_OUT.name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
