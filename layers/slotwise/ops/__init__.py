"""Operators' tools: queue depths, dead-letter queues and their redrive, event replay from the table's stream, and
the bookings export. The admin routes (`GET /admin/queues`, `POST /admin/queues/{name}/redrive`) and the `slotwise`
CLI (`infra/cli`, docs/cli.md) both call these modules; the SQS and stream calls live in the adapters `queue` and
`stream`."""
