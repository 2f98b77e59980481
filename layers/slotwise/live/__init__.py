"""Live push over WebSocket: connections, subscriptions and the fan-out of domain events (docs/live.md).

store      the connection, per-user and subscription items in the single table (every DynamoDB call)
push       the API Gateway Management API adapter (`post_to_connection`)
messages   which events reach whom, and the messages pushed (plain functions)
gateway    API Gateway WebSocket events in, route answers out, errors mapped in one place
service    connect, disconnect, subscribe, unsubscribe, and delivering one event
"""
