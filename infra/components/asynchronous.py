"""The async concern: the event bus, rules routing events to SQS work queues, queue consumers and scheduled jobs.

Every path that can lose a message ends in a dead-letter queue: work queues redrive to theirs after
`max_receive_count` receives, each rule target has one for events EventBridge could not deliver, and each
schedule has one for runs Scheduler could not start. Built in two steps, because the functions need the bus
before they exist and the consumers and jobs need the functions: construct, then `attach(functions)`.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import DynamoEventSource, SqsDlq, SqsEventSource
from constructs import Construct

from infra.components.naming import pascal, stage_name
from infra.components.queues import DLQ_RETENTION, QueueWithDlq, acknowledge_dead_letter_queue, secure_queue
from infra.components.schedule import GroupSchedule
from slotwise.topology import Topology

# EventBridge's own default retry policy, written out: retry for a day, then dead-letter the event.
RULE_TARGET_RETRY_ATTEMPTS = 185
RULE_TARGET_MAX_EVENT_AGE = Duration.hours(24)


class SlotwiseAsync(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        stage: str,
        consumer_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topology = topology
        self._stage = stage
        self.event_bus = events.EventBus(self, "EventBus", event_bus_name=stage_name(topology.event_bus_name, stage))

        self.queues: dict[str, QueueWithDlq] = {}
        for spec in topology.queues:
            self.queues[spec.name] = QueueWithDlq(
                self,
                f"{pascal(spec.name)}Queue",
                spec=spec,
                queue_name=stage_name(spec.name, stage),
                dlq_name=stage_name(spec.dlq_name, stage),
                consumer_timeout=consumer_timeout,
            )

        self.rules: dict[str, events.Rule] = {}
        self.rule_dlqs: dict[str, sqs.Queue] = {}
        for rule in topology.rules:
            dlq = secure_queue(
                self,
                f"{pascal(rule.name)}RuleDeadLetterQueue",
                queue_name=stage_name(f"{rule.name}-rule-dlq", stage),
                retention=DLQ_RETENTION,
            )
            acknowledge_dead_letter_queue(dlq, f"of the '{rule.name}' rule's SQS target")
            self.rule_dlqs[rule.name] = dlq
            self.rules[rule.name] = events.Rule(
                self,
                f"{pascal(rule.name)}Rule",
                rule_name=stage_name(rule.name, stage),
                event_bus=self.event_bus,
                event_pattern=events.EventPattern(source=list(rule.sources), detail_type=list(rule.detail_types)),
                targets=[
                    events_targets.SqsQueue(
                        self.queues[rule.target_queue].queue,
                        dead_letter_queue=dlq,
                        retry_attempts=RULE_TARGET_RETRY_ATTEMPTS,
                        max_event_age=RULE_TARGET_MAX_EVENT_AGE,
                    )
                ],
            )

        # One group per stage keeps the jobs of dev and prod apart in the console and in Scheduler's metrics. It
        # holds only this stack's schedules, so it goes with the stack (CDK's default would orphan it).
        self.schedule_group = scheduler.ScheduleGroup(
            self,
            "ScheduleGroup",
            schedule_group_name=stage_name("slotwise", stage),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.schedules: dict[str, GroupSchedule] = {}
        self.stream_dlqs: dict[str, sqs.Queue] = {}

    def attach(self, functions: Mapping[str, lambda_.IFunction], table: dynamodb.ITable) -> None:
        """Give each queue its consumer, each schedule its function, and the table's stream its consumers.

        `functions` are what gets invoked: each group's `live` alias (SnapStart restores published versions only).
        """
        for consumer in self._topology.stream_consumers:
            dlq = secure_queue(
                self,
                f"{pascal(consumer.consumer_group)}StreamDeadLetterQueue",
                queue_name=stage_name(consumer.dlq_name, self._stage),
                retention=DLQ_RETENTION,
            )
            acknowledge_dead_letter_queue(dlq, f"of the table stream's '{consumer.consumer_group}' consumer")
            self.stream_dlqs[consumer.consumer_group] = dlq
            # Only changes of domain aggregates invoke the publisher; everything else is filtered out by Lambda.
            changes = lambda_.FilterCriteria.filter(
                {
                    "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
                    "dynamodb": {"Keys": {"SK": {"S": lambda_.FilterRule.or_(*consumer.sort_keys)}}},
                }
            )
            functions[consumer.consumer_group].add_event_source(
                DynamoEventSource(
                    table,
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=consumer.batch_size,
                    bisect_batch_on_error=True,
                    retry_attempts=consumer.max_retries,
                    max_record_age=Duration.seconds(consumer.max_record_age_seconds),
                    report_batch_item_failures=True,
                    on_failure=SqsDlq(dlq),
                    filters=[changes],
                )
            )
        for queue in self._topology.queues:
            # Partial batch responses: one poison message must not send its healthy batch-mates to retry.
            functions[queue.consumer_group].add_event_source(
                SqsEventSource(
                    self.queues[queue.name].queue, batch_size=queue.batch_size, report_batch_item_failures=True
                )
            )
        for spec in self._topology.schedules:
            self.schedules[spec.name] = GroupSchedule(
                self,
                f"{pascal(spec.name)}Schedule",
                spec=spec,
                schedule_name=stage_name(spec.name, self._stage),
                dlq_name=stage_name(f"{spec.name}-schedule-dlq", self._stage),
                function=functions[spec.group],
                group=self.schedule_group,
            )

    @property
    def dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        """Every DLQ of the stack by a readable name, for alarms and the dashboard."""
        found: dict[str, sqs.IQueue] = {f"{name} queue": queue.dlq for name, queue in self.queues.items()}
        found.update({f"{name} rule target": dlq for name, dlq in self.rule_dlqs.items()})
        found.update({f"{name} schedule": built.dlq for name, built in self.schedules.items()})
        found.update({f"{name} stream consumer": dlq for name, dlq in self.stream_dlqs.items()})
        return found
