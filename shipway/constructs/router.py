"""The environment's shared router: one internet-facing ALB that every app's listener rules hang on."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import region_info
from constructs import Construct

from .. import checkov, nag

HTTP_PORT = 80
HTTPS_PORT = 443
TEST_HTTP_PORT = 8080
TEST_HTTPS_PORT = 8443


def _not_found() -> elbv2.ListenerAction:
    return elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="Not Found")


@functools.cache
def _elb_accounts() -> dict[str, dict[str, str]]:
    """Each region CDK knows -> its ELB account: one jsii request per region, once per process (bench/findings.md)."""
    facts = region_info.Fact
    return {name: {"account": facts.find(name, region_info.FactName.ELBV2_ACCOUNT) or "none"}
            for name in sorted(facts.regions)}


def _log_access(load_balancer: elbv2.ApplicationLoadBalancer, bucket: s3.Bucket) -> None:
    """``load_balancer.log_access_logs(bucket)`` for environment-agnostic stacks too.

    Elastic Load Balancing writes access logs as a per-region AWS account in Regions opened before
    August 2022, and as the ``logdelivery.elasticloadbalancing.amazonaws.com`` principal in later ones.
    CDK only knows which once the region is known at synth; here a mapping of every region CDK knows
    picks the account at deploy time, and the service principal is always allowed.
    """
    stack = cdk.Stack.of(load_balancer)
    mapping = cdk.CfnMapping(
        load_balancer, "ElbAccount",
        mapping=_elb_accounts(),
    )
    account = mapping.find_in_map(cdk.Aws.REGION, "account")
    has_account = cdk.CfnCondition(
        load_balancer, "HasElbAccount", expression=cdk.Fn.condition_not(cdk.Fn.condition_equals(account, "none"))
    )
    # Without an ELB account the statement names the stack's own account, which already owns the bucket.
    writer = cdk.Fn.condition_if(
        has_account.logical_id,
        f"arn:{cdk.Aws.PARTITION}:iam::{account}:root",
        f"arn:{cdk.Aws.PARTITION}:iam::{stack.account}:root",
    ).to_string()
    bucket.add_to_resource_policy(iam.PolicyStatement(
        actions=["s3:PutObject"],
        principals=[iam.ArnPrincipal(writer), iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com")],
        resources=[bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
    ))
    load_balancer.set_attribute("access_logs.s3.enabled", "true")
    load_balancer.set_attribute("access_logs.s3.bucket", bucket.bucket_name)
    # ELB checks that it may write to the bucket when logging is turned on.
    assert bucket.policy is not None
    load_balancer.node.add_dependency(bucket.policy)


class Router(Construct):
    """An internet-facing ALB with a 404 default, access logs, and a test listener for blue/green deploys.

    With ``certificate_arn``: ``listener`` is HTTPS on 443 (TLS 1.2+), and HTTP on 80 redirects to it; the
    test listener is HTTPS on 8443. Without: ``listener`` is HTTP on 80 and the test listener HTTP on 8080.
    Apps add their own listener rules and target groups to ``listener`` and ``test_listener``; nothing of
    an app lives here, so adding or removing an app never changes this construct.

    The construct knows nothing of shipway's spec: ``shipway.props.platform.router`` translates an environment's
    ``router`` into these keyword props.

    :param vpc: the VPC whose public subnets the ALB takes. Default: a new VPC.
    :param load_balancer_name: the ALB's name. Default: named by CloudFormation.
    :param certificate_arn: an ACM certificate: HTTPS, with HTTP redirecting to it. Default: none, HTTP only.
    :param idle_timeout: the ALB's idle timeout, seconds. Default: 60.
    :param access_log_days: days the access logs are kept. Default: 90.
    :param app_security_group: the group app tasks wear; the router may reach it on any TCP port, since
        each app chooses its own. Default: none (the router reaches only the targets CDK connects it to).
    :param test_sources: CIDRs allowed to reach the test listener, e.g. the environment's NAT addresses, from
        which its own tasks and build jobs reach the ALB's public addresses. Default: none.

    Attributes: ``load_balancer``, ``listener``, ``test_listener``, ``redirect_listener`` (with a certificate),
    ``security_group``, ``access_logs`` (the bucket).
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc | None = None,
                 load_balancer_name: str | None = None, certificate_arn: str | None = None, idle_timeout: int = 60,
                 access_log_days: int = 90, app_security_group: ec2.ISecurityGroup | None = None,
                 test_sources: Sequence[str] = ()) -> None:
        super().__init__(scope, construct_id)
        if vpc is None:
            vpc = ec2.Vpc(self, "Vpc")
        self.security_group = self._security_group(vpc, load_balancer_name or construct_id, app_security_group)
        self.access_logs = self._access_logs(access_log_days)
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "Resource",
            load_balancer_name=load_balancer_name,
            vpc=vpc,
            internet_facing=True,
            security_group=self.security_group,
            idle_timeout=cdk.Duration.seconds(idle_timeout),
            drop_invalid_header_fields=True,
            http2_enabled=True,
        )
        _log_access(self.load_balancer, self.access_logs)
        test_port = TEST_HTTPS_PORT if certificate_arn else TEST_HTTP_PORT
        if certificate_arn:
            self._https_listeners(certificate_arn, test_port)
        else:
            self._http_listeners(test_port)
        for i, source in enumerate(test_sources):
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(source), ec2.Port.tcp(test_port), f"Test traffic from egress address {i + 1}"
            )

    def _security_group(self, vpc: ec2.IVpc, name: str,
                        app_security_group: ec2.ISecurityGroup | None) -> ec2.SecurityGroup:
        """The ALB's group: no outbound but to the app tasks; the listeners open their ports to the internet."""
        security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=f"Router {name}", allow_all_outbound=False,
        )
        if app_security_group is not None:
            security_group.connections.allow_to(
                app_security_group, ec2.Port.tcp_range(1, 65535), "Router to app tasks on their ports"
            )
        nag.acknowledge(
            security_group, "AwsSolutions-EC23",
            "The router is the environment's public entry point: its HTTP(S) ports are open to the internet",
        )
        checkov.skip(
            security_group, "CKV_AWS_260",
            "The router is the environment's public entry point: port 80 is open to the internet to serve HTTP "
            "(no certificate) or to redirect it to HTTPS",
        )
        return security_group

    def _access_logs(self, access_log_days: int) -> s3.Bucket:
        """The access-log bucket, retained, its objects expiring after ``access_log_days``."""
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # ALB access logs support SSE-S3 only, not SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(access_log_days))],
        )
        nag.acknowledge(
            access_logs, "AwsSolutions-S1",
            "This bucket holds access logs itself; logging its own access to another bucket would only "
            "move the question there, and CloudTrail data events cover it where an account needs that",
        )
        checkov.skip(
            access_logs, "CKV_AWS_18",
            "This bucket holds access logs itself; logging its own access to another bucket would only move the "
            "question there, and CloudTrail data events cover it where an account needs that",
        )
        checkov.skip(
            access_logs, "CKV_AWS_21",
            "Log objects are written once by the load balancer service and expire after access_log_days; "
            "versions would keep deleted logs beyond that (S3 Object Lock is the tool for tamper evidence)",
        )
        return access_logs

    def _https_listeners(self, certificate_arn: str, test_port: int) -> None:
        """HTTPS on 443 (TLS 1.2+), HTTP on 80 redirecting to it, and the HTTPS test listener."""
        certificates = [elbv2.ListenerCertificate.from_arn(certificate_arn)]
        self.listener = self.load_balancer.add_listener(
            "Https", port=HTTPS_PORT, protocol=elbv2.ApplicationProtocol.HTTPS, certificates=certificates,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS, default_action=_not_found(), open=True,
        )
        self.redirect_listener: elbv2.ApplicationListener | None = self.load_balancer.add_redirect(
            source_port=HTTP_PORT, source_protocol=elbv2.ApplicationProtocol.HTTP,
            target_port=HTTPS_PORT, target_protocol=elbv2.ApplicationProtocol.HTTPS, open=True,
        )
        self.test_listener = self.load_balancer.add_listener(
            "Test", port=test_port, protocol=elbv2.ApplicationProtocol.HTTPS, certificates=certificates,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS, default_action=_not_found(), open=False,
        )

    def _http_listeners(self, test_port: int) -> None:
        """Without a certificate: HTTP on 80 and the HTTP test listener, their checkov findings skipped."""
        self.listener = self.load_balancer.add_listener(
            "Http", port=HTTP_PORT, protocol=elbv2.ApplicationProtocol.HTTP, default_action=_not_found(),
            open=True,
        )
        self.redirect_listener = None
        self.test_listener = self.load_balancer.add_listener(
            "Test", port=test_port, protocol=elbv2.ApplicationProtocol.HTTP, default_action=_not_found(),
            open=False,
        )
        for listener in (self.listener, self.test_listener):
            for check in ("CKV_AWS_2", "CKV_AWS_103"):
                checkov.skip(listener, check,
                             "This environment has no router.certificate_arn, so the spec asks for HTTP only; "
                             "with a certificate the listeners are HTTPS with TLS 1.2 or later")
