"""One way to make a CodeBuild project: every project shipway creates (the image build, the release, GoLive, the
records, the load-test gate) comes from ``BuildProjects.project``.

Each gets shipway's build image (``defaults.BUILD_IMAGE``), logs to the pipeline's log group under a prefix of its
own, encrypts with the pipeline's artifact key, and carries the acknowledgements of what CDK grants every
CodeBuild project (its default log group, report groups named after it, the artifacts it reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import checkov, nag
from ..defaults import BUILD_IMAGE


@dataclass(frozen=True)
class BuildNetwork:
    """Where a project runs when it must reach the network from known addresses (registry: s3): a VPC's private
    subnets, behind its NAT gateways, wearing ``security_group``."""

    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup


@dataclass(frozen=True)
class BuildProjects:
    """Makes the CodeBuild projects of one pipeline: its artifact key, log group and artifact bucket."""

    encryption_key: kms.IKey
    log_group: logs.ILogGroup
    artifact_bucket: s3.IBucket

    def project(self, scope: Construct, construct_id: str, *, description: str, build_spec: dict, log_prefix: str,
                compute: codebuild.ComputeType = codebuild.ComputeType.SMALL, privileged: bool = False,
                timeout: cdk.Duration | None = None, variables: Mapping[str, str] | None = None,
                secrets: Mapping[str, str] | None = None, network: BuildNetwork | None = None,
                cache: codebuild.Cache | None = None, writes_artifacts: bool = False) -> codebuild.PipelineProject:
        """A project running ``build_spec`` (data) on shipway's image.

        :param log_prefix: its log streams' prefix in the pipeline's log group.
        :param compute: CodeBuild's size; ``privileged`` for a project that runs Docker.
        :param timeout: CodeBuild's default (an hour) when None.
        :param variables: plain environment variables; ``secrets``: read from Secrets Manager
            (``<secret>:<json key>``).
        :param network: run in a VPC. Default: CodeBuild's own network.
        :param writes_artifacts: the project writes the stage's output artifact (the image build).
        """
        secret = codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER
        environment_variables = {
            **{k: codebuild.BuildEnvironmentVariable(value=v) for k, v in (variables or {}).items()},
            **{k: codebuild.BuildEnvironmentVariable(value=v, type=secret) for k, v in (secrets or {}).items()},
        }
        project = codebuild.PipelineProject(
            scope, construct_id,
            description=description,
            build_spec=codebuild.BuildSpec.from_object(build_spec),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.from_code_build_image_id(BUILD_IMAGE), compute_type=compute,
                privileged=privileged,
            ),
            environment_variables=environment_variables or None,
            vpc=network.vpc if network else None,
            subnet_selection=ec2.SubnetSelection(subnets=network.vpc.private_subnets) if network else None,
            security_groups=[network.security_group] if network else None,
            cache=cache,
            timeout=timeout,
            encryption_key=self.encryption_key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group, prefix=log_prefix)
            ),
        )
        self._acknowledge(project, writes_artifacts=writes_artifacts)
        if network:
            self._acknowledge_network(project)
        return project

    def acknowledge_artifacts(self, role: iam.IRole, *, writes: bool, key: bool) -> None:
        """What CDK grants a role on the artifact bucket, and on its key to those that encrypt artifacts."""
        reason = ("CDK's grant on this pipeline's own artifact bucket, which holds nothing else: CodePipeline "
                  "keys artifacts per execution, so no narrower prefix exists")
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*",
                       *(("s3:Abort*", "s3:DeleteObject*") if writes else ())):
            nag.acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]", reason)
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", f"{self.artifact_bucket.bucket_arn}/*"),
                        reason)
        if key:
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
                nag.acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]",
                                "Only on the artifact key (the statement's resource): artifacts are encrypted with "
                                "data keys")

    def _acknowledge(self, project: codebuild.PipelineProject, *, writes_artifacts: bool) -> None:
        """CDK grants every CodeBuild project its default log group and report groups, named after it."""
        role = project.role
        assert role is not None
        stack = cdk.Stack.of(project)
        logs_arn = stack.format_arn(service="logs", resource="log-group", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                                    resource_name=f"/aws/codebuild/{project.project_name}:*")
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", logs_arn),
                        "CodeBuild's default log group of this project (its streams); the project writes to the "
                        "pipeline's log group instead")
        reports_arn = stack.format_arn(service="codebuild", resource="report-group",
                                       resource_name=f"{project.project_name}-*")
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", reports_arn),
                        "Report groups named after this project only, which CDK grants every CodeBuild project")
        self.acknowledge_artifacts(role, writes=writes_artifacts, key=True)

    @staticmethod
    def _acknowledge_network(project: codebuild.PipelineProject) -> None:
        """CodeBuild's VPC access. Its ``Resource::*`` finding (describing subnets, VPCs, DHCP options and network
        interfaces) is the project's to acknowledge with its own wildcards: one acknowledgement per finding."""
        vpc_policy = project.node.try_find_child("PolicyDocument")
        assert vpc_policy is not None, "CDK puts a CodeBuild project's VPC permissions in its own policy"
        checkov.skip(vpc_policy, "CKV_AWS_111",
                     "CodeBuild's VPC access: it creates and deletes a network interface per build, whose IDs "
                     "are unknown before, and describes subnets and VPCs, which have no resource-level "
                     "permissions")
        interfaces = cdk.Stack.of(project).format_arn(service="ec2", resource="network-interface", resource_name="*")
        nag.acknowledge(project, nag.resource_finding(project, "AwsSolutions-IAM5", interfaces),
                        "ec2:CreateNetworkInterfacePermission for the build's network interfaces, whose IDs "
                        "CodeBuild makes per build; CDK limits it by condition to the build's subnets and "
                        "to CodeBuild")
