"""Lambda code assets bundled without Docker: the CDK side of ``stacks/lambda_assets.py``
(which lays the asset out) with a local bundling step and a source hash as asset hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from stacks.lambda_assets import LAMBDA_SRC, assemble, install_requirements, source_hash

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(self, package: str) -> None:
        self.package = package

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        assemble(
            self.package,
            Path(output_dir),
            install_requirements(LAMBDA_SRC / self.package / "requirements.txt"),
        )
        return True


def python_lambda_code(package: str) -> lambda_.Code:
    """The code asset of ``lambda_src/<package>``; handler ``lambda_src.<package>.handler.handler``."""
    if not (LAMBDA_SRC / package).is_dir():
        raise FileNotFoundError(f"no Lambda package at {LAMBDA_SRC / package}")
    return lambda_.Code.from_asset(
        str(LAMBDA_SRC),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(package),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=_LocalBundling(package),  # type: ignore[arg-type]  # jsii passes options positionally
        ),
    )


def handler_path(package: str) -> str:
    return f"lambda_src.{package}.handler.handler"
