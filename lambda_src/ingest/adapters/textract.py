"""Textract AnalyzeExpense behind a Protocol, with a rate limit and backoff.

``ExpenseAnalyzer`` is all ingest needs; the local OCR (receiptlake.reader.LocalTextract)
implements it too. ``AsyncExpenseAnalyzer`` adds StartExpenseAnalysis for multi-page PDFs.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from botocore.exceptions import ClientError

T = TypeVar("T")

# Worth waiting for: the quota refills, the service recovers.
RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "LimitExceededException",  # too many concurrent async jobs
    }
)
THROTTLES = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException"}
)

# Textract's verdicts on the document itself: retrying cannot help; the person can.
DOCUMENT_ERRORS: dict[str, str] = {
    "UnsupportedDocumentException": (
        "The receipt could not be read: the file format is not supported. Upload a JPEG, PNG, TIFF or PDF."
    ),
    "BadDocumentException": (
        "The receipt could not be read: the file looks damaged. "
        "Take the photo again or export the PDF again, then upload it."
    ),
    "DocumentTooLargeException": (
        "The receipt is too large to read: upload a smaller photo or a PDF under 10 MB."
    ),
    "InvalidS3ObjectException": "The uploaded file could not be found: upload it again.",
}


@runtime_checkable
class ExpenseAnalyzer(Protocol):
    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        """An AnalyzeExpense-shaped response for one document."""
        ...


@runtime_checkable
class AsyncExpenseAnalyzer(Protocol):
    def start_expense_analysis(self, bucket: str, key: str, *, job_tag: str) -> str:
        """Start reading a multi-page document in S3; returns the job id. Starting the same
        job_tag twice returns the same job (the tag is the idempotency token)."""
        ...

    def get_expense_analysis(self, job_id: str) -> dict[str, Any]:
        """The finished job's output, every page of it, as one response."""
        ...


class TextractUnavailable(Exception):
    """Textract kept throttling or failing; the message should be retried later."""


class DocumentRejected(Exception):
    """Textract refused the document; ``reason`` is for the person, ``code`` for metrics."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class RateLimiter:
    """A token bucket: at most ``rate`` calls per second on average, ``burst`` at once.

    Each worker gets the environment's Textract TPS divided by the number of workers the
    event source mapping may run (its maximum concurrency), so together they never exceed it.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
    and Jitter"): many workers throttled at once spread out instead of retrying together."""

    def __init__(
        self,
        *,
        attempts: int = 6,
        base: float = 0.25,
        cap: float = 8.0,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.attempts = attempts
        self.base = base
        self.cap = cap
        # Looked up at call time so a test can speed time up for the whole process.
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not crypto

    def run(self, call: Callable[[], T], *, on_retry: Callable[[str], None] | None = None) -> T:
        for attempt in range(self.attempts):
            try:
                return call()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in DOCUMENT_ERRORS:
                    raise DocumentRejected(code, DOCUMENT_ERRORS[code]) from exc
                if code not in RETRYABLE:
                    raise
                if on_retry is not None:
                    on_retry(code)
                if attempt == self.attempts - 1:
                    raise TextractUnavailable(
                        f"Textract still answering {code} after {self.attempts} tries"
                    ) from exc
                self._sleep(self._rng.uniform(0, min(self.cap, self.base * 2**attempt)))
        raise AssertionError("unreachable")


class BotoTextract:
    """The real service. Retries are ours (botocore's are switched off in the client
    factory) so that every call, retried or not, passes the rate limiter."""

    def __init__(
        self,
        client: Any,
        *,
        limiter: RateLimiter,
        backoff: Backoff | None = None,
        on_throttle: Callable[[str], None] | None = None,
        sns_topic_arn: str | None = None,
        role_arn: str | None = None,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.backoff = backoff or Backoff()
        self.on_throttle = on_throttle
        self.sns_topic_arn = sns_topic_arn
        self.role_arn = role_arn

    def _call(self, method: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            self.limiter.acquire()
            return method(**kwargs)

        return self.backoff.run(once, on_retry=self.on_throttle)

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        return self._call(self.client.analyze_expense, Document={"Bytes": document_bytes})

    def start_expense_analysis(self, bucket: str, key: str, *, job_tag: str) -> str:
        if not (self.sns_topic_arn and self.role_arn):
            raise RuntimeError("StartExpenseAnalysis needs an SNS topic and a role")
        response = self._call(
            self.client.start_expense_analysis,
            DocumentLocation={"S3Object": {"Bucket": bucket, "Name": key}},
            ClientRequestToken=job_tag,
            JobTag=job_tag,
            NotificationChannel={"SNSTopicArn": self.sns_topic_arn, "RoleArn": self.role_arn},
        )
        return str(response["JobId"])

    def get_expense_analysis(self, job_id: str) -> dict[str, Any]:
        documents: list[Any] = []
        kwargs: dict[str, Any] = {"JobId": job_id, "MaxResults": 20}
        first: dict[str, Any] = {}
        while True:
            page = self._call(self.client.get_expense_analysis, **kwargs)
            first = first or page
            documents.extend(page.get("ExpenseDocuments") or [])
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
        merged = {k: v for k, v in first.items() if k not in ("NextToken", "ResponseMetadata")}
        merged["ExpenseDocuments"] = documents
        return merged
