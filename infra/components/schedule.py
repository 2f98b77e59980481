"""A recurring job: an EventBridge Scheduler schedule invoking a group's function, failures kept in a DLQ."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from infra.components.queues import acknowledge_dead_letter_queue, secure_queue
from slotwise.topology import ScheduleSpec

_DLQ_RETENTION = Duration.days(14)
_RETRY_ATTEMPTS = 2
# Scheduler refuses a maximum event age under one minute or over a day.
_MIN_EVENT_AGE_SECONDS = 60
_MAX_EVENT_AGE_SECONDS = 24 * 60 * 60


class GroupSchedule(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ScheduleSpec,
        schedule_name: str,
        dlq_name: str,
        function: lambda_.IFunction,
        group: scheduler.IScheduleGroup | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.function = function
        self.dlq = secure_queue(self, "DeadLetterQueue", queue_name=dlq_name, retention=_DLQ_RETENTION)
        acknowledge_dead_letter_queue(self.dlq, f"of the '{spec.name}' schedule's Lambda target")
        # The role Scheduler assumes for this schedule only: invoke this function, write this DLQ. Only this
        # account's Scheduler may assume it (confused-deputy guard).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"EventBridge Scheduler: run the '{spec.name}' job",
        )
        # Retrying a run once the next one is due only queues duplicate work, so the event expires by then.
        max_event_age = min(max(spec.every_seconds, _MIN_EVENT_AGE_SECONDS), _MAX_EVENT_AGE_SECONDS)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=schedule_name,
            schedule_group=group,
            description=spec.description or None,
            schedule=scheduler.ScheduleExpression.expression(spec.rate_expression),
            target=scheduler_targets.LambdaInvoke(
                function,
                role=self.role,
                dead_letter_queue=self.dlq,
                retry_attempts=_RETRY_ATTEMPTS,
                max_event_age=Duration.seconds(max_event_age),
            ),
        )
        # `function` is the group's `live` alias (SnapStart): the invoke grant names that alias's ARN alone, with
        # no `<function ARN>:*` wildcard to acknowledge.
