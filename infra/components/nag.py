"""cdk-nag (v3) acknowledgments, written next to the resource they excuse and never without a reason.

cdk-nag 3 reads CDK's own `Validations.of(construct).acknowledge(...)` metadata: an acknowledgment covers the
construct it is made on and everything below it. A finding with a subject (IAM5 names the wildcard) must be
acknowledged with its exact id, e.g. `AwsSolutions-IAM5[Resource::<TableCD117FA1.Arn>/index/*]`.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

# A reason is for the next reader: it names why the rule does not apply here, not just that it does not.
MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag rule (or one exact finding) on `scope` and its children."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} on {scope.node.path} needs a written reason, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def arn_token(resource: IConstruct) -> str:
    """How cdk-nag spells a resource's `Fn::GetAtt Arn` inside a finding id: `<LogicalId.Arn>`."""
    element = resource if isinstance(resource, CfnElement) else resource.node.default_child
    if not isinstance(element, CfnElement):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource to name")
    return f"<{Stack.of(resource).get_logical_id(element)}.Arn>"


def acknowledgments(scope: IConstruct) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id: reason} for every acknowledgment under `scope` (tests and reviews)."""
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found: dict[str, dict[str, str]] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key and entry.data:
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found
