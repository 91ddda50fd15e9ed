"""A folder of repository sources laid out as a Python package asset, without Docker: the
files keep their paths under the repository root (so imports read the same on the host
that runs them as in tests), the folder is named by the sources' content hash (the same
sources give the same folder and the same asset), and it is built in a temporary folder
and renamed, so concurrent synths never see half a package.

Used for the ETL job's ``--extra-py-files`` (stacks/etl_stack.py) and the training
instances' code (stacks/training_stack.py).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from stacks.config import REPO_ROOT

# Never shipped: caches, tests and notebooks are not part of what runs.
EXCLUDED_PARTS = frozenset({"__pycache__", "tests", "notebooks", ".ipynb_checkpoints"})


def package_files(root: Path, suffixes: tuple[str, ...] | None = (".py",)) -> list[Path]:
    """Files under ``root`` (only ``suffixes``, or every file with None), tests left out."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not EXCLUDED_PARTS.intersection(p.relative_to(root).parts)
        and not p.name.startswith("test_")
        and p.suffix != ".pyc"
        and (suffixes is None or p.suffix in suffixes)
    )


def package_hash(sources: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def build_package(sources: list[Path], build_dir: Path) -> Path:
    """``build_dir/{hash}`` holding ``sources`` at their paths relative to the repository."""
    if not sources:
        raise ValueError("a package needs at least one source file")
    target = build_dir / package_hash(sources)[:16]
    if target.is_dir():
        return target
    build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=build_dir))
    for path in sources:
        destination = staging / path.relative_to(REPO_ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    try:
        staging.replace(target)
    except OSError:  # another synth built the same folder first
        shutil.rmtree(staging, ignore_errors=True)
    return target
