"""The model: plain domain types and rules (no AWS, and no pydantic but the request shapes)."""
