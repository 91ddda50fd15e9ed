"""Everything the API reads from its environment, validated once at start-up."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class AuthMode(StrEnum):
    # API Gateway's JWT authorizer has verified the token; read the claims it passes on.
    APIGW = "apigw"
    # No authorizer in front (local mode): verify the bearer ID token here.
    VERIFY = "verify"


class Settings(BaseSettings):
    """Environment variables, e.g. ``TABLE_NAME``, ``AUTH_MODE`` (case-insensitive)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    table_name: str
    uploads_bucket: str
    lake_bucket: str
    ingest_queue_url: str

    auth_mode: AuthMode = AuthMode.APIGW
    # verify mode: the pool's issuer (as written in the tokens), where its keys are
    # served (moto serves them on its own endpoint, not the issuer's), and the app
    # client id the tokens must be issued for.
    cognito_issuer: str | None = None
    cognito_jwks_url: str | None = None
    cognito_client_id: str | None = None

    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Endpoint the API itself calls (moto in local mode); None = the real AWS endpoints.
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    # Endpoint written into URLs handed to the browser; defaults to the internal one.
    s3_public_endpoint_url: str | None = None

    # Browser origins allowed to call the API directly (local development); empty in AWS,
    # where the web app and /api share one origin. JSON list or comma-separated.
    cors_origins: tuple[str, ...] = ()

    max_upload_bytes: int = Field(default=20 * MB, gt=0)
    upload_url_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    image_url_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    # Leeway for clocks that disagree by a few seconds (verify mode).
    jwt_leeway_seconds: int = Field(default=5, ge=0, le=300)

    @model_validator(mode="after")
    def _verify_mode_needs_pool(self) -> Settings:
        if self.auth_mode is AuthMode.VERIFY:
            missing = [
                name
                for name in ("cognito_issuer", "cognito_jwks_url", "cognito_client_id")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"AUTH_MODE=verify needs {', '.join(m.upper() for m in missing)}")
        return self

    @property
    def public_s3_endpoint(self) -> str | None:
        return self.s3_public_endpoint_url or self.aws_endpoint_url
