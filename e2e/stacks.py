"""Deploy the synthesized stacks through CloudFormation's API, in the order their SSM parameters give.

A stack that reads a parameter (``AWS::SSM::Parameter::Value<...>``) goes after the stack that publishes it
(``AWS::SSM::Parameter`` with that ``Name``). A parameter no stack publishes fails first, with its name: in a
real account CloudFormation would refuse that stack, after the ones before it were created.
"""

from __future__ import annotations

from pathlib import Path

from shipway.assembly import StackTemplate, UnpublishedParameter, deploy_order, read_assembly

from .emulator import Emulator

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployFailed(Exception):
    """One line saying which stack failed and why."""


def deploy(emulator: Emulator, stack: StackTemplate) -> str:
    """Create the stack, or update it when it exists (as ``cdk deploy`` does); gives the final status."""
    cfn = emulator.client("cloudformation")
    body = stack.template_file.read_text()
    existing = [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == stack.name and s["StackStatus"] != "DELETE_COMPLETE"]
    try:
        if existing:
            cfn.update_stack(StackName=stack.name, TemplateBody=body, Capabilities=CAPABILITIES)
        else:
            cfn.create_stack(StackName=stack.name, TemplateBody=body, Capabilities=CAPABILITIES)
    except cfn.exceptions.ClientError as error:
        raise DeployFailed(f"{stack.name}: {error.response['Error']['Message']}") from None
    status = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise DeployFailed(f"{stack.name}: {status}")
    return status


def deploy_all(emulator: Emulator, assembly: Path) -> list[str]:
    """``cdk deploy --all`` through CloudFormation's API: every stack of the assembly, in parameter order."""
    try:
        order = deploy_order(read_assembly(assembly).values())
    except UnpublishedParameter as error:
        raise DeployFailed(str(error)) from None
    for stack in order:
        deploy(emulator, stack)
    return [s.name for s in order]
