"""The single DynamoDB table, shaped entirely by `TableSpec` so AWS and the local provisioner agree."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from slotwise.topology import TableSpec


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def single_table(scope: Construct, construct_id: str, spec: TableSpec, *, protect: bool) -> dynamodb.TableV2:
    """The table; `protect` is for data that must survive a mistaken `cdk destroy` or stack replacement."""
    return dynamodb.TableV2(
        scope,
        construct_id,
        partition_key=_string_key(spec.partition_key),
        sort_key=_string_key(spec.sort_key),
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                # Overloaded indexes serve several access patterns; a narrower projection would need a second read.
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
