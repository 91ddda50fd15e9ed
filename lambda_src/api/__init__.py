"""The HTTP API: one FastAPI app served by Lambda (through Mangum) and by uvicorn locally."""
