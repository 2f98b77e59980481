"""The local runtime: DynamoDB Local, a moto server, an HTTP front that speaks API Gateway HTTP API (payload 2.0)
to the real handlers, SQS consumers and scheduled jobs. What `make dev` runs."""
