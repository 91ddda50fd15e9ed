"""The training layer: categorizer, forecasts and anomalies (see ml/README.md)."""
