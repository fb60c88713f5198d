"""An environment's stage as data: each action a small description, the run order computed from the list.

A stage runs its pre-deploy actions (approval, database provision, release), then its deploys, then its
post-deploy actions (GoLive, the records, the gates). Each ``StageAction`` names its phase and, when it runs at
the same time as an earlier action, that action (``beside``); every other action runs after all the actions
before it. ``pipeline_actions`` is the one place that turns the list into CodePipeline actions, numbering the
run orders, so that adding an action is adding one description.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import aws_codepipeline as codepipeline


class Phase(enum.IntEnum):
    """When an action runs in its environment's stage; the phases run in this order."""

    PRE_DEPLOY = 1
    """Before anything is deployed: the approval, the database provision, the release."""
    DEPLOY = 2
    """The ECS deploys."""
    POST_DEPLOY = 3
    """After the deploys: GoLive, the records, the gates."""


class MakeAction(Protocol):
    """Makes one CodePipeline action with its name and run order (e.g. ``functools.partial`` of the action's
    class)."""

    def __call__(self, *, action_name: str, run_order: int) -> codepipeline.IAction: ...


@dataclass(frozen=True)
class StageAction:
    """One action of an environment's stage.

    :param name: the CodePipeline action name, unique in the stage: the one place it is written.
    :param phase: when it runs.
    :param make: makes the CodePipeline action with this name at the run order computed for it
        (``make(action_name=..., run_order=...)``). Called once, in the stage's order.
    :param beside: the name of an earlier action of the same phase to run at the same time as. None: after every
        action listed before it.
    """

    name: str
    phase: Phase
    make: MakeAction
    beside: str | None = None


def run_orders(plan: Sequence[StageAction]) -> list[tuple[StageAction, int]]:
    """The plan in phase order (listed order within a phase), each action with its run order (from 1)."""
    ordered = sorted(plan, key=lambda action: action.phase)
    orders: dict[str, tuple[Phase, int]] = {}
    last = 0
    result = []
    for action in ordered:
        if action.name in orders:
            raise ValueError(f"two actions named {action.name} in one stage")
        if action.beside is None:
            last += 1
            order = last
        elif orders.get(action.beside, (None, 0))[0] is action.phase:
            order = orders[action.beside][1]
        else:
            raise ValueError(f"{action.name} runs beside {action.beside}, which is not an earlier "
                             f"{action.phase.name.lower().replace('_', '-')} action of its stage")
        orders[action.name] = (action.phase, order)
        result.append((action, order))
    return result


def pipeline_actions(plan: Sequence[StageAction]) -> list[codepipeline.IAction]:
    """The stage's CodePipeline actions, made in order with their names and computed run orders."""
    return [action.make(action_name=action.name, run_order=order) for action, order in run_orders(plan)]
