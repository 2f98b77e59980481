"""The web console's stack, `SlotwiseConsole-<stage>`: the console site (infra/components/console_site.py) and its
URL as an output. A stack of its own: it has its own lifecycle (a console release touches nothing of the backend)
and its buckets, distribution and deployment function do not count against the backend stack's 500 resources.

The API's URL comes from the backend stack (a CloudFormation export and import), so deploy the backend first;
`cdk deploy --all` orders them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from infra.components.console_site import ConsoleSite


class SlotwiseConsoleStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        dist_dir: Path,
        api_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The site is rebuilt from dist on every deploy: nothing in it needs keeping, except prod's access logs.
        self.site = ConsoleSite(
            self,
            "Site",
            dist_dir=dist_dir,
            api_url=api_url,
            removal_policy=RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY,
        )
        CfnOutput(self, "ConsoleUrl", value=self.site.url, description="The web console (CloudFront, HTTPS)")
        CfnOutput(self, "ConsoleBucketName", value=self.site.bucket.bucket_name)
        CfnOutput(self, "ConsoleDistributionId", value=self.site.distribution.distribution_id)
