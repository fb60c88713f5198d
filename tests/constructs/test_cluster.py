"""``Cluster`` in a bare stack: Container Insights, logged ECS Exec, capacity providers in one association."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from shipway.constructs.cluster import Cluster


def test_fargate_and_spot_are_associated_with_no_default_strategy(stack, vpc):
    cluster = Cluster(stack, "Cluster", vpc=vpc, cluster_name="acme-prod")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::Cluster", {
        "ClusterName": "acme-prod",
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
        "Configuration": {"ExecuteCommandConfiguration": Match.object_like({"Logging": "OVERRIDE"})},
    })
    template.has_resource_properties("AWS::ECS::ClusterCapacityProviderAssociations", {
        "CapacityProviders": ["FARGATE", "FARGATE_SPOT"], "DefaultCapacityProviderStrategy": [],
    })
    assert cluster.capacity_provider_names == ["FARGATE", "FARGATE_SPOT"]


def test_without_fargate_spot_only_fargate(stack, vpc):
    Cluster(stack, "Cluster", vpc=vpc, fargate_spot=False)
    Template.from_stack(stack).has_resource_properties("AWS::ECS::ClusterCapacityProviderAssociations", {
        "CapacityProviders": ["FARGATE"],
    })
