"""Pipeline actions as data: a stage's run orders are computed, its failures announced, its projects and task grants
made one way. Adding an action is adding one description."""

from __future__ import annotations

import json
from functools import partial

import aws_cdk as cdk
import pytest
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from shipway import defaults, nag, naming
from shipway.constructs.pipeline import ActionContext, DeliveryPipeline, SourceRepository, Target
from shipway.constructs.stage_actions import Phase, StageAction, pipeline_actions, run_orders
from shipway.constructs.task_runner import TaskRunnerGrant
from shipway.spec import load_spec
from shipway.stacks.app_pipeline import AppPipelineStack
from shipway.synth import cdk_context

from .conftest import SHIPPED
from .test_pipeline import of_type, pipeline_of, stage_plan

# --- a new post-deploy action: one description, nothing else ------------------------------------


class WithSmokeTest(AppPipelineStack):
    """The shipped minne pipeline plus a smoke test after every environment's records: nothing but this
    description is added (no run order, no notification, no project settings written for it)."""

    def more_actions(self, context: ActionContext) -> list[StageAction]:
        project = context.projects.project(
            self, f"SmokeTest-{context.env}", description=f"smoke test of {context.env}",
            build_spec={"version": "0.2", "phases": {"build": {"commands": ["curl -fsS https://example.com/"]}}},
            log_prefix="smoke",
        )
        smoke = StageAction("SmokeTest", Phase.POST_DEPLOY, partial(
            actions.CodeBuildAction, project=project, input=context.input,
        ))
        return [*super().more_actions(context), smoke]


@pytest.fixture(scope="module")
def smoke() -> dict:
    spec = load_spec(SHIPPED)
    app = cdk.App(context=cdk_context())
    return dict(Template.from_stack(WithSmokeTest(app, spec=spec, app="minne")).to_json())


def test_a_new_post_deploy_action_runs_after_everything_before_it(smoke):
    plan = stage_plan(smoke)
    assert plan[2] == ("staging", [["ProvisionDatabase"], ["Release"], ["Deploy-web", "Deploy-worker"], ["GoLive"],
                                   ["LoadTest", "RecordImageTag", "RecordLiveTargetGroups"], ["SmokeTest"]])
    assert plan[3] == ("production", [["Approve"], ["ProvisionDatabase"], ["Release"], ["Deploy-web", "Deploy-worker"],
                                      ["GoLive"], ["RecordImageTag", "RecordLiveTargetGroups"], ["SmokeTest"]])
    orders = {(stage["Name"], a["Name"]): a["RunOrder"] for stage in pipeline_of(smoke)["Stages"]
              for a in stage["Actions"]}
    assert orders[("staging", "SmokeTest")] == 6 and orders[("production", "SmokeTest")] == 7


def test_a_new_post_deploy_action_is_announced_when_it_fails(smoke):
    """Its failure fails its stage, and the stage's failure goes to its environment's topic: no rule was written
    for it, the rules follow from the stages."""
    failures = [r["Properties"] for r in of_type(smoke, "AWS::Events::Rule").values()
                if r["Properties"]["EventPattern"].get("source") == ["aws.codepipeline"]]
    for stage in pipeline_of(smoke)["Stages"]:
        if not any(a["Name"] == "SmokeTest" for a in stage["Actions"]):
            continue
        (rule,) = [r for r in failures if stage["Name"] in r["EventPattern"]["detail"]["stage"]]
        assert rule["EventPattern"]["detail"]["state"] == ["FAILED"]
        topic = smoke["Parameters"][rule["Targets"][0]["Arn"]["Ref"]]["Default"]
        assert topic == naming.parameter("acme", stage["Name"], naming.Param.ALARM_TOPIC_ARN)
    covered = sorted(s for r in failures for s in r["EventPattern"]["detail"]["stage"])
    assert covered == sorted(s["Name"] for s in pipeline_of(smoke)["Stages"]), "every stage is announced once"


def test_a_new_project_is_made_like_every_other(smoke):
    projects = {r["Metadata"]["aws:cdk:path"]: r["Properties"]
                for r in of_type(smoke, "AWS::CodeBuild::Project").values()}
    (smoke_test,) = [p for path, p in projects.items() if "SmokeTest-staging" in path]
    (record,) = [p for path, p in projects.items() if path.endswith("/Delivery/Record/Resource")]
    assert smoke_test["Environment"]["Image"] == defaults.BUILD_IMAGE
    assert smoke_test["EncryptionKey"] == record["EncryptionKey"]
    logs, record_logs = smoke_test["LogsConfig"]["CloudWatchLogs"], record["LogsConfig"]["CloudWatchLogs"]
    assert logs["GroupName"] == record_logs["GroupName"]
    assert logs["StreamName"] == "smoke"


# --- run orders ------------------------------------------------------------------------------------


def named(name: str, phase: Phase, beside: str | None = None) -> StageAction:
    return StageAction(name, phase, actions.ManualApprovalAction, beside=beside)


def test_run_orders_follow_the_phases_whatever_order_the_actions_are_listed_in():
    plan = [named("Check", Phase.POST_DEPLOY), named("Deploy-a", Phase.DEPLOY), named("Approve", Phase.PRE_DEPLOY),
            named("Deploy-b", Phase.DEPLOY, beside="Deploy-a"), named("Record", Phase.POST_DEPLOY, beside="Check")]
    assert [(a.name, order) for a, order in run_orders(plan)] == [
        ("Approve", 1), ("Deploy-a", 2), ("Deploy-b", 2), ("Check", 3), ("Record", 3),
    ]


@pytest.mark.parametrize(("plan", "message"), [
    ([named("Record", Phase.POST_DEPLOY, beside="GoLive")], "Record runs beside GoLive, which is not an earlier"),
    ([named("Release", Phase.PRE_DEPLOY), named("GoLive", Phase.POST_DEPLOY, beside="Release")],
     "GoLive runs beside Release, which is not an earlier post-deploy action"),
    ([named("Release", Phase.PRE_DEPLOY), named("Release", Phase.PRE_DEPLOY)], "two actions named Release"),
])
def test_a_plan_that_cannot_run_says_why(plan, message):
    with pytest.raises(ValueError, match=message):
        run_orders(plan)


def test_an_action_is_named_by_its_description_only():
    """The description's name is the one the pipeline gets: the maker is handed it, so the two cannot differ."""
    made = pipeline_actions([named("Check", Phase.POST_DEPLOY), named("Approve", Phase.PRE_DEPLOY)])
    assert [(a.action_properties.action_name, a.action_properties.run_order) for a in made] == [
        ("Approve", 1), ("Check", 2)]


# --- the task-runner grant -------------------------------------------------------------------------


def granted(grant: TaskRunnerGrant, **kwargs) -> list[dict]:
    stack = cdk.Stack(cdk.App(), "Grant")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
    grant.grant(role, **kwargs)
    (policy,) = of_type(dict(Template.from_stack(stack).to_json()), "AWS::IAM::Policy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_grant_runs_only_its_families_in_its_clusters_and_passes_only_its_roles():
    statements = granted(TaskRunnerGrant(clusters=["c-staging", "c-production"], families=["f-staging", "f-production"],
                                         runs=["f-staging", "f-production"], roles=["r-task", "r-execution"]))
    assert [s["Action"] for s in statements] == [
        ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], "ecs:RunTask", "ecs:TagResource",
        ["ecs:DescribeTasks", "ecs:StopTask"], "iam:PassRole",
    ]
    run, tag, passing = statements[1], statements[2], statements[4]
    text = json.dumps(run)
    assert ":task-definition/f-staging:*" in text and ":task-definition/f-production:*" in text
    assert len(run["Condition"]["ArnEquals"]["ecs:cluster"]) == 2, "several clusters: a list"
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    roles = sorted(json.dumps(r).split(":role/")[1].split('"')[0] for r in passing["Resource"])
    assert roles == ["r-execution", "r-task"]


def test_a_grant_for_one_cluster_names_it_once_and_may_put_its_services_first():
    statements = granted(TaskRunnerGrant(clusters="c", families=["f"], services=["s"], roles=["r"],
                                         task_actions=["ecs:DescribeTasks"], list_tasks=True), services_first=True)
    assert [s["Action"] for s in statements] == [
        ["ecs:DescribeServices", "ecs:UpdateService"], ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
        "ecs:TagResource", "ecs:ListTasks", "ecs:DescribeTasks", "iam:PassRole",
    ]
    assert isinstance(statements[3]["Condition"]["ArnEquals"]["ecs:cluster"], dict), "one cluster: one ARN"
    assert ":service/c/s" in json.dumps(statements[0]["Resource"])


def test_a_grant_runs_only_families_it_registers():
    with pytest.raises(ValueError, match=r"runs \['other'\]: a task runner runs only the families"):
        TaskRunnerGrant(clusters="c", families=["f"], runs=["other"], roles=["r"])


# --- every acknowledgement of the pipeline answers a real finding -----------------------------------


@pytest.mark.parametrize("app_name", ["minne", "blog"])
def test_each_acknowledgement_of_the_pipeline_answers_a_real_finding(app_name, tmp_path, monkeypatch):
    """With acknowledgements off, cdk-nag reports each one the pipeline stack makes (grant, project factory,
    pipeline): none is left over from a statement that no longer exists."""
    acknowledged: set[tuple[str, str]] = set()
    monkeypatch.setattr(nag, "acknowledge", lambda scope, finding, reason: acknowledged.add(
        (scope.node.path, finding.removeprefix("AwsSolutions::"))
    ))
    app = cdk.App(outdir=str(tmp_path), context=cdk_context(), analytics_reporting=False)
    nag.add_checks(app)
    AppPipelineStack(app, spec=load_spec(SHIPPED), app=app_name)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (c["constructPath"], v["ruleName"])
        for plugin in report["pluginReports"] for v in plugin["violations"] for c in v["violatingConstructs"]
    }
    assert len(acknowledged) > 20
    for path, finding in acknowledged:
        assert any(f == finding and (p == path or p.startswith(path + "/")) for p, f in findings), (path, finding)


# --- the construct alone: primitives and CDK types, no spec ----------------------------------------


def test_delivery_pipeline_in_a_bare_stack():
    """DeliveryPipeline knows nothing of the spec: a plain Stack, its own repositories, topic and parameter."""
    stack = cdk.Stack(cdk.App(), "Bare")
    topic = sns.Topic(stack, "Topic")
    target = Target(
        env="dev", cluster_name="c-dev", services={"web": "app-web"}, task_families=["app-dev-web"],
        alarm_topic=topic, image_tag_parameter=ssm.StringParameter(stack, "Tag", string_value="none"),
        service_counts_parameter="/counts", no_image_tag="none", approve=True,
    )
    delivery = DeliveryPipeline(
        stack, "Delivery", pipeline_name="app", project="p", app="app",
        source=SourceRepository(branch="main", codecommit=codecommit.Repository(stack, "Code", repository_name="c")),
        repository=ecr.Repository(stack, "Images"), cache_repository=ecr.Repository(stack, "Cache"),
        build_spec={"version": "0.2", "phases": {"build": {"commands": ["true"]}}},
        compute=codebuild.ComputeType.SMALL, targets=[target], log_retention=logs.RetentionDays.ONE_WEEK,
        log_group_name="/p/app", release_command="./migrate", release_timeout=cdk.Duration.minutes(30),
        deploy_timeout=cdk.Duration.minutes(60),
    )
    template = dict(Template.from_stack(stack).to_json())
    assert stage_plan(template)[2] == ("dev", [["Approve"], ["Release"], ["Deploy-web"], ["GoLive"],
                                               ["RecordImageTag"]])
    assert [a.name for a in delivery.plans["dev"]] == ["Approve", "Release", "Deploy-web", "GoLive", "RecordImageTag"]
    (rule,) = [r["Properties"] for r in of_type(template, "AWS::Events::Rule").values()
               if r["Properties"]["EventPattern"].get("source") == ["aws.codepipeline"]]
    assert rule["EventPattern"]["detail"]["stage"] == ["Source", "Build", "dev"]
    images = {r["Properties"]["Environment"]["Image"] for r in of_type(template, "AWS::CodeBuild::Project").values()}
    assert images == {defaults.BUILD_IMAGE}
