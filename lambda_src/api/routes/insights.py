"""Forecasts and anomalies from the latest training run."""

from __future__ import annotations

from fastapi import APIRouter

from lambda_src.api.context import AppDeps, CurrentUser
from lambda_src.api.insights import read_insights
from lambda_src.api.problems import PROBLEM_RESPONSES
from lambda_src.api.schemas import InsightsResponse

router = APIRouter(prefix="/api", tags=["insights"], responses=PROBLEM_RESPONSES)


@router.get("/insights", response_model=InsightsResponse, summary="Latest forecasts and anomalies")
def insights(caller: CurrentUser, deps: AppDeps) -> InsightsResponse:
    return read_insights(deps.dynamodb, deps.settings.table_name, caller.sub)
