"""Lambda entry point: SQS batches of S3 upload events (and Textract job completions)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_src.ingest import wiring
from lambda_src.ingest.logic import process_sqs_message
from lambda_src.ingest.observability import logger, metrics, tracer

# A batch whose every record failed is reported like any other (each message retried on its
# own schedule) instead of failing the invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def ingest_record(record: SQSRecord) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    process_sqs_message(record.body, wiring.aws_deps(), receive_count=receive_count)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=ingest_record, processor=processor, context=context
    )
