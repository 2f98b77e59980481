"""Slotwise: the shared package every Lambda function imports (shipped as the Lambda layer)."""

__version__ = "0.1.0"
