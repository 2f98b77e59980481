"""Data access: the only layer that talks to DynamoDB (and, through adapters, to other AWS services)."""
