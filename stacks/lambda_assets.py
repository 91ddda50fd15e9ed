"""A Lambda function's code asset, laid out without Docker and without the CDK (the
benchmarks build the same layout): ``lambda_src/common`` + ``lambda_src/<package>`` (so
imports read ``lambda_src.<package>...`` in Lambda exactly as in tests) plus the package's
pinned requirements, installed as manylinux aarch64 wheels and cached per requirements
hash under ``.build/`` so repeated synths do not reach PyPI again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
CACHE_DIR = REPO_ROOT / ".build" / "lambda-deps"
LAMBDA_PYTHON = "3.12"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "README.md")
# Changes when the asset's layout changes without its sources (2: no .pyc files in it;
# 3: manylinux_2_28 wheels accepted).
_LAYOUT = "3"


def source_hash(package: str) -> str:
    digest = hashlib.sha256()
    for root in (LAMBDA_SRC / "common", LAMBDA_SRC / package):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(LAMBDA_SRC)).encode())
                digest.update(path.read_bytes())
    digest.update(LAMBDA_PYTHON.encode())
    digest.update(_LAYOUT.encode())
    return digest.hexdigest()


def install_requirements(
    requirements: Path, *, extra: tuple[str, ...] = (), here: bool = False
) -> Path | None:
    """``requirements`` (and ``extra`` pins) installed into a cached folder: manylinux
    aarch64 wheels for the Lambda runtime, or with ``here`` wheels for this interpreter
    (benchmarks import the asset's packages, which Lambda's wheels cannot be here)."""
    if not requirements.exists() or not requirements.read_text().strip():
        return None
    platform = f"{sys.version_info.major}.{sys.version_info.minor}-here" if here else LAMBDA_PYTHON + _LAYOUT
    key = hashlib.sha256(requirements.read_bytes() + " ".join(extra).encode() + platform.encode()).hexdigest()
    target = CACHE_DIR / key[:16]
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        lambda_wheels = [
            # pip would compile bytecode for the interpreter running it (3.11 here), which
            # the 3.12 runtime cannot use: it only made the asset larger.
            "--no-compile",
            "--platform",
            "manylinux2014_aarch64",
            # numpy 2.x ships manylinux_2_28 wheels only; Lambda's AL2023 runtime has glibc 2.34.
            "--platform",
            "manylinux_2_28_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON,
        ]
        subprocess.run(  # noqa: S603 - fixed arguments, pinned requirements file
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(requirements),
                *extra,
                "--target",
                str(target),
                "--only-binary=:all:",
                *([] if here else lambda_wheels),
            ],
            check=True,
        )
        (target / ".complete").touch()
    return target


def assemble(package: str, out: Path, deps: Path | None) -> None:
    """Lay out a function's asset in ``out``: its installed requirements, then
    ``lambda_src/common`` and ``lambda_src/<package>`` (sources only)."""
    if deps is not None:
        shutil.copytree(deps, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    (out / "lambda_src").mkdir(parents=True, exist_ok=True)
    shutil.copy2(LAMBDA_SRC / "__init__.py", out / "lambda_src" / "__init__.py")
    for name in ("common", package):
        shutil.copytree(LAMBDA_SRC / name, out / "lambda_src" / name, ignore=_IGNORE, dirs_exist_ok=True)
