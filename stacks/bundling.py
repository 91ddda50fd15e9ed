"""Lambda code assets bundled without Docker.

A function's asset is ``lambda_src/common`` + ``lambda_src/<package>`` (so imports read
``lambda_src.<package>...`` in Lambda exactly as in tests) plus the package's pinned
requirements installed as manylinux aarch64 wheels. The installed wheels are cached per
requirements hash under ``.build/`` so repeated synths do not reach PyPI again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from stacks.config import REPO_ROOT

LAMBDA_SRC = REPO_ROOT / "lambda_src"
CACHE_DIR = REPO_ROOT / ".build" / "lambda-deps"
LAMBDA_PYTHON = "3.12"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "README.md")


def _source_hash(package: str) -> str:
    digest = hashlib.sha256()
    for root in (LAMBDA_SRC / "common", LAMBDA_SRC / package):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(LAMBDA_SRC)).encode())
                digest.update(path.read_bytes())
    digest.update(LAMBDA_PYTHON.encode())
    return digest.hexdigest()


def _install_requirements(requirements: Path) -> Path | None:
    if not requirements.exists() or not requirements.read_text().strip():
        return None
    key = hashlib.sha256(requirements.read_bytes() + LAMBDA_PYTHON.encode()).hexdigest()[:16]
    target = CACHE_DIR / key
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
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
                "--target",
                str(target),
                "--platform",
                "manylinux2014_aarch64",
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                LAMBDA_PYTHON,
            ],
            check=True,
        )
        (target / ".complete").touch()
    return target


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(self, package: str) -> None:
        self.package = package

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        out = Path(output_dir)
        deps = _install_requirements(LAMBDA_SRC / self.package / "requirements.txt")
        if deps is not None:
            shutil.copytree(deps, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
        (out / "lambda_src").mkdir(exist_ok=True)
        shutil.copy2(LAMBDA_SRC / "__init__.py", out / "lambda_src" / "__init__.py")
        for name in ("common", self.package):
            shutil.copytree(LAMBDA_SRC / name, out / "lambda_src" / name, ignore=_IGNORE)
        return True


def python_lambda_code(package: str) -> lambda_.Code:
    """The code asset of ``lambda_src/<package>``; handler ``lambda_src.<package>.handler.handler``."""
    if not (LAMBDA_SRC / package).is_dir():
        raise FileNotFoundError(f"no Lambda package at {LAMBDA_SRC / package}")
    return lambda_.Code.from_asset(
        str(LAMBDA_SRC),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=_source_hash(package),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=_LocalBundling(package),  # type: ignore[arg-type]  # jsii passes options positionally
        ),
    )


def handler_path(package: str) -> str:
    return f"lambda_src.{package}.handler.handler"
