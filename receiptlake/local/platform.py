"""The whole platform on one machine: moto as AWS, the API and web app on one port, the
ingest worker, local OCR. Used by `receiptlake local up` and the end-to-end tests."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receiptlake.local.moto_server import LocalAws
from receiptlake.local.provision import LocalResources, provision
from receiptlake.local.running import RunningLocalMode, announce, withdraw
from receiptlake.local.seed import seed
from receiptlake.local.state import LocalState
from receiptlake.local.users import LocalUser, create_user, generate_password
from receiptlake.local.worker import IngestWorker

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".local" / "state"
DEFAULT_DIST = REPO_ROOT / "webapp" / "dist"
DEMO_EMAIL = "demo@receiptlake.local"
GUEST_EMAIL = "guest@receiptlake.local"
log = logging.getLogger("receiptlake.local")


@dataclass
class LocalPlatform:
    port: int = 8000
    state_dir: Path = DEFAULT_STATE_DIR
    dist: Path | None = DEFAULT_DIST
    seed_samples: bool = True
    aws_port: int = 0
    host: str = "127.0.0.1"
    aws: LocalAws | None = None
    resources: LocalResources | None = None
    worker: IngestWorker | None = None
    users: list[LocalUser] = field(default_factory=list)
    restored: dict[str, int] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalPlatform:
        """Start moto, provision, restore or create users and samples, start the worker."""
        self.aws = LocalAws(port=self.aws_port, host=self.host).start()
        origins = [self.url, f"http://localhost:{self.port}"]
        self.resources = provision(self.aws.endpoint, web_origins=origins)
        self._configure_environment(self.resources)
        state = LocalState(self.state_dir)
        if state.exists():
            self.users, self.restored = state.restore(self.resources)
        else:
            self.users = [
                create_user(self.resources, DEMO_EMAIL, generate_password()),
                create_user(self.resources, GUEST_EMAIL, generate_password()),
            ]
            if self.seed_samples:
                seed(self.resources, self.users[0].sub)
        self.worker = IngestWorker(self.resources).start()
        announce(
            self.state_dir,
            RunningLocalMode(
                endpoint=self.resources.endpoint,
                region=self.resources.region,
                table=self.resources.names.table,
                lake_bucket=self.resources.names.lake_bucket,
                pid=os.getpid(),
            ),
        )
        return self

    def _configure_environment(self, resources: LocalResources) -> None:
        # The Lambda handlers read their settings from the environment, as in AWS; this
        # process is theirs alone, so local mode sets it once here.
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": resources.endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": resources.region,
                "AWS_DEFAULT_REGION": resources.region,
                "TABLE_NAME": resources.names.table,
                "LAKE_BUCKET": resources.names.lake_bucket,
                # Ingest reads the categorizer `receiptlake local train` promoted, if any.
                "MODELS_BUCKET": resources.names.models_bucket,
                "OCR_ENGINE": "local",
                "POWERTOOLS_SERVICE_NAME": "receiptlake-local",
                "POWERTOOLS_METRICS_NAMESPACE": "receiptlake-local",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )

    def web_config(self) -> dict[str, Any]:
        """The same keys the hosted app's config.json has, plus the local Cognito endpoint."""
        assert self.resources is not None
        return {
            "apiBase": "/api",
            "region": self.resources.region,
            "userPoolId": self.resources.user_pool_id,
            "userPoolClientId": self.resources.app_client_id,
            "cognitoEndpoint": self.resources.endpoint,
            "environment": "local",
        }

    def asgi_app(self) -> Any:
        from lambda_src.api.app import create_app
        from lambda_src.api.settings import AuthMode, Settings
        from receiptlake.local.web import LocalWebApp

        assert self.resources is not None
        r = self.resources
        settings = Settings(
            table_name=r.names.table,
            uploads_bucket=r.names.uploads_bucket,
            lake_bucket=r.names.lake_bucket,
            ingest_queue_url=r.queue_url,
            auth_mode=AuthMode.VERIFY,
            cognito_issuer=r.issuer,
            cognito_jwks_url=r.jwks_url,
            cognito_client_id=r.app_client_id,
            aws_region=r.region,
            aws_endpoint_url=r.endpoint,
            s3_public_endpoint_url=r.endpoint,
        )
        return LocalWebApp(create_app(settings), self.web_config(), self.dist)

    def serve(self) -> None:
        """Serve until Ctrl-C (or SIGTERM), then stop everything and save the state."""
        import uvicorn

        config = uvicorn.Config(
            self.asgi_app(), host=self.host, port=self.port, log_level="warning", lifespan="off"
        )
        # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal with
        # the previous handler in place: make both end here, so the state is always saved.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            uvicorn.Server(config).run()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> dict[str, int] | None:
        saved = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        withdraw(self.state_dir)
        if self.aws is not None and self.resources is not None:
            saved = LocalState(self.state_dir).save(self.resources, self.users)
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
        return saved


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
