"""The ops concern: one SNS topic every alarm notifies (ALARM and back to OK), the alarms, and one dashboard.

Alarms: the API's 5xx rate; each function's Errors and Throttles; each dead-letter queue holding any message;
DynamoDB throttle events on the table and its indexes; each scheduled job failing repeatedly or not running.
Reminders and completions run in the booking-timers job, which has the same failing/not-running alarms as every
job; how late a single reminder goes out is not measured yet (a lag metric from the timers index would be next).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.nag import acknowledge
from infra.components.naming import pascal, stage_name
from infra.components.schedule import GroupSchedule

PERIOD = Duration.minutes(5)
# The share of API requests answered 5xx (percent) that, in 2 of 3 five-minute periods, pages someone.
API_5XX_RATE_PERCENT = 5
# Throttle events on the table or an index, in 2 of 3 five-minute periods: sustained, not one burst that the
# SDK's retries absorbed.
DYNAMODB_THROTTLE_EVENTS = 1
# Sign-ins refused because one source address tried too many accounts (slotwise.identity.throttle, EMF metric of
# the auth function): a few are a user with a password manager gone wrong, this many in a period is a spray.
LOGIN_SPRAY_REFUSALS = 20
METRICS_NAMESPACE = "Slotwise"  # slotwise.observability's EMF namespace; the service dimension is "slotwise"
# A job alarms when it failed in this many of its last runs (over JOB_WINDOW_RUNS runs), or did not run at all.
JOB_FAILED_RUNS = 3
JOB_WINDOW_RUNS = 5
# CloudWatch metric math takes at most 10 metrics per expression.
_MAX_METRICS_PER_EXPRESSION = 10
_MAX_PERIOD_SECONDS = 24 * 60 * 60
_DASHBOARD_WIDTH = 24


@dataclass(frozen=True)
class Monitored:
    """What the ops construct watches, handed over by the stack."""

    api: apigwv2.HttpApi
    functions: Mapping[str, lambda_.IFunction]
    table: dynamodb.TableV2
    index_names: Sequence[str]
    work_queues: Mapping[str, sqs.IQueue]
    dead_letter_queues: Mapping[str, sqs.IQueue]
    schedules: Mapping[str, GroupSchedule]


class SlotwiseOps(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        monitored: Monitored,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=stage_name("slotwise-alarms", stage),
            display_name=f"Slotwise {stage} alarms",
            enforce_ssl=True,
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm notifications carry alarm names and metric states only, no customer data. CloudWatch cannot "
            "publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key would add a key "
            "policy granting cloudwatch.amazonaws.com for no confidentiality gain.",
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        m = monitored
        self._api_alarms(m.api)
        for group, function in sorted(m.functions.items()):
            self._function_alarms(group, function)
        for name, queue in sorted(m.dead_letter_queues.items()):
            self._alarm(
                f"{pascal(name)}DlqNotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=1,
                description=f"Messages reached the dead-letter queue of the {name}: inspect them and redrive.",
            )
        self._alarm(
            "TableThrottled",
            _throttle_events(m.table, ()),
            threshold=DYNAMODB_THROTTLE_EVENTS,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="Read or write throttle events on the table itself (hot slot keys, a hot counter).",
        )
        for name, indexes in _index_alarm_groups(m.index_names):
            self._alarm(
                name,
                _throttle_events(m.table, indexes, with_table=False),
                threshold=DYNAMODB_THROTTLE_EVENTS,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                description=f"Read or write throttle events on the global secondary indexes {', '.join(indexes)} "
                "(an index that cannot keep up with writes throttles the table's writes too).",
            )
        self._alarm(
            "LoginSpraySuspected",
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="LoginSpraySuspected",
                dimensions_map={"service": "slotwise"},
                period=PERIOD,
                statistic="Sum",
            ),
            threshold=LOGIN_SPRAY_REFUSALS,
            description=f"At least {LOGIN_SPRAY_REFUSALS} sign-ins in a period were refused because their source "
            "address tried too many accounts (password spraying or credential stuffing).",
        )
        for name, schedule in sorted(m.schedules.items()):
            self._job_alarms(name, schedule)
        self.dashboard = self._dashboard(m)

    # --- alarms ------------------------------------------------------------------------------------------------

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"slotwise-{self._stage}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm
        return alarm

    def _api_alarms(self, api: apigwv2.HttpApi) -> None:
        self._alarm(
            "Api5xxRate",
            _api_5xx_rate(api),
            threshold=API_5XX_RATE_PERCENT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=f"More than {API_5XX_RATE_PERCENT}% of API requests answered 5xx in 2 of 3 five-minute "
            "periods: see the access logs and the functions' error alarms.",
        )

    def _function_alarms(self, group: str, function: lambda_.IFunction) -> None:
        self._alarm(
            f"{pascal(group)}Errors",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            threshold=1,
            description=f"The {group} function failed (unhandled exception, timeout or out of memory); handled "
            "errors become problem+json responses and do not count.",
        )
        self._alarm(
            f"{pascal(group)}Throttles",
            function.metric_throttles(period=PERIOD, statistic="Sum"),
            threshold=1,
            description=f"Lambda refused invocations of the {group} function (account or reserved concurrency).",
        )

    def _job_alarms(self, name: str, schedule: GroupSchedule) -> None:
        # Lambda metrics have one-minute resolution; CloudWatch takes alarm periods up to a day.
        every = min(max(schedule.spec.every_seconds, 60), _MAX_PERIOD_SECONDS)
        self._alarm(
            f"{pascal(name)}JobFailing",
            schedule.function.metric_errors(period=Duration.seconds(every), statistic="Sum"),
            threshold=1,
            evaluation_periods=JOB_WINDOW_RUNS,
            datapoints_to_alarm=JOB_FAILED_RUNS,
            description=f"The {name} job failed in {JOB_FAILED_RUNS} of its last {JOB_WINDOW_RUNS} runs, so its work "
            "is falling behind.",
        )
        self._alarm(
            f"{pascal(name)}JobNotRunning",
            schedule.function.metric_invocations(
                period=Duration.seconds(min(every * JOB_WINDOW_RUNS, _MAX_PERIOD_SECONDS)), statistic="Sum"
            ),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
            description=f"The {name} job was not invoked for {JOB_WINDOW_RUNS} of its periods: the schedule is "
            "disabled, or Scheduler cannot invoke it (see its dead-letter queue).",
        )

    # --- dashboard ---------------------------------------------------------------------------------------------

    def _dashboard(self, m: Monitored) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=stage_name("slotwise", self._stage),
            default_interval=Duration.hours(3),
        )
        functions = sorted(m.functions.items())
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=_DASHBOARD_WIDTH, height=4
            )
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## API", width=_DASHBOARD_WIDTH, height=1),
            _graph(
                "Requests, 4xx, 5xx",
                [
                    m.api.metric_count(period=PERIOD, statistic="Sum"),
                    m.api.metric_client_error(period=PERIOD, statistic="Sum"),
                    m.api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
            ),
            _graph("5xx rate (%)", [_api_5xx_rate(m.api)]),
            _graph(
                "Latency (ms)",
                [m.api.metric_latency(period=PERIOD, statistic=p) for p in ("p50", "p90", "p99")],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## Functions", width=_DASHBOARD_WIDTH, height=1),
            _graph("Invocations", [fn.metric_invocations(period=PERIOD, label=g) for g, fn in functions]),
            _graph("Errors", [fn.metric_errors(period=PERIOD, label=g) for g, fn in functions]),
            _graph("Throttles", [fn.metric_throttles(period=PERIOD, label=g) for g, fn in functions]),
            _graph(
                "Duration p99 (ms)",
                [fn.metric_duration(period=PERIOD, statistic="p99", label=g) for g, fn in functions],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## DynamoDB", width=_DASHBOARD_WIDTH, height=1),
            _graph(
                "Consumed capacity",
                [
                    m.table.metric_consumed_read_capacity_units(period=PERIOD, statistic="Sum"),
                    m.table.metric_consumed_write_capacity_units(period=PERIOD, statistic="Sum"),
                ],
            ),
            _graph(
                "Throttle events (table + indexes)",
                [
                    _throttle_events(m.table, ()),
                    *(
                        _throttle_events(m.table, indexes, with_table=False)
                        for _, indexes in _index_alarm_groups(m.index_names)
                    ),
                ],
            ),
            _graph(
                "Conditional check failures (lost slot claims)",
                [m.table.metric_conditional_check_failed_requests(period=PERIOD, statistic="Sum")],
            ),
            _graph(
                "Latency p99 (ms)",
                [
                    m.table.metric_successful_request_latency(
                        period=PERIOD, statistic="p99", label=operation, dimensions_map={"Operation": operation}
                    )
                    for operation in ("TransactWriteItems", "Query", "GetItem")
                ],
            ),
        )
        queue_widgets: list[cloudwatch.IWidget] = [
            _graph(
                "Dead-letter queues: messages",
                [
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum", label=n)
                    for n, q in sorted(m.dead_letter_queues.items())
                ],
            )
        ]
        if m.work_queues:
            queue_widgets[:0] = [
                _graph(
                    "Work queues: messages",
                    [
                        q.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum", label=n)
                        for n, q in sorted(m.work_queues.items())
                    ],
                ),
                _graph(
                    "Work queues: age of oldest (s)",
                    [
                        q.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum", label=n)
                        for n, q in sorted(m.work_queues.items())
                    ],
                ),
            ]
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## Queues", width=_DASHBOARD_WIDTH, height=1), *queue_widgets
        )
        return dashboard


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=6, height=6)


def _api_5xx_rate(api: apigwv2.HttpApi) -> cloudwatch.MathExpression:
    return cloudwatch.MathExpression(
        expression="IF(requests > 0, 100 * errors / requests, 0)",
        using_metrics={
            "errors": api.metric_server_error(period=PERIOD, statistic="Sum"),
            "requests": api.metric_count(period=PERIOD, statistic="Sum"),
        },
        label="5xx rate (%)",
        period=PERIOD,
    )


# Read and write metrics per index: this many indexes fill one expression.
_INDEXES_PER_ALARM = _MAX_METRICS_PER_EXPRESSION // 2


def _index_alarm_groups(index_names: Sequence[str]) -> list[tuple[str, Sequence[str]]]:
    """The index throttle alarms: `IndexesThrottled` for the first five indexes, `IndexesThrottled2`… after."""
    groups = [index_names[i : i + _INDEXES_PER_ALARM] for i in range(0, len(index_names), _INDEXES_PER_ALARM)]
    return [(f"IndexesThrottled{n + 1 if n else ''}", group) for n, group in enumerate(groups)]


def _throttle_events(
    table: dynamodb.TableV2, index_names: Sequence[str], *, with_table: bool = True
) -> cloudwatch.MathExpression:
    """Read + write throttle events of the table and/or of each index (an index that throttles blocks writes)."""
    metrics: dict[str, cloudwatch.IMetric] = {}
    for kind in ("Read", "Write"):
        if with_table:
            metrics[f"table{kind.lower()}"] = table.metric(f"{kind}ThrottleEvents", period=PERIOD, statistic="Sum")
        for position, index in enumerate(index_names):
            metrics[f"index{position}{kind.lower()}"] = table.metric(
                f"{kind}ThrottleEvents",
                period=PERIOD,
                statistic="Sum",
                dimensions_map={"TableName": table.table_name, "GlobalSecondaryIndexName": index},
            )
    if len(metrics) > _MAX_METRICS_PER_EXPRESSION:
        raise ValueError(
            f"{len(metrics)} throttle metrics exceed CloudWatch's {_MAX_METRICS_PER_EXPRESSION} per expression: "
            "watch fewer indexes per alarm"
        )
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
        using_metrics=metrics,
        label="Throttle events: " + ("table" if with_table else ", ".join(index_names)),
        period=PERIOD,
    )
