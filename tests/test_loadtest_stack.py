"""minne's staging stack holds the Locust tasks, their discovery, security rules and results bucket."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Capture, Match, Template

from shipway.loadtest.commands import locust_commands
from shipway.loadtest.locust_construct import CSV_PREFIX
from shipway.loadtest.props import load_of
from shipway.spec import load_spec
from shipway.stacks.app_runtime import AppRuntimeStack
from shipway.synth import cdk_context

from .conftest import SHIPPED

MASTER_HOST = "minne-loadtest-master.staging.acme.internal"


@pytest.fixture(scope="module")
def staging(shipped) -> Template:
    return Template.from_stack(shipped.stack("acme-minne-staging"))


def test_the_master_runs_the_commands_the_local_runner_runs(staging):
    expected = locust_commands(load_of(load_spec(SHIPPED), "minne"), master_host=MASTER_HOST, csv_prefix=CSV_PREFIX)
    assert expected.master[:4] == ["locust", "--master", "--headless", "--expect-workers"]
    staging.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "acme-minne-staging-loadtest-master",
        "RequiresCompatibilities": ["FARGATE"],
        "NetworkMode": "awsvpc",
        "ContainerDefinitions": [Match.object_like({
            "EntryPoint": ["python", "-m", "shipway.loadtest.task", "--p95-ms", "500", "--failure-ratio", "0.01",
                           "--csv-prefix", CSV_PREFIX, "--"],
            "Command": expected.master,
            "PortMappings": [Match.object_like({"ContainerPort": 5557})],
        })],
    })
    assert "-u 400 -r 40 -t 3m" in " ".join(expected.master)
    assert "--expect-workers 4" in " ".join(expected.master)
    # staging's own host (staging has no certificate), never production's minne.example.com
    assert "--host http://minne.staging.example.com " in " ".join(expected.master)
    staging.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "acme-minne-staging-loadtest-worker",
        "NetworkMode": "awsvpc",
        "ContainerDefinitions": [Match.object_like({
            "EntryPoint": ["locust"], "Command": expected.worker[1:],
        })],
    })
    assert expected.worker[:4] == ["locust", "--worker", "--master-host", MASTER_HOST]


def test_workers_find_the_master_through_cloud_map(staging):
    staging.has_resource_properties("AWS::ServiceDiscovery::Service", {
        "Name": "minne-loadtest-master",
        "NamespaceId": {"Ref": Match.string_like_regexp("discoverynamespaceid")},
        "DnsConfig": Match.object_like({"DnsRecords": [{"TTL": 10, "Type": "A"}]}),
    })


def test_workers_sit_at_zero_on_the_loadtest_spot_fleet(staging):
    # staging's loadtest pool is a Spot Fleet: no capacity provider, launch type EC2 on its instances.
    staging.has_resource_properties("AWS::ECS::Service", {
        "ServiceName": "minne-loadtest-worker",
        "Cluster": "acme-staging",
        "DesiredCount": 0,
        "LaunchType": "EC2",
        "PlacementConstraints": [
            {"Type": "memberOf", "Expression": "attribute:shipway.pool == loadtest"},
            {"Type": "memberOf", "Expression": "attribute:loadtest == true"},
        ],
        "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})},
    })


def test_the_master_admits_5557_from_workers_only(staging):
    groups = staging.find_resources("AWS::EC2::SecurityGroup")
    master = next(k for k in groups if k.startswith("LoadTestMasterSecurityGroup"))
    worker = next(k for k in groups if k.startswith("LoadTestWorkerSecurityGroup"))
    assert "SecurityGroupIngress" not in groups[master]["Properties"]
    assert "SecurityGroupIngress" not in groups[worker]["Properties"]
    ingress = staging.find_resources("AWS::EC2::SecurityGroupIngress")
    assert [r["Properties"] for r in ingress.values()] == [{
        "Description": "Locust workers to their master",
        "GroupId": {"Fn::GetAtt": [master, "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": [worker, "GroupId"]},
        "IpProtocol": "tcp", "FromPort": 5557, "ToPort": 5557,
    }]
    # no listener, no load balancer: the web UI is reached only through ECS Exec port forwarding
    rules = staging.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert not [r for r in rules if "/LoadTest" in r["Metadata"]["aws:cdk:path"]]


def test_results_bucket_is_encrypted_retained_and_tls_only(staging):
    bucket = Capture()
    staging.has_resource("AWS::S3::Bucket", {
        "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({
            "BucketName": {"Fn::Join": ["", ["acme-minne-staging-loadtest-", {"Ref": "AWS::AccountId"}, "-",
                                             {"Ref": "AWS::Region"}]]},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        }),
    })
    staging.has_resource_properties("AWS::S3::BucketPolicy", {
        "Bucket": {"Ref": bucket},
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            Match.object_like({"Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}),
        ])},
    })
    assert bucket.as_string().startswith("LoadTestResults")
    # the master only puts objects
    staging.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": Match.string_like_regexp("LoadTestMasterTaskRole")}],
        "PolicyDocument": {"Statement": Match.array_with([{
            "Action": "s3:PutObject", "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket.as_string(), "Arn"]}, "/*"]]},
        }])},
    })


def test_the_gate_reads_its_addresses_from_ssm(staging):
    for key in ("master-security-group-id", "discovery-service-id", "discovery-service-arn"):
        staging.has_resource_properties("AWS::SSM::Parameter", {
            "Name": f"/shipway/acme/apps/minne/staging/loadtest/{key}",
        })


def test_only_the_loadtest_environment_has_load_test_tasks(shipped_templates):
    for name, template in shipped_templates.items():
        families = [r["Properties"].get("Family", "") for r in template["Resources"].values()
                    if r["Type"] == "AWS::ECS::TaskDefinition"]
        has = any("loadtest" in f for f in families)
        assert has == (name == "acme-minne-staging"), name


def _staging_with_pools(edit) -> Template:
    data = load_spec(SHIPPED).model_dump(mode="json", exclude_none=True)
    edit(data["environments"]["staging"]["cluster"]["pools"])
    spec = type(load_spec(SHIPPED)).model_validate(data)
    app = cdk.App(context=cdk_context())
    return Template.from_stack(AppRuntimeStack(app, spec=spec, app="minne", env="staging"))


def test_without_a_loadtest_pool_workers_run_on_fargate_spot():
    template = _staging_with_pools(lambda pools: pools.pop("loadtest"))
    template.has_resource_properties("AWS::ECS::Service", {
        "ServiceName": "minne-loadtest-worker",
        "DesiredCount": 0,
        "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
        "PlacementConstraints": Match.absent(),
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "acme-minne-staging-loadtest-worker", "RequiresCompatibilities": ["FARGATE"],
    })


def test_an_asg_loadtest_pool_is_its_capacity_provider_with_the_constraint():
    def to_asg(pools):
        pools["loadtest"] = {"provisioning": "asg", "instance_types": ["c6i.large"], "metadata": {"loadtest": "true"}}

    template = _staging_with_pools(to_asg)
    template.has_resource_properties("AWS::ECS::Service", {
        "ServiceName": "minne-loadtest-worker",
        "CapacityProviderStrategy": [{"CapacityProvider": "acme-staging-loadtest", "Weight": 1}],
        "PlacementConstraints": [{"Type": "memberOf", "Expression": "attribute:loadtest == true"}],
    })


def _problems(edit) -> list[str]:
    from shipway.spec import SpecError, parse_spec

    data = load_spec(SHIPPED).model_dump(mode="json", exclude_none=True)
    edit(data)
    with pytest.raises(SpecError) as caught:
        parse_spec(yaml.safe_dump(data), "shipway.yaml")
    return caught.value.problems


def test_a_process_may_not_take_a_load_test_name():
    problems = _problems(lambda d: d["apps"]["minne"]["processes"].update(
        {"loadtest-worker": {"command": "x", "capacity": "fargate"}}))
    assert any("apps.minne.processes.loadtest-worker" in p and "is the load test's" in p for p in problems), problems


def test_a_results_bucket_name_too_long_for_s3_is_refused():
    def long_app(d):
        d["apps"]["a-very-long-application-name"] = d["apps"].pop("minne")

    problems = _problems(long_app)
    assert any("apps.a-very-long-application-name.loadtest" in p and "too long for S3" in p for p in problems), problems


def test_the_loadtest_environment_must_offer_capacity_for_master_and_workers():
    def no_fargate(d):
        cluster = d["environments"]["staging"]["cluster"]
        cluster.update(fargate=False, fargate_spot=False)
        cluster["pools"].pop("loadtest")
        # minne's own processes on Fargate would be refused too: move them to the remaining pool
        for process in d["apps"]["minne"]["processes"].values():
            process["capacity"] = "pool:dedicated"

    problems = [p for p in _problems(no_fargate) if "apps.minne.loadtest.environment" in p]
    assert any("the Locust master runs on FARGATE" in p for p in problems), problems
    assert any("need a pool with metadata loadtest: 'true' or FARGATE_SPOT" in p for p in problems), problems
