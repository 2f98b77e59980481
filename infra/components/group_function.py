"""One Lambda function per function group: every group is built the same way, here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components.nag import acknowledge

HANDLER = "handler.lambda_handler"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 512
# scrypt at OWASP's n = 2^17, r = 8 takes 128 MiB and about a second of one core per login: at 1,769 MB a function
# has one full vCPU (512 MB would give a third of one, about 3 s a login) and room for the hash beside the runtime.
# Lambda runs one request, so one hash, at a time per instance (slotwise.identity.passwords).
MEMORY_MB_BY_GROUP: Mapping[str, int] = {"auth": 1769}
API_TIMEOUT = Duration.seconds(10)
QUEUE_CONSUMER_TIMEOUT = Duration.seconds(30)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Every invoker (API Gateway, event source mappings, schedules, the WebSocket API) calls this alias of the function's
# current published version: SnapStart restores published versions only, so `$LATEST` would cold-start every time.
ALIAS_NAME = "live"
# Bytecode caches from a developer's machine would be stale (timestamp pycs) and only bloat the zip.
_ASSET_EXCLUDES = ["__pycache__", "*.pyc"]


def code_dir(functions_dir: Path, group: str) -> Path:
    return functions_dir / group


def missing_groups(functions_dir: Path, groups: list[str]) -> list[str]:
    """Groups with no `functions/<group>/handler.py`; CDK would only fail later, with a less useful message."""
    return [g for g in groups if not (code_dir(functions_dir, g) / "handler.py").is_file()]


class GroupFunction(Construct):
    """The function serving one group, with its own log group and its own role.

    `function` is what grants and settings attach to; `alias` (the `live` alias of the current published version,
    SnapStart on) is what every trigger invokes.

    The role is written here rather than left to CDK, whose default attaches the managed
    AWSLambdaBasicExecutionRole (logs:CreateLogGroup and logs:PutLogEvents on every log group of the account):
    this one may write to its own log group only. Table and bus grants are added by the caller.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group: str,
        functions_dir: Path,
        layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        timeout: Duration,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = group
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=removal_policy)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Slotwise function group '{group}'",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Slotwise function group '{group}'",
            code=lambda_.Code.from_asset(str(code_dir(functions_dir, group)), exclude=_ASSET_EXCLUDES),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=MEMORY_MB_BY_GROUP.get(group, MEMORY_MB),
            timeout=timeout,
            layers=[layer],
            environment=dict(environment),
            log_group=self.log_group,
            role=self.role,
            # Init (imports, clients, the route table: slotwise.runtime_hooks primes them) runs once per published
            # version; environments start from its snapshot.
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
        )
        # `current_version` publishes a new version whenever the code or configuration changes (its logical id
        # hashes both), and the alias moves with it.
        self.alias = lambda_.Alias(self, "Alias", alias_name=ALIAS_NAME, version=self.function.current_version)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Python 3.13 on purpose: the layer's wheels and unchecked-hash bytecode are built for 3.13, "
            "pyproject pins requires-python <3.14 and `.python-version` the interpreter; a runtime upgrade is a "
            "project-wide change, not a stack edit.",
        )
