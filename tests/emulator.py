"""An emulated AWS (moto's server on 127.0.0.1) holding what a deploy of a spec would have created.

``deploy(spec, synthesized)`` stands in for ``cdk deploy`` of the platform, pipeline and runtime stacks, as far
as the ``shipway`` verbs look: the platform's SSM parameters (private subnets, app security group, cluster,
router DNS name) and its NAT gateway, the recorded image tag, the ECS cluster, and from each synthesized
``<name>-<app>-<env>`` template its roles, log group, task definitions (as CloudFormation would register them,
intrinsics resolved), services and scalable targets, and the app's pipeline. What the verbs then change is read
back from the emulator and compared with what a synth of the edited spec produces.

What it cannot show: moto places no task and runs no container (a service's running count is what the test
says it is), routes no traffic, and drops ``sourceRevisions`` of a pipeline start. Those parts are played by the
tests (``play_task``) or checked on the request boto3 sent.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from e2e.moto_patches import moto_function, replace
from shipway import naming
from shipway.cli import aws as cli_aws
from shipway.spec import Spec
from shipway.synth import Synthesized

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
IMAGE_TAG = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
# The emulator's patches of moto applied in this process (each wraps moto once).
_PATCHED: set[str] = set()


def _honour_log_stream_prefix() -> None:
    """Emulator patch (docs/cli.md): moto 5.2.5's FilterLogEvents ignores ``logStreamNamePrefix``; turn it into
    the stream names it stands for before moto answers."""
    from moto.logs.responses import LogsResponse

    if "filter_log_events" in _PATCHED:
        return
    original = moto_function(LogsResponse, "filter_log_events")

    def filter_log_events(self):
        body = json.loads(self.body or "{}")
        prefix = body.pop("logStreamNamePrefix", None)
        if prefix is not None and not body.get("logStreamNames"):
            group = self.logs_backend.groups.get(body.get("logGroupName"))
            names = [n for n in (group.streams if group else {}) if n.startswith(prefix)]
            if not names:
                return json.dumps({"events": [], "searchedLogStreams": []})
            body["logStreamNames"] = names
            self.body = json.dumps(body)
        return original(self)

    replace(LogsResponse, "filter_log_events", filter_log_events)
    _PATCHED.add("filter_log_events")


def _accept_task_level_memory() -> None:
    """Emulator patch (docs/cli.md): moto 5.2.5's RunTask adds up container-level memory and fails (500) on a
    Fargate task definition that sets memory only at task level, as CDK's do; count such a container as 0."""
    from types import SimpleNamespace

    from moto.ecs.models import EC2ContainerServiceBackend

    if "_calculate_task_resource_requirements" in _PATCHED:
        return
    original = moto_function(EC2ContainerServiceBackend, "_calculate_task_resource_requirements")

    def calculate(task_definition):
        containers = [c if c.get("memory") or c.get("memoryReservation") else {**c, "memory": 0}
                      for c in task_definition.container_definitions]
        return original(SimpleNamespace(container_definitions=containers))

    replace(EC2ContainerServiceBackend, "_calculate_task_resource_requirements", staticmethod(calculate))
    _PATCHED.add("_calculate_task_resource_requirements")


@contextmanager
def emulator(port: int) -> Iterator[str]:
    """moto's server on 127.0.0.1:port, with the process's AWS settings pointing at it."""
    _honour_log_stream_prefix()
    _accept_task_level_memory()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto's backends live in this process and outlast a server: start from an empty account every time.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    # moto walks a task from RUNNING to STOPPED over four DescribeTasks calls; here a task stops when the test
    # (playing the container) says so. moto's own state-manager API sets that.
    urllib.request.urlopen(urllib.request.Request(
        f"{endpoint}/moto-api/state-manager/set-transition", method="POST", data=json.dumps({
            "model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}}).encode(),
    )).close()
    settings = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }
    saved = {k: os.environ.get(k) for k in [*settings, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    os.environ.update(settings)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    cli_aws.clear()
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cli_aws.clear()
        server.stop()


def client(service: str):
    return boto3.client(service, region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


# --- the platform, as the platform stack publishes it --------------------------------------------------


def deploy_platform(spec: Spec, env: str) -> None:
    ec2, ssm, ecs = client("ec2"), client("ssm"), client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as CDK's VPC has it
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in range(2)]
    group = ec2.create_security_group(GroupName=f"{spec.name}-{env}-apps", Description="apps", VpcId=vpc)["GroupId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)
    cluster = ecs.create_cluster(clusterName=naming.cluster_name(spec.name, env))["cluster"]["clusterArn"]
    P = naming.Param
    values = {
        P.VPC_ID: vpc, P.PRIVATE_SUBNETS: ",".join(subnets), P.APP_SECURITY_GROUP: group, P.CLUSTER_ARN: cluster,
        P.ROUTER_DNS_NAME: f"{spec.name}-{env}-123456.{REGION}.elb.amazonaws.com",
        P.EXEC_LOG_GROUP: f"/shipway/{spec.name}/{env}/exec",
        P.ALARM_TOPIC_ARN: f"arn:aws:sns:{REGION}:{ACCOUNT}:{spec.name}-{env}-alarms",
        P.DATABASE_URL_SECRET_ARN: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{spec.name}-{env}-url-AbCdEf",
        P.DATABASE_SECRET_ARN: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{spec.name}-{env}-db-AbCdEf",
    }
    # The rest of the platform's interface (listener ARNs, namespace): values the verbs never read.
    for key in (v for k, v in vars(P).items() if k.isupper()):
        values.setdefault(key, f"emulated-{key.replace('/', '-')}")
    for key, value in values.items():
        ssm.put_parameter(Name=naming.parameter(spec.name, env, key), Value=value, Type="String")


# --- an app stack: what CloudFormation would create from the synthesized template ---------------------


class Resolver:
    """Resolves the intrinsics of one template the way CloudFormation would, with emulator values."""

    def __init__(self, template: dict, stack: str):
        self.template = template
        self.stack = stack
        self.physical: dict[str, dict[str, str]] = {}
        ssm = client("ssm")
        self.parameters = {}
        for name, parameter in template.get("Parameters", {}).items():
            if parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
                self.parameters[name] = ssm.get_parameter(Name=parameter["Default"])["Parameter"]["Value"]
        self.conditions = {name: self(value) for name, value in template.get("Conditions", {}).items()}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack, "AWS::NoValue": _NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical.get(name, {}).get("Ref", f"{self.stack}-{name}")

    def get_att(self, name: str, attribute: str) -> str:
        return self.physical.get(name, {}).get(attribute, f"arn:aws:::{self.stack}/{name}/{attribute}")


_NO_VALUE = object()


def _join(r: Resolver, arg):
    sep, parts = arg
    return sep.join(str(p) for p in r(parts))


def _sub(r: Resolver, arg):
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], r(arg[1]))

    def one(match):
        name = match[1]
        if name in variables:
            return str(variables[name])
        if "." in name:
            return r.get_att(*name.split(".", 1))
        return str(r.ref(name))

    return re.sub(r"\$\{([^}]+)\}", one, text)


_INTRINSICS = {
    "Ref": lambda r, arg: r.ref(arg),
    "Fn::GetAtt": lambda r, arg: r.get_att(*(arg.split(".", 1) if isinstance(arg, str) else arg)),
    "Fn::Join": _join,
    "Fn::Select": lambda r, arg: r(arg[1])[int(r(arg[0]))],
    "Fn::Split": lambda r, arg: r(arg[1]).split(arg[0]),
    "Fn::Sub": _sub,
    "Fn::If": lambda r, arg: r(arg[1]) if r.conditions[arg[0]] else r(arg[2]),
    "Fn::Equals": lambda r, arg: r(arg[0]) == r(arg[1]),
    "Fn::Not": lambda r, arg: not r(arg[0]),
    "Fn::And": lambda r, arg: all(r(a) for a in arg),
    "Fn::Or": lambda r, arg: any(r(a) for a in arg),
    "Fn::GetAZs": lambda r, arg: [f"{REGION}a", f"{REGION}b"],
    "Condition": lambda r, arg: r.conditions[arg],
}


def api_shape(value: Any, key: str = "") -> Any:
    """CloudFormation's PascalCase properties as the ECS API's camelCase (log driver options kept as they are)."""
    if isinstance(value, list):
        return [api_shape(v) for v in value]
    if isinstance(value, dict) and key != "Options":
        return {k[0].lower() + k[1:]: api_shape(v, k) for k, v in value.items()}
    return value


def deploy_runtime(spec: Spec, app: str, env: str, template: dict) -> None:
    """Create what ``<name>-<app>-<env>`` holds and the verbs read: roles, logs, task definitions, services."""
    stack = naming.app_env_stack(spec.name, app, env)
    r = Resolver(template, stack)
    resources = template["Resources"]
    iam, ecs, logs, scaling = client("iam"), client("ecs"), client("logs"), client("application-autoscaling")
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            name = f"{stack}-{logical}"[:64]
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
                r(resource["Properties"]["AssumeRolePolicyDocument"])))["Role"]["Arn"]
            r.physical[logical] = {"Ref": name, "Arn": arn}
        elif resource["Type"] == "AWS::SSM::Parameter" and isinstance(resource["Properties"]["Value"], str):
            # literal values only (the service counts GoLive reads); the rest name resources not created here
            client("ssm").put_parameter(Name=r(resource["Properties"]["Name"]), Value=resource["Properties"]["Value"],
                                        Type="String", Overwrite=True)
        elif resource["Type"] == "AWS::Logs::LogGroup":
            name = r(resource["Properties"]["LogGroupName"])
            logs.create_log_group(logGroupName=name)
            r.physical[logical] = {"Ref": name, "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::ECS::TaskDefinition" or not _created(r, resource):
            continue
        props = api_shape(r(resource["Properties"]))
        props["tags"] = [{"key": t["key"], "value": t["value"]} for t in props.pop("tags", [])]
        arn = ecs.register_task_definition(**props)["taskDefinition"]["taskDefinitionArn"]
        r.physical[logical] = {"Ref": arn}
    unset = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::ECS::Service":
            continue
        props = r(resource["Properties"])
        cluster = props["Cluster"].rsplit("/", 1)[-1]
        options = {}
        if "CapacityProviderStrategy" in props:
            options["capacityProviderStrategy"] = api_shape(props["CapacityProviderStrategy"])
        if "LaunchType" in props:
            options["launchType"] = props["LaunchType"]
        created = ecs.create_service(
            cluster=cluster, serviceName=props["ServiceName"], taskDefinition=props["TaskDefinition"],
            desiredCount=props.get("DesiredCount", 0), networkConfiguration=api_shape(props["NetworkConfiguration"]),
            enableExecuteCommand=props.get("EnableExecuteCommand", False), **options,
        )["service"]
        r.physical[logical] = {"Ref": created["serviceArn"], "Name": created["serviceName"]}
        if "CapacityProviderStrategy" in props:
            _keep_capacity_providers(cluster, created["serviceName"], options["capacityProviderStrategy"])
        if "DesiredCount" not in props:
            unset[f"service/{cluster}/{created['serviceName']}"] = (cluster, created["serviceName"])
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget":
            props = r(resource["Properties"])
            scaling.register_scalable_target(
                ServiceNamespace="ecs", ResourceId=props["ResourceId"], ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=props["MinCapacity"], MaxCapacity=props["MaxCapacity"],
            )
            r.physical[logical] = {"Ref": props["ResourceId"]}
            if props["ResourceId"] in unset:  # Application Auto Scaling raises the count to the minimum
                cluster, name = unset[props["ResourceId"]]
                ecs.update_service(cluster=cluster, service=name, desiredCount=props["MinCapacity"])
    for resource in resources.values():
        if resource["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy":
            props = r(resource["Properties"])
            config = props.get("TargetTrackingScalingPolicyConfiguration", {})
            predefined = config.get("PredefinedMetricSpecification")
            if not predefined:
                continue  # moto keeps only predefined metrics; the request policy is metric math
            scaling.put_scaling_policy(
                PolicyName=props["PolicyName"], ServiceNamespace="ecs", ResourceId=props["ScalingTargetId"],
                ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": config["TargetValue"],
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": predefined["PredefinedMetricType"]},
                },
            )


def _moto_service(cluster: str, name: str):
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION].services[f"{cluster}:{name}"]


def _keep_capacity_providers(cluster: str, name: str, strategy: list[dict]) -> None:
    """Emulator patch (docs/cli.md): moto 5.2.5's CreateService drops ``capacityProviderStrategy`` and reports
    launch type EC2; set on its service what ECS would answer."""
    service = _moto_service(cluster, name)
    service.capacity_provider_strategy = strategy
    service.launch_type = None


def _created(r: Resolver, resource: dict) -> bool:
    condition = resource.get("Condition")
    return condition is None or bool(r.conditions[condition])


def deploy_pipeline(spec: Spec, app: str) -> None:
    """The app's pipeline (its shape only: the verbs start it and read its executions) and image tags."""
    ssm = client("ssm")
    for env in spec.environments:
        ssm.put_parameter(Name=naming.image_tag_parameter(spec.name, app, env), Value=IMAGE_TAG, Type="String",
                          Overwrite=True)
    role = client("iam").create_role(RoleName=f"{spec.name}-{app}-pipeline", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "codepipeline.amazonaws.com"}}]}))["Role"]
    stages = [{"name": "Source", "actions": [{"name": "Source", "actionTypeId": {
        "category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"},
        "configuration": {"RepositoryName": app, "BranchName": "main"}, "outputArtifacts": [{"name": "Source"}]}]}]
    stages += [{"name": env, "actions": [{"name": f"Deploy-{p}", "actionTypeId": {
        "category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"},
        "configuration": {"ClusterName": naming.cluster_name(spec.name, env),
                          "ServiceName": naming.service_name(app, p)},
        "inputArtifacts": [{"name": "Source"}]} for p in spec.apps[app].processes]} for env in spec.environments]
    client("codepipeline").create_pipeline(pipeline={
        "name": naming.pipeline_name(spec.name, app), "roleArn": role["Arn"],
        "artifactStore": {"type": "S3", "location": "artifacts"}, "stages": stages, "pipelineType": "V2",
    })


PLACEHOLDER = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}}


def deploy_stacks(templates: dict[str, dict]) -> None:
    """One CloudFormation stack per synthesized stack name, holding a placeholder: the verbs read stack names and
    statuses, and ``apps:destroy`` deletes them; their resources are created by the functions above."""
    cloudformation = client("cloudformation")
    for name in templates:
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(PLACEHOLDER))


def deploy(spec: Spec, synthesized: Synthesized) -> None:
    """Everything a deploy of ``spec`` holds that the verbs read (see the module's docstring)."""
    templates = synthesized.templates()
    deploy_stacks(templates)
    for env in spec.environments:
        deploy_platform(spec, env)
    for app in spec.apps:
        deploy_pipeline(spec, app)
        for env in spec.environments:
            deploy_runtime(spec, app, env, templates[naming.app_env_stack(spec.name, app, env)])


# --- reading the emulator back ------------------------------------------------------------------------


def service(spec: Spec, app: str, env: str, process: str) -> dict:
    return client("ecs").describe_services(
        cluster=naming.cluster_name(spec.name, env), services=[naming.service_name(app, process)]
    )["services"][0]


def container_of(task_definition: dict) -> dict:
    return next(c for c in task_definition["containerDefinitions"] if c["name"] == naming.CONTAINER_NAME)


def running_task_definition(spec: Spec, app: str, env: str, process: str) -> dict:
    arn = service(spec, app, env, process)["taskDefinition"]
    return client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


def latest_task_definition(spec: Spec, app: str, env: str, role: str) -> dict:
    family = naming.task_family(spec.name, app, env, role)
    return client("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]


def set_running(spec: Spec, app: str, env: str, process: str, running: int) -> None:
    """Play ECS: moto starts no task, so a test says how many of a service's tasks run."""
    service = _moto_service(naming.cluster_name(spec.name, env), naming.service_name(app, process))
    service.running_count = running
    service.pending_count = service.desired_count - running


def scalable_target(spec: Spec, app: str, env: str, process: str) -> dict:
    resource = f"service/{naming.cluster_name(spec.name, env)}/{naming.service_name(app, process)}"
    return client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"][0]


def pipeline_history(spec: Spec, app: str, commits: list[tuple[str, str]]) -> list[str]:
    """Play CodePipeline: one execution per (commit, status), oldest first, with the source revision a
    CodeCommit source action records (moto starts executions but records no revision). Returns their IDs."""
    from moto.codepipeline.models import codepipeline_backends

    name = naming.pipeline_name(spec.name, app)
    pipeline = client("codepipeline")
    backend = codepipeline_backends[ACCOUNT][REGION]
    ids = []
    for i, (commit, status) in enumerate(commits):
        execution_id = pipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
        execution = backend.pipelines[name].executions[execution_id]
        execution.status = status
        execution.start_time = execution.start_time.replace(hour=9 + i, minute=0, second=0, microsecond=0)
        execution.last_update_time = execution.start_time.replace(minute=12)
        revisions = [{"actionName": "Source", "revisionId": commit, "revisionSummary": f"Change number {i + 1}"}]
        summary = execution.to_summary_dict  # emulator patch (docs/cli.md): moto answers sourceRevisions: []
        replace(execution, "to_summary_dict", lambda summary=summary, revisions=revisions: {
            **summary(), "sourceRevisions": revisions})
        ids.append(execution_id)
    return ids


def put_logs(group: str, stream: str, messages: list[str], start_ms: int) -> None:
    """Play a container writing to its awslogs stream."""
    logs = client("logs")
    with suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": start_ms + i, "message": m} for i, m in enumerate(messages)])
