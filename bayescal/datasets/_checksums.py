"""SHA-256 of the bundled data.

Written by scripts/make_cuzr_dataset.py; do not edit.
"""

__all__ = ["CUZR_MD_SHA256"]

CUZR_MD_SHA256 = "5caaf99d059f74a935d3b35d9cbcc1bfe0d6d5564fbed1da825f8161f3ced91f"
