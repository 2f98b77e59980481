"""CloudFormation stacks of Slotwise."""

from infra.stacks.console_stack import SlotwiseConsoleStack
from infra.stacks.slotwise_stack import STAGES, SlotwiseStack, Stage

__all__ = ["STAGES", "SlotwiseConsoleStack", "SlotwiseStack", "Stage"]
