"""The disk cache of MD runs and coarse-grained references (bayescal/md/cache.py), no LAMMPS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import bayescal.md.cache as cache_module
from bayescal.coarse.fields import CoarseGrainOptions
from bayescal.md.cache import cache_key, cached_glass, cached_references
from bayescal.md.glass import GlassOptions, GlassRun

#: the MD of the tiny study in tests/study/test_md_study.py
TINY = GlassOptions(
    n_atoms=256,
    melt_steps=200,
    quench_steps=600,
    shear_steps=600,
    n_frames=7,
    max_strain=0.3,
    t_glass=0.01,
)
COARSE = CoarseGrainOptions(shape=(4, 4), dims=2, cutoff=1.6, length_scale=1.0)


class FakeMD:
    """Stands in for ``shear_glass`` and ``md_reference``; counts the calls and records seeds."""

    def __init__(self) -> None:
        self.runs: list[float] = []
        self.references = 0

    def shear_glass(self, folder, options, *, rng, name):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.dump").write_text("fake dump\n")
        draw = float(rng.random())
        self.runs.append(draw)
        strain = np.linspace(0.0, options.max_strain, options.n_frames)
        return GlassRun(
            dump=folder / f"{name}.dump",
            strain=strain,
            stress=draw + strain,
            options={"system": options.system, "n_atoms": options.n_atoms},
        )

    def md_reference(self, run, coarse):
        self.references += 1
        ny, nx = coarse.shape
        field = np.outer(run.stress, np.ones(ny * nx)).reshape(-1, ny, nx)
        return xr.Dataset(
            {"gamma_xy": (("frame", "y", "x"), field), "stress": ("stress_frame", run.stress)},
            coords={"strain": ("frame", run.strain), "stress_strain": ("stress_frame", run.strain)},
            attrs={"method": coarse.method},
        )


@pytest.fixture
def fake(monkeypatch) -> FakeMD:
    md = FakeMD()
    monkeypatch.setattr(cache_module, "shear_glass", md.shear_glass)
    monkeypatch.setattr(cache_module, "md_reference", md.md_reference)
    return md


def _no_md(*args, **kwargs):
    raise AssertionError("MD or coarse-graining rerun despite the cache")


def test_cache_key_is_stable() -> None:
    key = cache_key({"b": 1, "a": [1, 2], "c": (3, "x")})
    assert key == "2b03dd2c5322b973"  # pinned: a changed key would miss every existing cache
    assert cache_key({"c": (3, "x"), "a": [1, 2], "b": 1}) == key
    assert cache_key({"b": 2, "a": [1, 2], "c": (3, "x")}) != key
    assert cache_key({"path": Path("a")}) == cache_key({"path": "a"})  # non-JSON: str


def test_md_keys_of_existing_caches(fake: FakeMD, tmp_path: Path) -> None:
    """The MD folders of the tiny study keep their names (caches written before still hit)."""
    seeds = np.random.SeedSequence(0).spawn(2)
    for seed, key in zip(seeds, ("13d03338b41ce3e1", "b1da233459ac4e81"), strict=True):
        run = cached_glass(tmp_path, TINY, seed)
        assert run.dump == tmp_path / f"md-{key}" / "shear.dump"


def test_cached_glass_runs_once(fake: FakeMD, tmp_path: Path, monkeypatch) -> None:
    seed = np.random.SeedSequence(5)
    first = cached_glass(tmp_path, TINY, seed)
    assert len(fake.runs) == 1
    assert fake.runs[0] == np.random.default_rng(np.random.SeedSequence(5)).random()
    monkeypatch.setattr(cache_module, "shear_glass", _no_md)
    again = cached_glass(tmp_path, TINY, np.random.SeedSequence(5))
    assert again.dump == first.dump and again.options == first.options
    np.testing.assert_array_equal(again.strain, first.strain)
    np.testing.assert_array_equal(again.stress, first.stress)
    # another seed or other options are another run
    monkeypatch.setattr(cache_module, "shear_glass", fake.shear_glass)
    cached_glass(tmp_path, TINY, np.random.SeedSequence(6))
    cached_glass(tmp_path, GlassOptions(n_atoms=100), seed)
    assert len(fake.runs) == 3 and len(list(tmp_path.glob("md-*"))) == 3


def test_killed_run_is_rerun(fake: FakeMD, tmp_path: Path) -> None:
    """A folder without ``run.json`` (a run killed mid-way) is not a cache hit."""
    run = cached_glass(tmp_path, TINY, np.random.SeedSequence(1))
    (run.dump.parent / "run.json").unlink()
    cached_glass(tmp_path, TINY, np.random.SeedSequence(1))
    assert len(fake.runs) == 2


def test_rebuild_hits_the_cache(fake: FakeMD, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "new" / "cache"
    parts = cached_references(cache, TINY, COARSE, realizations=2, md_seed=3)
    assert len(fake.runs) == 2 and fake.references == 2
    # realization r has the seed SeedSequence(md_seed).spawn(R)[r]
    expected = [np.random.default_rng(s).random() for s in np.random.SeedSequence(3).spawn(2)]
    assert fake.runs == expected
    assert [(p.attrs["realization"], p.attrs["md_seed"]) for p in parts] == [(0, 3), (1, 3)]
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 4 and sum(f.startswith("reference-") for f in files) == 2
    monkeypatch.setattr(cache_module, "shear_glass", _no_md)
    monkeypatch.setattr(cache_module, "md_reference", _no_md)
    again = cached_references(cache, TINY, COARSE, realizations=2, md_seed=3)
    for a, b in zip(again, parts, strict=True):
        xr.testing.assert_identical(a, b)
    assert sorted(p.name for p in cache.iterdir()) == files
    # another coarse-graining of the same MD reuses the runs
    monkeypatch.setattr(cache_module, "md_reference", fake.md_reference)
    binned = cached_references(
        cache, TINY, CoarseGrainOptions(method="bin", shape=(2, 2)), realizations=2, md_seed=3
    )
    assert binned[0].attrs["method"] == "bin" and fake.references == 4
    assert len(list(cache.iterdir())) == 6


def test_version_bump_invalidates_references(fake: FakeMD, tmp_path: Path, monkeypatch) -> None:
    cached_references(tmp_path, TINY, COARSE, realizations=1, md_seed=0)
    monkeypatch.setattr(cache_module, "CACHE_VERSION", cache_module.CACHE_VERSION + 1)
    cached_references(tmp_path, TINY, COARSE, realizations=1, md_seed=0)
    assert fake.references == 2 and len(fake.runs) == 1  # the MD itself is still reused
