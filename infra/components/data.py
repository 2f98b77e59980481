"""The data concern: the single DynamoDB table, shaped entirely by `TableSpec` so AWS and the local provisioner
agree. On-demand, point-in-time recovery, stream on (the outbox reads it), TTL attribute, and in prod deletion
protection plus RETAIN so neither a mistaken `cdk destroy` nor a replacement can drop bookings."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from slotwise.topology import TableSpec


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class SlotwiseData(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, spec: TableSpec, protect: bool) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=_string_key(spec.partition_key),
            sort_key=_string_key(spec.sort_key),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_string_key(index.partition_key),
                    sort_key=_string_key(index.sort_key),
                    # Overloaded indexes serve several access patterns; a narrower projection would need a second
                    # read.
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index in spec.global_indexes
            ],
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType[spec.stream_view],
            time_to_live_attribute=spec.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
            ),
            deletion_protection=protect,
            removal_policy=RemovalPolicy.RETAIN if protect else RemovalPolicy.DESTROY,
        )

    @property
    def index_names(self) -> list[str]:
        return [index.name for index in self.spec.global_indexes]
