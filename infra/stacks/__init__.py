"""CloudFormation stacks of Slotwise."""

from infra.stacks.slotwise_stack import STAGES, SlotwiseStack, Stage

__all__ = ["STAGES", "SlotwiseStack", "Stage"]
