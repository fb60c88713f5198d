"""moto's own gaps, patched for the emulated deploy; each patch is minimal and pinned to MOTO_VERSION.

docs/e2e.md lists every patch with what it stands in for. ``apply()`` refuses any other moto version, so
an upgrade is a deliberate act: re-check each gap, then move the pin in requirements-dev.txt and here.
"""

from __future__ import annotations

from collections.abc import Callable
from graphlib import TopologicalSorter
from importlib.metadata import version
from typing import Any

MOTO_VERSION = "5.2.5"

# The stand-in resource types: moto finds CloudFormation types through __subclasses__, which holds only weak
# references, so they live here.
STAND_INS: list[type] = []


def moto_function(owner: type, name: str) -> Any:
    """What moto's class ``owner`` has as ``name``, as a patch calls it: a classmethod's own function (called
    with the class first), any other function as it is."""
    found = getattr(owner, name)
    return getattr(found, "__func__", found)


def replace(owner: object, name: str, replacement: object) -> None:
    """Put ``replacement`` where moto has ``owner.name``: the one way a patch changes moto (moto's own types
    say its methods are fixed, which is what a patch is there to change)."""
    setattr(owner, name, replacement)


def _rewrite_properties(model: type, method: str, rewrite: Callable[[dict], None]) -> None:
    """Let ``rewrite`` edit a resource's CloudFormation properties before moto's own ``method`` reads them."""
    original = moto_function(model, method)

    def wrapped(cls, *args, **kwargs):
        # create_* is called with (name, json, ...) by position, update_* with keywords
        cloudformation_json = kwargs["cloudformation_json"] if "cloudformation_json" in kwargs else args[1]
        rewrite(cloudformation_json.setdefault("Properties", {}))
        return original(cls, *args, **kwargs)

    replace(model, method, classmethod(wrapped))


def _eip_public_ip() -> None:
    """``Fn::GetAtt [EIP, PublicIp]`` (CloudFormation documents it; moto knows only AllocationId)."""
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress

    allocation_only = moto_function(ElasticAddress, "get_cfn_attribute")

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "PublicIp":
            return self.public_ip
        return allocation_only(self, attribute_name)

    replace(ElasticAddress, "has_cfn_attr", classmethod(lambda cls, attr: attr in ("AllocationId", "PublicIp")))
    replace(ElasticAddress, "get_cfn_attribute", get_cfn_attribute)


def _spot_fleet_launch_templates() -> None:
    """``AWS::EC2::SpotFleet`` with ``LaunchTemplateConfigs`` (moto's CloudFormation reads only
    ``LaunchSpecifications``; its API already takes launch templates)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.spot_requests import SpotFleetRequest

    specifications_only = moto_function(SpotFleetRequest, "create_from_cloudformation_json")

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        config = cloudformation_json["Properties"]["SpotFleetRequestConfigData"]
        if "LaunchTemplateConfigs" not in config:
            return specifications_only(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return ec2_backends[account_id][region_name].request_spot_fleet(
            config.get("SpotPrice"), config["TargetCapacity"], config["IamFleetRole"],
            config.get("AllocationStrategy", "lowestPrice"), [],
            launch_template_config=config["LaunchTemplateConfigs"],
        )

    replace(SpotFleetRequest, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json))


def _kms_key_tags() -> None:
    """``AWS::KMS::Key`` ``Tags`` as CloudFormation writes them (Key/Value; moto's tagger wants TagKey/TagValue)."""
    from moto.kms.models import Key

    def rewrite(properties: dict) -> None:
        properties["Tags"] = [
            {"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t for t in properties.get("Tags", [])
        ]

    _rewrite_properties(Key, "create_from_cloudformation_json", rewrite)


def _ssm_parameter_tags() -> None:
    """``AWS::SSM::Parameter`` ``Tags`` as CloudFormation writes them (a map; moto expects a list)."""
    from moto.ssm.models import Parameter

    def rewrite(properties: dict) -> None:
        if isinstance(properties.get("Tags"), dict):
            properties["Tags"] = [{"Key": k, "Value": v} for k, v in properties["Tags"].items()]

    _rewrite_properties(Parameter, "create_from_cloudformation_json", rewrite)
    _rewrite_properties(Parameter, "update_from_cloudformation_json", rewrite)


def _resource_type(type_name: str, create: Callable, attributes: Callable[[Any], dict],
                   physical_id: Callable[[Any], str]) -> type:
    """A CloudFormation resource type moto's CloudFormation lacks: ``create(properties, name, account,
    region)`` makes it through moto's own backend (and makes it again on update), ``attributes`` gives its
    ``Fn::GetAtt`` values, ``physical_id`` its ``Ref``."""
    from moto.core.common_models import CloudFormationModel

    class StandIn(CloudFormationModel):
        def __init__(self, model: object) -> None:
            self.model = model

        @staticmethod
        def cloudformation_type() -> str:
            return type_name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name,
                                            **kwargs):
            properties = cloudformation_json.get("Properties", {})
            return cls(create(properties, resource_name, account_id, region_name))

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                            account_id, region_name):
            properties = cloudformation_json.get("Properties", {})
            return cls(create(properties, new_resource_name, account_id, region_name))

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        def get_cfn_attribute(self, attribute_name: str):
            return attributes(self.model)[attribute_name]

        @property
        def physical_resource_id(self) -> str:
            return physical_id(self.model)

    StandIn.__name__ = "StandIn" + type_name.replace("::", "")
    STAND_INS.append(StandIn)
    return StandIn


def _scalable_target() -> None:
    """``AWS::ApplicationAutoScaling::ScalableTarget``, with its ``SuspendedState`` and ``ScheduledActions``,
    through moto's Application Auto Scaling (moto's CloudFormation lacks the type)."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    def create(properties, name, account_id, region_name):
        backend = applicationautoscaling_backends[account_id][region_name]
        namespace, resource, dimension = (properties["ServiceNamespace"], properties["ResourceId"],
                                          properties["ScalableDimension"])
        target = backend.register_scalable_target(
            namespace, resource, dimension, int(properties["MinCapacity"]), int(properties["MaxCapacity"]),
            properties.get("RoleARN"), properties.get("SuspendedState"),
        )
        for action in properties.get("ScheduledActions", []):
            backend.put_scheduled_action(
                namespace, action["Schedule"], action.get("Timezone"), action["ScheduledActionName"], resource,
                dimension, action.get("StartTime"), action.get("EndTime"), action.get("ScalableTargetAction"),
            )
        return target

    _resource_type("AWS::ApplicationAutoScaling::ScalableTarget", create, lambda t: {},
                   lambda t: f"{t.resource_id}|{t.scalable_dimension}|{t.service_namespace}")


def _service_discovery() -> None:
    """``AWS::ServiceDiscovery::PrivateDnsNamespace`` and ``::Service`` through moto's Cloud Map."""
    from moto.servicediscovery.models import servicediscovery_backends

    def namespace(properties, name, account_id, region_name):
        backend = servicediscovery_backends[account_id][region_name]
        backend.create_private_dns_namespace(
            properties["Name"], name, properties.get("Description"), properties["Vpc"], [],
            properties.get("Properties"),
        )
        return next(n for n in backend.namespaces.values() if n.name == properties["Name"])

    def service(properties, name, account_id, region_name):
        return servicediscovery_backends[account_id][region_name].create_service(
            properties.get("Name", name), properties["NamespaceId"], name, properties.get("Description"),
            properties.get("DnsConfig"), properties.get("HealthCheckConfig"),
            properties.get("HealthCheckCustomConfig"), [], properties.get("Type"),
        )

    ids = lambda m: {"Id": m.id, "Arn": m.arn, "Name": m.name}  # noqa: E731
    # moto keeps the private hosted zone it creates for the namespace in its DNS properties
    zone = lambda m: {**ids(m), "HostedZoneId": m.dns_properties["HostedZoneId"]}  # noqa: E731
    _resource_type("AWS::ServiceDiscovery::PrivateDnsNamespace", namespace, zone, lambda m: m.id)
    _resource_type("AWS::ServiceDiscovery::Service", service, ids, lambda m: m.id)


def _codecommit_repository() -> None:
    """``AWS::CodeCommit::Repository`` through moto's CodeCommit."""
    from moto.codecommit.models import codecommit_backends

    def create(properties, name, account_id, region_name):
        backend = codecommit_backends[account_id][region_name]
        existing = backend.repositories.get(properties["RepositoryName"])
        if existing is not None:
            return existing.repository_metadata
        return backend.create_repository(properties["RepositoryName"], properties.get("RepositoryDescription"))

    _resource_type("AWS::CodeCommit::Repository", create,
                   lambda m: {"Arn": m["Arn"], "Name": m["repositoryName"], "CloneUrlHttp": m["cloneUrlHttp"]},
                   lambda m: m["repositoryId"])


def _codebuild_project_arn() -> None:
    """``AWS::CodeBuild::Project``'s ``Ref`` and ``Arn`` (moto's CloudFormation lacks the type; the e2e runs the
    projects' buildspecs itself, so only the name and ARN that other resources point at are needed)."""

    def create(properties, name, account_id, region_name):
        name = properties.get("Name", name)
        return {"Name": name, "Arn": f"arn:aws:codebuild:{region_name}:{account_id}:project/{name}"}

    _resource_type("AWS::CodeBuild::Project", create, lambda m: m, lambda m: m["Name"])


def _db_parameter_group_ref() -> None:
    """``Ref`` of an ``AWS::RDS::DBParameterGroup`` is its name (moto gives the object itself)."""
    from moto.rds.models import DBParameterGroup

    replace(DBParameterGroup, "physical_resource_id", property(lambda self: self.name))


def _db_instance_managed_master_secret() -> None:
    """``AWS::RDS::DBInstance`` with ``ManageMasterUserPassword`` and ``Fn::GetAtt MasterUserSecret.SecretArn``
    (moto's API makes the secret in its Secrets Manager; its CloudFormation drops the property)."""
    from moto.rds.models import DBInstance, MasterUserSecret

    create = moto_function(DBInstance, "create_from_cloudformation_json")
    has_attribute, attribute = moto_function(DBInstance, "has_cfn_attr"), moto_function(DBInstance, "get_cfn_attribute")

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, *args, **kwargs):
        database = create(cls, resource_name, cloudformation_json, *args, **kwargs)
        properties = cloudformation_json["Properties"]
        if properties.get("ManageMasterUserPassword"):
            database.manage_master_user_password = True
            database.master_user_secret = MasterUserSecret(
                database, properties.get("MasterUserSecret", {}).get("KmsKeyId"))
        return database

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "MasterUserSecret.SecretArn":
            return self.master_user_secret.secret.arn
        return attribute(self, attribute_name)

    replace(DBInstance, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json))
    replace(DBInstance, "has_cfn_attr", classmethod(
        lambda cls, attr: attr == "MasterUserSecret.SecretArn" or has_attribute(cls, attr)))
    replace(DBInstance, "get_cfn_attribute", get_cfn_attribute)


def _secret() -> None:
    """``AWS::SecretsManager::Secret`` with a ``SecretString`` through moto's Secrets Manager (moto's
    CloudFormation lacks the type); ``Ref`` is its ARN, as in CloudFormation."""
    from moto.secretsmanager.models import secretsmanager_backends

    def create(properties, name, account_id, region_name):
        backend = secretsmanager_backends[account_id][region_name]
        backend.create_secret(
            properties.get("Name", name), properties.get("SecretString"), None, properties.get("Description"),
            properties.get("Tags"), properties.get("KmsKeyId"), None, [], True,
        )
        return backend.describe_secret(properties.get("Name", name))

    _resource_type("AWS::SecretsManager::Secret", create, lambda d: {"Id": d.arn}, lambda d: d.arn)


def _target_group_attributes() -> None:
    """``Fn::GetAtt`` of an ``AWS::ElasticLoadBalancingV2::TargetGroup``: its full name (``targetgroup/<name>/<id>``,
    what ALB metrics are keyed by), name and ARN (moto's target group answers none)."""
    from moto.elbv2.models import FakeTargetGroup

    def get_cfn_attribute(self, attribute_name):
        return {
            "TargetGroupFullName": self.arn.split(":", 5)[5],
            "TargetGroupName": self.name,
            "TargetGroupArn": self.arn,
        }[attribute_name]

    replace(FakeTargetGroup, "has_cfn_attr", classmethod(
        lambda cls, attr: attr in ("TargetGroupFullName", "TargetGroupName", "TargetGroupArn")))
    replace(FakeTargetGroup, "get_cfn_attribute", get_cfn_attribute)


def _names(node) -> set[str]:
    """The parameters, conditions and resources a piece of template refers to."""
    if isinstance(node, list):
        return set().union(*(_names(n) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::If":
            found.add(value[0])
        elif key == "Condition" and isinstance(value, str):
            found.add(value)
        found |= _names(value)
    return found


def _depends_on(resource: dict) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else depends


def _ssm_parameters_resolved_on_update() -> None:
    """A stack update re-reads its ``AWS::SSM::Parameter::Value`` parameters and updates what depends on a
    changed value, through conditions and references (CloudFormation compares resolved values; moto compares
    the template's text only, so an update with the same template changed nothing)."""
    from moto.cloudformation.parsing import ResourceMap
    from moto.ssm.models import ssm_backends

    text_diff = moto_function(ResourceMap, "build_resource_diff")

    def build_resource_diff(self, other_template, parameters=None):
        actions = text_diff(self, other_template, parameters)
        ssm = ssm_backends[self._account_id][self._region_name]
        changed = set()
        for name, slot in other_template.get("Parameters", {}).items():
            if slot.get("Type", "").startswith("AWS::SSM::Parameter::Value") and name in self.resolved_parameters:
                current = ssm.get_parameter(slot["Default"])
                if current is not None and current.value != self.resolved_parameters[name]:
                    changed.add(name)
        resources = other_template["Resources"]
        dependents = [*other_template.get("Conditions", {}).items(), *resources.items()]
        modified = set(actions["Modify"]) | set(actions["Add"])
        grew = bool(changed)
        while grew:
            grew = False
            for name, body in dependents:
                if name in changed or name in modified or not _names(body) & (changed | modified):
                    continue
                (modified if name in resources else changed).add(name)
                grew = True
        # A resource is updated after what it refers to or depends on, as CloudFormation orders an update.
        updates = {n for n in modified if n in self._resource_json_map and n not in actions["Add"]}
        depends = {n: (_names(resources[n]) | set(_depends_on(resources[n]))) & updates for n in updates}
        actions["Modify"] = list(TopologicalSorter(depends).static_order())
        return actions

    replace(ResourceMap, "build_resource_diff", build_resource_diff)


def _task_definition_update_keys() -> None:
    """An ``AWS::ECS::TaskDefinition`` update reads ``ContainerDefinitions`` as its create does (moto's create
    maps CloudFormation's PascalCase keys to the API's camelCase; its update keeps them, so ``image`` is lost)."""
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs.models import TaskDefinition

    def rewrite(properties: dict) -> None:
        for key in ("ContainerDefinitions", "Volumes"):
            if key in properties:
                properties[key] = remap_nested_keys(properties[key], pascal_to_camelcase)

    _rewrite_properties(TaskDefinition, "update_from_cloudformation_json", rewrite)


SHIFTING = ("BLUE_GREEN", "CANARY", "LINEAR")
# Every moment the ALB's production rule of a shifting service forwarded to the group without its live tasks.
TRAFFIC_TO_EMPTY_GROUP: list[str] = []


def _weights(rule) -> dict[str, int]:
    return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for a in rule.actions if a.type == "forward"
            for g in a.data.get("ForwardConfig", {}).get("TargetGroups", [])}


def live_group(service) -> tuple[str, str] | None:
    """(the group holding a shifting service's live tasks, the group its production rule weighs most), or None."""
    shift = getattr(service, "traffic_shift", None)
    if shift is None:
        return None
    from moto.elbv2.models import elbv2_backends

    (rule,) = elbv2_backends[shift["account"]][shift["region"]].describe_rules(None, [shift["rule"]])
    weights = _weights(rule)
    return shift["live"], max(weights, key=weights.__getitem__)


def _ecs_traffic_shift() -> None:
    """ECS-native canary, linear and blue/green deployments: a service keeps its ``LoadBalancers`` and strategy
    from CloudFormation (moto's CloudFormation drops them), and each deployment of a new task definition ends
    with production traffic on the other target group, the rule's weights swapped, as ECS's deployment
    controller leaves them (moto's shifts nothing). Whenever anything else writes the rule so that it weighs the
    group without the live tasks, ``TRAFFIC_TO_EMPTY_GROUP`` records it: the outage of aws/aws-cdk#36649."""
    from moto.ecs.models import EC2ContainerServiceBackend, Service
    from moto.elbv2.models import ELBv2Backend

    create = moto_function(Service, "create_from_cloudformation_json")

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        service = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json["Properties"]
        strategy = properties.get("DeploymentConfiguration", {}).get("Strategy", "ROLLING")
        for balancer in properties.get("LoadBalancers", []):
            advanced = balancer.get("AdvancedConfiguration")
            if advanced and strategy in SHIFTING:
                service.traffic_shift = {
                    "rule": advanced["ProductionListenerRule"], "account": account_id, "region": region_name,
                    "groups": (balancer["TargetGroupArn"], advanced["AlternateTargetGroupArn"]),
                    "live": balancer["TargetGroupArn"],  # a new service's tasks join its primary group
                }
        return service

    update = moto_function(EC2ContainerServiceBackend, "update_service")

    def update_service(self, service_properties):
        cluster = service_properties.get("cluster", "default")
        before = self._get_service(cluster, service_properties["service"].split("/")[-1]).task_definition
        service = update(self, service_properties)
        shift = getattr(service, "traffic_shift", None)
        if shift is not None and service.task_definition != before:
            from moto.elbv2.models import elbv2_backends

            (rule,) = elbv2_backends[shift["account"]][shift["region"]].describe_rules(None, [shift["rule"]])
            shift["live"] = next(g for g in shift["groups"] if g != shift["live"])
            for action in rule.actions:
                for group in action.data.get("ForwardConfig", {}).get("TargetGroups", []):
                    group["Weight"] = 100 if group["TargetGroupArn"] == shift["live"] else 0
        return service

    modify = moto_function(ELBv2Backend, "modify_rule")

    def modify_rule(self, rule_arn, conditions, actions):
        rule = modify(self, rule_arn, conditions, actions)
        from moto.ecs.models import ecs_backends

        for service in ecs_backends[self.account_id][self.region_name].services.values():
            shift = getattr(service, "traffic_shift", None)
            if shift is not None and shift["rule"] == rule_arn:
                weights = _weights(rule)
                if max(weights, key=weights.__getitem__) != shift["live"]:
                    TRAFFIC_TO_EMPTY_GROUP.append(f"{service.cluster_name} {service.name}: its production rule was "
                                                  "written to forward to the target group without its live tasks")
        return rule

    replace(Service, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json))
    replace(EC2ContainerServiceBackend, "update_service", update_service)
    replace(ELBv2Backend, "modify_rule", modify_rule)


def _task_level_memory() -> None:
    """``RunTask`` of a task definition whose memory is set at task level only, as Fargate's are (moto adds up the
    containers' memory and fails on a container without any)."""
    from moto.ecs.models import EC2ContainerServiceBackend

    per_container = moto_function(EC2ContainerServiceBackend, "_calculate_task_resource_requirements")

    def calculate(task_definition):
        bare = [c for c in task_definition.container_definitions
                if not {"memory", "memoryReservation", "Memory", "MemoryReservation"} & set(c)]
        for container in bare:
            container["memoryReservation"] = 0
        try:
            return per_container(task_definition)
        finally:
            for container in bare:
                del container["memoryReservation"]

    replace(EC2ContainerServiceBackend, "_calculate_task_resource_requirements", staticmethod(calculate))


PATCHES = (
    _eip_public_ip, _task_level_memory, _ecs_traffic_shift, _task_definition_update_keys,
    _ssm_parameters_resolved_on_update, _target_group_attributes, _secret, _db_parameter_group_ref,
    _db_instance_managed_master_secret, _spot_fleet_launch_templates, _kms_key_tags, _ssm_parameter_tags,
    _scalable_target, _service_discovery, _codecommit_repository, _codebuild_project_arn,
)


def apply() -> None:
    """Patch moto once per process (a second wrapping would, for one, shift traffic twice per deployment)."""
    if STAND_INS:
        return
    installed = version("moto")
    if installed != MOTO_VERSION:
        raise RuntimeError(f"e2e/moto_patches.py is written for moto {MOTO_VERSION}, not {installed}")
    from moto.cloudformation.parsing import get_model_list, get_model_map, get_name_type_map

    for patch in PATCHES:
        patch()
    # moto lists CloudFormation types once; the stand-ins above join that list.
    get_model_list.cache_clear()
    get_model_map.cache_clear()
    get_name_type_map.cache_clear()
