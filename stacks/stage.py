"""One environment of receiptlake: every layer's stack, wired together here."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from stacks.api_stack import ApiStack
from stacks.config import PROJECT, EnvConfig
from stacks.edge_stack import EDGE_REGION, EdgeStack
from stacks.etl_stack import EtlStack
from stacks.hosting_stack import HostingStack
from stacks.ingest_stack import IngestStack
from stacks.monitoring_stack import MonitoringStack, Watched
from stacks.storage_stack import StorageStack
from stacks.training_stack import TrainingStack


class ReceiptlakeStage(Stage):
    def __init__(self, scope: Construct, id_: str, *, config: EnvConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id_,
            env=Environment(account=config.account, region=config.region),
            **kwargs,
        )
        self.config = config
        Tags.of(self).add("project", PROJECT)
        Tags.of(self).add("environment", config.name)
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)

        storage = self.storage = self._layer("storage", StorageStack)
        self.ingest = self._layer(
            "ingest",
            IngestStack,
            table=storage.table,
            key=storage.key,
            lake_bucket=storage.lake_bucket,
            access_logs_bucket=storage.access_logs_bucket,
            models_bucket=storage.models_bucket,
        )
        self.api = self._layer(
            "api",
            ApiStack,
            table=storage.table,
            key=storage.key,
            uploads_bucket=self.ingest.uploads_bucket,
            lake_bucket=storage.lake_bucket,
            ingest_queue=self.ingest.queue,
            access_logs_bucket=storage.access_logs_bucket,
        )
        self.etl = self._layer(
            "etl",
            EtlStack,
            table=storage.table,
            key=storage.key,
            lake_bucket=storage.lake_bucket,
        )
        self.training = self._layer(
            "training",
            TrainingStack,
            table=storage.table,
            key=storage.key,
            lake_bucket=storage.lake_bucket,
            models_bucket=storage.models_bucket,
        )
        # CloudFront's web ACL must live in us-east-1: a small edge stack there, read by
        # the hosting stack through a cross-region reference. None where WAF is off.
        self.edge = (
            self._layer("edge", EdgeStack, env=Environment(account=config.account, region=EDGE_REGION))
            if config.waf_enabled
            else None
        )
        self.hosting = self._layer(
            "hosting",
            HostingStack,
            http_api=self.api.http_api,
            user_pool=self.api.user_pool,
            user_pool_client=self.api.user_pool_client,
            access_logs_bucket=storage.access_logs_bucket,
            uploads_bucket=self.ingest.uploads_bucket,
            web_acl_arn=self.edge.web_acl_arn if self.edge else None,
            cross_region_references=self.edge is not None,
        )
        # Last: it watches the layers above.
        self.monitoring = self._layer(
            "monitoring",
            MonitoringStack,
            watched=Watched(
                table=storage.table,
                data_key=storage.key,
                uploads_bucket=self.ingest.uploads_bucket,
                ingest_function=self.ingest.function,
                ingest_queue=self.ingest.queue,
                ingest_dlq=self.ingest.dlq,
                ingest_messages_key=self.ingest.messages_key,
                api_function=self.api.function,
                http_api=self.api.http_api,
                distribution=self.hosting.distribution,
                etl_job_name=self.etl.job_name,
                training_group_name=self.training.group_name,
            ),
        )

    def _layer(self, layer: str, stack_class: type, **props: Any) -> Any:
        stack = stack_class(
            self,
            layer,
            stack_name=self.config.stack_name(layer),
            config=self.config,
            description=f"receiptlake {self.config.name}: {layer} layer",
            **props,
        )
        Tags.of(stack).add("layer", layer)
        return stack
