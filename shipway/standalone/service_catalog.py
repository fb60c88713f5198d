"""A Service Catalog portfolio of the stand-alone templates, built with troposphere.

This is troposphere's job in shipway: a small template built from data (the list of synthesized stacks)
after synthesis, in plain Python with no CDK app, no jsii and no Node. troposphere's typed classes check
property names and types as the template is built, and ``to_json`` fails on a missing required property;
cfn-lint then checks the result like every other template (tests/test_templates_dist.py).
"""

from __future__ import annotations

from troposphere import Equals, Join, Not, Output, Parameter, Ref, Template
from troposphere import servicecatalog as sc

from ..assembly import StackTemplate


def logical_id(stack_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in stack_name.replace("_", "-").split("-") if part)


def portfolio_template(stacks: list[StackTemplate], project: str) -> Template:
    """One product per stack, its template loaded from ``TemplateUrlPrefix/<stack>.template.json``."""
    template = Template(Description=f"shipway {project}: a Service Catalog portfolio of its stand-alone templates")
    prefix = template.add_parameter(Parameter(
        "TemplateUrlPrefix", Type="String", AllowedPattern=r"^https://\S+[^/]$",
        Description="HTTPS URL of the S3 folder holding dist/templates (no trailing slash)",
    ))
    provider = template.add_parameter(Parameter("ProviderName", Type="String", Default="shipway",
                                                Description="Shown to the users of the portfolio"))
    version = template.add_parameter(Parameter("Version", Type="String", Default="v1",
                                               Description="Name of the provisioning artifact (the product version)"))
    launch_role = template.add_parameter(Parameter(
        "LaunchRoleName", Type="String", Default="",
        Description="Role Service Catalog deploys the products with (they create IAM roles); empty for none",
    ))
    template.add_condition("HasLaunchRole", Not(Equals(Ref(launch_role), "")))

    portfolio = template.add_resource(sc.Portfolio(
        "Portfolio", DisplayName=f"shipway {project}", ProviderName=Ref(provider),
        Description=f"The stacks of shipway project {project}: deploy them in the order the README gives",
    ))
    for stack in stacks:
        name = logical_id(stack.name)
        product = template.add_resource(sc.CloudFormationProduct(
            f"{name}Product", Name=stack.name, Owner=Ref(provider),
            Description=stack.template.get("Description", stack.name),
            ProvisioningArtifactParameters=[sc.ProvisioningArtifactProperties(
                Name=Ref(version),
                Info=sc.Info(LoadTemplateFromURL=Join("", [Ref(prefix), f"/{stack.name}.template.json"])),
            )],
        ))
        association = template.add_resource(sc.PortfolioProductAssociation(
            f"{name}Association", PortfolioId=Ref(portfolio), ProductId=Ref(product),
        ))
        template.add_resource(sc.LaunchRoleConstraint(
            f"{name}LaunchRole", Condition="HasLaunchRole", PortfolioId=Ref(portfolio), ProductId=Ref(product),
            LocalRoleName=Ref(launch_role), DependsOn=[association.title],
        ))
    template.add_output(Output("PortfolioId", Value=Ref(portfolio), Description="Share it or add principals to it"))
    return template
