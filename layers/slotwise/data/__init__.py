"""Generic DynamoDB access: the table name, error translation, the codec, cursors, the table probe.

AWS clients are called only here, in one store module per domain (`<domain>/store.py` or `<domain>/repository.py`,
which owns that domain's keys, requests and DynamoDB calls) and in named adapters for the other services (event bus
publisher, mail sender, queue senders, secret readers). `tests/unit/test_layering.py` lists them and enforces it.
"""
