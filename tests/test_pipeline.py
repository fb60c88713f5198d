"""The <name>-<app> stacks: source, cached build, release, staged deploys, approval, notifications."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import aws_cdk as cdk
import pytest
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk.assertions import Match, Template

from shipway import defaults, naming
from shipway.constructs import buildspec
from shipway.constructs.stage_actions import Phase, StageAction
from shipway.spec import SpecError, load_spec, parse_spec
from shipway.stacks.app_pipeline import AppPipelineStack

from .codebuild import run_commands
from .conftest import SHIPPED

BASH = shutil.which("bash")
JQ = shutil.which("jq")


@pytest.fixture(scope="module")
def minne(shipped_templates) -> dict:
    return shipped_templates["acme-minne"]


@pytest.fixture(scope="module")
def blog(shipped_templates) -> dict:
    return shipped_templates["acme-blog"]


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def pipeline_of(template: dict) -> dict:
    (pipeline,) = of_type(template, "AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]


def stage_plan(template: dict) -> list[tuple[str, list[list[str]]]]:
    """Each stage's actions, grouped by run order: [(stage, [[names at run order 1], [names at 2], ...])]."""
    plan = []
    for stage in pipeline_of(template)["Stages"]:
        orders: dict[int, list[str]] = {}
        for action in stage["Actions"]:
            orders.setdefault(action["RunOrder"], []).append(action["Name"])
        plan.append((stage["Name"], [sorted(orders[o]) for o in sorted(orders)]))
    return plan


def project_named(template: dict, construct: str) -> dict:
    """The CodeBuild project whose CDK path ends with ``construct`` (e.g. ``Delivery/Build``)."""
    (project,) = [
        r for r in of_type(template, "AWS::CodeBuild::Project").values()
        if r["Metadata"]["aws:cdk:path"].endswith(f"/{construct}/Resource")
    ]
    return project


def build_spec_of(project: dict) -> dict:
    text = project["Properties"]["Source"]["BuildSpec"]
    assert isinstance(text, str), "buildspecs carry no tokens: deploy-time values come as environment variables"
    return json.loads(text)


def commands_of(spec: dict) -> list[str]:
    return [c for phase in spec["phases"].values() for c in phase.get("commands", [])]


def all_build_specs(templates: dict[str, dict]) -> dict[str, dict]:
    return {
        f"{name}:{r['Metadata']['aws:cdk:path']}": build_spec_of(r)
        for name, t in templates.items()
        for r in of_type(t, "AWS::CodeBuild::Project").values()
    }


# --- stage order -----------------------------------------------------------------------------------


def test_minne_stages_run_source_build_then_release_deploy_record_per_environment_with_approval(minne):
    assert stage_plan(minne) == [
        ("Source", [["Source"]]),
        ("Build", [["Image"]]),
        # minne's loadtest.environment is staging: its load-test gate runs beside the tag record, after GoLive;
        # each stage provisions the app's own database (if missing) before the release runs migrations in it
        ("staging", [["ProvisionDatabase"], ["Release"], ["Deploy-web", "Deploy-worker"], ["GoLive"],
                     ["LoadTest", "RecordImageTag", "RecordLiveTargetGroups"]]),
        ("production", [["Approve"], ["ProvisionDatabase"], ["Release"], ["Deploy-web", "Deploy-worker"], ["GoLive"],
                        ["RecordImageTag", "RecordLiveTargetGroups"]]),
    ]


def test_blog_has_no_release_and_no_approval(blog):
    assert stage_plan(blog) == [
        ("Source", [["Source"]]),
        ("Build", [["Image"]]),
        *[(env, [["ProvisionDatabase"], ["Deploy-web"], ["GoLive"], ["RecordImageTag", "RecordLiveTargetGroups"]])
          for env in ("staging", "production")],
    ]


def test_environments_follow_the_spec_order(shipped):
    spec = load_spec(SHIPPED)
    for app in spec.apps:
        stages = [s["Name"] for s in pipeline_of(shipped.templates()[f"acme-{app}"])["Stages"]]
        assert stages[2:] == list(spec.environments)


def test_deploy_actions_address_each_process_service_without_a_stack_update(minne):
    for stage in pipeline_of(minne)["Stages"][2:]:
        deploys = [a for a in stage["Actions"] if a["Name"].startswith("Deploy-")]
        assert {a["ActionTypeId"]["Provider"] for a in deploys} == {"ECS"}
        assert sorted(a["Configuration"]["ServiceName"] for a in deploys) == ["minne-web", "minne-worker"]
        assert {a["Configuration"]["ClusterName"] for a in deploys} == {naming.cluster_name("acme", stage["Name"])}
        assert {a["InputArtifacts"][0]["Name"] for a in deploys} == {"Image"}
        assert {a["Configuration"]["DeploymentTimeout"] for a in deploys} == {60}
    assert not of_type(minne, "AWS::CloudFormation::Stack")
    assert "CloudFormation" not in json.dumps(pipeline_of(minne)["Stages"])


def test_release_runs_the_environment_release_family_with_the_new_image(minne):
    for stage in pipeline_of(minne)["Stages"][2:]:
        (release,) = [a for a in stage["Actions"] if a["Name"] == "Release"]
        env = {v["name"]: v["value"] for v in json.loads(release["Configuration"]["EnvironmentVariables"])}
        assert env == {
            "IMAGE_URI": "#{Build.IMAGE_URI}",
            "CLUSTER": naming.cluster_name("acme", stage["Name"]),
            "TASK_FAMILY": naming.task_family("acme", "minne", stage["Name"], "release"),
            "SUBNETS_PARAMETER": naming.parameter("acme", stage["Name"], naming.Param.PRIVATE_SUBNETS),
            "SECURITY_GROUP_PARAMETER": naming.parameter("acme", stage["Name"], naming.Param.APP_SECURITY_GROUP),
        }


def test_the_build_is_tagged_with_the_source_commit(minne, blog):
    for template in (minne, blog):
        (build,) = pipeline_of(template)["Stages"][1]["Actions"]
        env = json.loads(build["Configuration"]["EnvironmentVariables"])
        assert env == [{"name": "SOURCE_COMMIT", "type": "PLAINTEXT", "value": "#{Source_Source_NS.CommitId}"}]
        assert build["Namespace"] == "Build"


# --- source ----------------------------------------------------------------------------------------


def test_minne_source_is_a_retained_codecommit_repository_on_main(minne):
    template = Template.from_json(minne)
    template.has_resource("AWS::CodeCommit::Repository", {
        "Properties": {"RepositoryName": "minne"},
        "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
    })
    (source,) = pipeline_of(minne)["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["BranchName"] == "main"
    assert source["Configuration"]["PollForSourceChanges"] is False
    # a push to main starts the pipeline through EventBridge
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({
            "source": ["aws.codecommit"], "detail": Match.object_like({"referenceName": ["main"]}),
        }),
    })


def test_blog_source_is_a_codeconnections_repository_with_a_v2_push_trigger(blog):
    pipeline = pipeline_of(blog)
    assert pipeline["PipelineType"] == "V2"
    (source,) = pipeline["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "acme/blog"
    assert source["Configuration"]["ConnectionArn"].startswith("arn:aws:codeconnections:")
    assert pipeline["Triggers"] == [{
        "ProviderType": "CodeStarSourceConnection",
        "GitConfiguration": {"SourceActionName": "Source", "Push": [{"Branches": {"Includes": ["main"]}}]},
    }]
    assert not of_type(blog, "AWS::CodeCommit::Repository")


def test_artifact_bucket_is_kms_encrypted_retained_and_tls_only(minne):
    template = Template.from_json(minne)
    template.has_resource("AWS::S3::Bucket", {
        "DeletionPolicy": "RetainExceptOnCreate",
        "Properties": Match.object_like({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": {"Fn::GetAtt": ["DeliveryArtifactsKey52943D36", "Arn"]},
                },
                "BucketKeyEnabled": True,
            }]},
        }),
    })
    template.has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])},
    })
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "RetainExceptOnCreate", "Properties": Match.object_like({
        "EnableKeyRotation": True,
    })})
    assert pipeline_of(minne)["ArtifactStore"]["EncryptionKey"]["Type"] == "KMS"


# --- repositories and retention --------------------------------------------------------------------

def test_image_tag_parameter_logical_ids_are_pinned(shipped_templates):
    """Repositories, key, bucket and log group are pinned in test_pinned_ids.py; the tag parameters hold no
    data CloudFormation would lose, but a new logical ID would reset a deployed tag to "none"."""
    for app in ("minne", "blog"):
        resources = shipped_templates[f"acme-{app}"]["Resources"]
        for logical_id in ("ImageTagstagingDBF10516", "ImageTagproduction8F865F04"):
            assert resources[logical_id]["Type"] == "AWS::SSM::Parameter", (app, logical_id)


@pytest.mark.parametrize("app", ["minne", "blog"])
def test_repositories_keys_buckets_and_logs_are_retained(shipped_templates, app):
    resources = shipped_templates[f"acme-{app}"]["Resources"]
    kinds = {"AWS::ECR::Repository", "AWS::CodeCommit::Repository", "AWS::KMS::Key", "AWS::S3::Bucket",
             "AWS::Logs::LogGroup"}
    for logical_id, resource in resources.items():
        if resource["Type"] in kinds:
            assert resource.get("DeletionPolicy") == "RetainExceptOnCreate", logical_id
            assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_app_repository_is_immutable_scanned_encrypted_with_lifecycle_rules(minne):
    props = minne["Resources"]["Repository22E53BBD"]["Properties"]
    assert props["RepositoryName"] == "acme/minne"
    assert props["ImageTagMutability"] == "IMMUTABLE"
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    selections = [r["selection"] for r in rules]
    assert [(s["tagStatus"], s["countType"], s["countNumber"]) for s in selections] == [
        ("untagged", "sinceImagePushed", 1), ("any", "imageCountMoreThan", 100),
    ]


def test_build_cache_repository_is_mutable_with_a_lifecycle_rule(minne):
    props = minne["Resources"]["BuildCache8E743806"]["Properties"]
    assert props["RepositoryName"] == naming.build_cache_repository("acme", "minne")
    # an immutable repository answers a registry cache export with 400
    assert props["ImageTagMutability"] == "MUTABLE"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged"]


# --- the build ----------------------------------------------------------------------------------------


def test_dockerfile_build_exports_a_registry_cache_from_a_docker_container_builder(minne):
    project = project_named(minne, "Delivery/Build")
    spec = build_spec_of(project)
    install = spec["phases"]["install"]["commands"]
    assert "docker buildx create --name shipway --driver docker-container --use" in install
    build = spec["phases"]["build"]["commands"][0]  # minne's load-test image follows (test_loadtest_pipeline)
    cache = 'type=registry,ref="$CACHE_REPOSITORY_URI:buildx"'
    assert f"--cache-from {cache} " in build
    assert f"--cache-to {cache},mode=max,image-manifest=true,oci-mediatypes=true " in build
    assert '--tag "$IMAGE_URI"' in build and "--push" in build and "--file Dockerfile" in build
    env = {v["Name"]: json.dumps(v["Value"]) for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    assert "BuildCache8E743806" in env["CACHE_REPOSITORY_URI"]
    assert "Repository22E53BBD" in env["IMAGE_REPOSITORY_URI"]


def test_build_is_privileged_with_the_local_docker_layer_cache_as_a_bonus(minne, blog):
    for template in (minne, blog):
        props = project_named(template, "Delivery/Build")["Properties"]
        assert props["Environment"]["PrivilegedMode"] is True
        assert props["Environment"]["ComputeType"] == "BUILD_GENERAL1_MEDIUM"
        assert props["Cache"] == {"Type": "LOCAL", "Modes": ["LOCAL_DOCKER_LAYER_CACHE"]}


def test_buildpacks_build_installs_a_pinned_pack_and_caches_in_the_cache_repository(blog):
    spec = build_spec_of(project_named(blog, "Delivery/Build"))
    install = spec["phases"]["install"]["commands"]
    assert any(defaults.PACK_URL in c and f"v{defaults.PACK_VERSION}" in c for c in install)
    assert f"echo '{defaults.PACK_SHA256}  /tmp/pack.tgz' > /tmp/pack.tgz.sha256" in install
    assert "sha256sum --check /tmp/pack.tgz.sha256" in install
    (build,) = spec["phases"]["build"]["commands"]
    assert ('pack build "$IMAGE_URI" --builder heroku/builder:24 --cache-image "$CACHE_REPOSITORY_URI:pack" '
            "--publish") in build
    assert "docker buildx" not in json.dumps(spec)


def test_build_exports_the_tag_and_emits_image_definitions(minne, blog):
    for template in (minne, blog):
        spec = build_spec_of(project_named(template, "Delivery/Build"))
        assert spec["env"]["exported-variables"] == ["IMAGE_TAG", "IMAGE_URI"]
        assert spec["artifacts"] == {"files": ["imagedefinitions.json"]}
        # exported: CodeBuild's exported-variables reads the exported environment (tests/test_pipeline_scripts.py)
        pre_build = spec["phases"]["pre_build"]["commands"]
        assert 'export IMAGE_TAG="${SOURCE_COMMIT:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"' in pre_build
        assert 'export IMAGE_URI="$IMAGE_REPOSITORY_URI:$IMAGE_TAG"' in pre_build


# --- every generated command, through real bash -----------------------------------------------------


def test_every_generated_command_parses_in_bash(shipped_templates, minimal):
    specs = {**all_build_specs(shipped_templates), **all_build_specs(minimal.templates())}
    # minne: build, release, go-live, record, live target groups, load-test gate; blog: the same without release
    # and gate; tiny (rolling): build, go-live, record
    assert len(specs) == 10 + 3, sorted(specs)
    for where, spec in specs.items():
        assert spec["env"]["shell"] == "bash", where
        script = commands_of(spec)
        assert script, where
        for command in script:
            result = subprocess.run([BASH, "-n", "-c", command], capture_output=True, text=True, check=False)
            assert result.returncode == 0, f"{where}: {command}\n{result.stderr}"
        # CodeBuild runs a buildspec's commands in one shell: the whole script must parse too
        whole = subprocess.run([BASH, "-n"], input="\n".join(script), capture_output=True, text=True, check=False)
        assert whole.returncode == 0, f"{where}\n{whole.stderr}"


def test_bash_n_would_catch_a_broken_command():
    broken = subprocess.run([BASH, "-n", "-c", 'if true; then echo "x"'], capture_output=True, check=False)
    assert broken.returncode != 0


@pytest.mark.skipif(JQ is None, reason="jq (in CodeBuild's standard image) is not installed")
def test_image_definitions_name_the_app_container_with_the_new_image(minne, tmp_path):
    (command,) = build_spec_of(project_named(minne, "Delivery/Build"))["phases"]["post_build"]["commands"]
    uri = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/acme/minne:0a1b2c3"
    assert run_commands([command], tmp_path, {"IMAGE_URI": uri}).returncode == 0
    assert json.loads((tmp_path / "imagedefinitions.json").read_text()) == [
        {"name": naming.CONTAINER_NAME, "imageUri": uri}
    ]


def release_commands(template: dict) -> list[str]:
    return commands_of(build_spec_of(project_named(template, "Delivery/Release/Default")))


def described_tasks(exit_code, reason="Essential container in task exited", container_reason=None) -> dict:
    container = {"name": naming.CONTAINER_NAME, "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason is not None:
        container["reason"] = container_reason
    return {"tasks": [{"lastStatus": "STOPPED", "stoppedReason": reason, "containers": [
        {"name": "log-router", "exitCode": 0}, container,
    ]}], "failures": []}


@pytest.mark.skipif(JQ is None, reason="jq (in CodeBuild's standard image) is not installed")
@pytest.mark.parametrize(("exit_code", "container_reason", "message"), [
    (0, None, None),
    (1, None, "the release command failed (exit code 1, reason: -; task stopped: Essential container in task exited)"),
    (137, "OutOfMemoryError: Container killed due to memory usage",
     "the release command failed (exit code 137, reason: OutOfMemoryError: Container killed due to memory usage;"),
    (None, "CannotPullContainerError: pull image manifest has been retried 1 time(s)",
     "the release command failed (exit code none, reason: CannotPullContainerError:"),
])
def test_release_verdict_passes_only_on_exit_code_zero_and_says_why(minne, tmp_path, exit_code, container_reason,
                                                                    message):
    """The verdict commands of the shipped buildspec, run by real bash and jq on a describe-tasks answer: the
    message carries the exit code and the reasons it refers to (an out-of-memory kill is not a failed command)."""
    commands = release_commands(minne)
    judge = commands[next(i for i, c in enumerate(commands) if c.startswith("RELEASE_EXIT=")):]
    assert judge[-1] == 'echo "release exited $RELEASE_EXIT"'
    described = described_tasks(exit_code, container_reason=container_reason)
    (tmp_path / "release-task.json").write_text(json.dumps(described))
    result = run_commands(judge, tmp_path, {})
    assert (result.returncode == 0) is (message is None), result.stderr
    code = "none" if exit_code is None else exit_code
    assert (f"release task stopped: Essential container in task exited; container app: exit code {code}, "
            f"reason: {container_reason or '-'}") in result.stdout
    if message is not None:
        assert message in result.stderr and "nothing is deployed" in result.stderr


@pytest.mark.skipif(JQ is None, reason="jq (in CodeBuild's standard image) is not installed")
def test_release_task_definition_swaps_only_the_app_image_and_keeps_what_register_accepts(minne, tmp_path):
    (swap,) = [c for c in release_commands(minne) if c.startswith("jq ") and "release-current.json" in c]
    current = {
        "taskDefinitionArn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/acme-minne-staging-release:7",
        "family": "acme-minne-staging-release", "revision": 7, "status": "ACTIVE", "registeredAt": "2026-11-21",
        "registeredBy": "arn:aws:sts::123456789012:assumed-role/x", "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
        "taskRoleArn": "arn:aws:iam::123456789012:role/acme-minne-staging-ReleaseTaskRole-1",
        "executionRoleArn": "arn:aws:iam::123456789012:role/acme-minne-staging-ReleaseExecutionRole-1",
        "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "containerDefinitions": [
            {"name": naming.CONTAINER_NAME, "image": "acme/minne:none", "essential": True},
            {"name": "sidecar", "image": "public.ecr.aws/sidecar:1", "essential": False},
        ],
        "volumes": [], "placementConstraints": [],
    }
    tags = [{"key": "aws:cloudformation:stack-name", "value": "acme-minne-staging"},
            {"key": "shipway:app", "value": "minne"}]
    # describe-task-definition --include TAGS: the definition, and its tags beside it
    (tmp_path / "release-current.json").write_text(json.dumps({"taskDefinition": current, "tags": tags}))
    result = run_commands([swap], tmp_path, {"IMAGE_URI": "repo/acme/minne:abc123"})
    assert result.returncode == 0, result.stderr
    registered = json.loads((tmp_path / "release-taskdef.json").read_text())
    images = [c["image"] for c in registered["containerDefinitions"]]
    assert images == ["repo/acme/minne:abc123", "public.ecr.aws/sidecar:1"]
    assert set(registered) == {
        "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
        "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags",
    }
    # the revision keeps the family's tags, but not those AWS sets (register-task-definition refuses aws:)
    assert registered["tags"] == [{"key": "shipway:app", "value": "minne"}]
    (tmp_path / "release-current.json").write_text(json.dumps({"taskDefinition": current, "tags": tags[:1]}))
    assert run_commands([swap], tmp_path, {"IMAGE_URI": "repo/acme/minne:abc123"}).returncode == 0
    assert "tags" not in json.loads((tmp_path / "release-taskdef.json").read_text())


def test_release_overrides_carry_the_command_through_a_shell(minne):
    (run,) = [c for c in release_commands(minne) if "aws ecs run-task" in c]
    words = shlex.split(run.split("$(", 1)[1].rsplit(")", 1)[0])
    overrides = json.loads(words[words.index("--overrides") + 1])
    assert overrides == {"containerOverrides": [
        {"name": naming.CONTAINER_NAME, "command": ["/bin/sh", "-c", "bundle exec rails db:migrate"]},
    ]}
    assert "--launch-type FARGATE" in run and "assignPublicIp=DISABLED" in run


def test_release_waits_for_the_task_within_the_release_timeout(minne):
    (wait,) = [c for c in release_commands(minne) if "aws ecs wait tasks-stopped" in c]
    assert wait.startswith("for _ in 1 2 3; do")  # 30 minutes in 10-minute waiter rounds
    project = project_named(minne, "Delivery/Release/Default")["Properties"]
    assert project["TimeoutInMinutes"] == 40


def test_further_images_get_the_buildx_builder_even_with_buildpacks():
    further = ['docker buildx build --push --tag "$LOADTEST_REPOSITORY_URI:$IMAGE_TAG" loadtest']
    spec = buildspec.image_build_spec(dockerfile=None, buildpacks="heroku/builder:24", extra_builds=further)
    assert spec["phases"]["build"]["commands"][1:] == further
    install = spec["phases"]["install"]["commands"]
    assert install.index("sha256sum --check /tmp/pack.tgz.sha256") < install.index(
        "docker buildx create --name shipway --driver docker-container --use")


def test_tricky_spec_values_stay_one_word_in_the_commands():
    spec = buildspec.image_build_spec(dockerfile="docker/My App's.Dockerfile", buildpacks=None)
    (build,) = spec["phases"]["build"]["commands"]
    result = subprocess.run([BASH, "-n", "-c", build], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "--file 'docker/My App'\"'\"'s.Dockerfile'" in build
    release = buildspec.release_build_spec("echo 'it''s' \"$HOME\" && rake db:migrate", wait_rounds=1)
    for command in commands_of(release):
        assert subprocess.run([BASH, "-n", "-c", command], capture_output=True, check=False).returncode == 0, command


# --- the recorded image tag -----------------------------------------------------------------------


def test_image_tag_parameters_start_at_none_one_per_environment(minne):
    params = {r["Properties"]["Name"]: r["Properties"] for r in of_type(minne, "AWS::SSM::Parameter").values()
              if r["Properties"]["Name"].endswith("/image-tag")}
    assert set(params) == {naming.image_tag_parameter("acme", "minne", env) for env in ("staging", "production")}
    for props in params.values():
        # Any change to these properties would make CloudFormation write "none" over the deployed tag.
        assert set(props) == {"Name", "Type", "Value", "Description", "Tags"}
        assert props["Value"] == naming.NO_IMAGE_TAG
        assert props["Type"] == "String"


def test_live_target_group_parameters_start_at_primary_for_each_shifting_process(minne, blog):
    for template, app in ((minne, "minne"), (blog, "blog")):
        params = {r["Properties"]["Name"]: r["Properties"] for r in of_type(template, "AWS::SSM::Parameter").values()
                  if r["Properties"]["Name"].endswith("/live-target-group")}
        assert set(params) == {naming.live_target_group_parameter("acme", app, env, "web")
                               for env in ("staging", "production")}
        for props in params.values():
            assert set(props) == {"Name", "Type", "Value", "Description", "Tags"}
            assert props["Value"] == naming.LIVE_PRIMARY


def test_live_target_groups_are_recorded_beside_the_tag_and_only_written_there(minne):
    for stage in pipeline_of(minne)["Stages"][2:]:
        (record,) = [a for a in stage["Actions"] if a["Name"] == "RecordImageTag"]
        (live,) = [a for a in stage["Actions"] if a["Name"] == "RecordLiveTargetGroups"]
        assert live["RunOrder"] == record["RunOrder"]
        env = {v["name"]: v["value"] for v in json.loads(cdk_join_text(live["Configuration"]["EnvironmentVariables"]))}
        assert env["PROCESSES"] == "web"
        assert env["PARAMETER_PREFIX"] == f"/shipway/acme/apps/minne/{stage['Name']}"
    (policy,) = [r for r in of_type(minne, "AWS::IAM::Policy").values()
                 if "Delivery/RecordLiveTargetGroups/Role" in r["Metadata"]["aws:cdk:path"]]
    (put,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
              if "ssm:PutParameter" in json.dumps(s["Action"])]
    assert "LiveTargetGroupstagingweb" in json.dumps(put) and "LiveTargetGroupproductionweb" in json.dumps(put)
    assert len(put["Resource"]) == 2


def test_any_completed_deployment_of_a_shifting_service_records_the_live_groups_again(minne):
    rules = {k: r["Properties"] for k, r in of_type(minne, "AWS::Events::Rule").items() if "DeploymentCompleted" in k}
    assert len(rules) == 2
    for rule in rules.values():
        pattern = rule["EventPattern"]
        assert pattern["source"] == ["aws.ecs"] and pattern["detail-type"] == ["ECS Deployment State Change"]
        assert pattern["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]}
        (service,) = pattern["resources"]
        env = cdk_join_text(service).rsplit("/", 2)[1].removeprefix("acme-")
        assert cdk_join_text(service).endswith(f":service/acme-{env}/minne-web")
        (target,) = rule["Targets"]
        assert target["Arn"]["Fn::GetAtt"][0].startswith("DeliveryRecordLiveTargetGroups")
        variables = {v["name"]: v["value"] for v in json.loads(target["Input"])["environmentVariablesOverride"]}
        assert variables == {"PROCESSES": "web", "PARAMETER_PREFIX": f"/shipway/acme/apps/minne/{env}",
                             "LIVE_PRIMARY": naming.LIVE_PRIMARY, "LIVE_ALTERNATE": naming.LIVE_ALTERNATE}


def test_record_writes_each_environment_tag_after_its_deploy(minne):
    for stage in pipeline_of(minne)["Stages"][2:]:
        deploy_order = max(a["RunOrder"] for a in stage["Actions"] if a["Name"].startswith("Deploy-"))
        (record,) = [a for a in stage["Actions"] if a["Name"] == "RecordImageTag"]
        (go_live,) = [a for a in stage["Actions"] if a["Name"] == "GoLive"]
        assert go_live["RunOrder"] == deploy_order + 1
        assert record["RunOrder"] == deploy_order + 2
        env = json.loads(cdk_join_text(record["Configuration"]["EnvironmentVariables"]))
        assert env[0] == {"name": "IMAGE_TAG", "type": "PLAINTEXT", "value": "#{Build.IMAGE_TAG}"}
        assert env[1]["name"] == "IMAGE_TAG_PARAMETER"
        suffix = {"staging": "stagingDBF10516", "production": "production8F865F04"}[stage["Name"]]
        assert env[1]["value"] == f"<ImageTag{suffix}>"
    spec = build_spec_of(project_named(minne, "Delivery/Record"))
    assert commands_of(spec)[0] == ('aws ssm put-parameter --name "$IMAGE_TAG_PARAMETER" --value "$IMAGE_TAG" '
                                    "--overwrite")


def test_go_live_reads_what_the_runtime_stack_publishes_and_updates_only_the_app_services(minne):
    for stage in pipeline_of(minne)["Stages"][2:]:
        env_name = stage["Name"]
        (go_live,) = [a for a in stage["Actions"] if a["Name"] == "GoLive"]
        variables = json.loads(cdk_join_text(go_live["Configuration"]["EnvironmentVariables"]))
        env = {v["name"]: v["value"] for v in variables}
        assert env["CLUSTER"] == f"acme-{env_name}"
        assert env["SERVICE_COUNTS_PARAMETER"] == naming.service_counts_parameter("acme", "minne", env_name)
        assert env["NO_IMAGE_TAG"] == naming.NO_IMAGE_TAG
        assert env["IMAGE_TAG_PARAMETER"].startswith("<ImageTag")
    (policy,) = [r for r in of_type(minne, "AWS::IAM::Policy").values()
                 if "Delivery/GoLive/Role" in r["Metadata"]["aws:cdk:path"]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (update,) = [s for s in statements if "ecs:UpdateService" in s["Action"]]
    assert sorted(cdk_join_text(r).rsplit(":", 1)[-1] for r in update["Resource"]) == [
        "service/acme-production/minne-web", "service/acme-production/minne-worker",
        "service/acme-staging/minne-web", "service/acme-staging/minne-worker",
    ]
    assert not any("ssm:PutParameter" in json.dumps(s["Action"]) for s in statements)
    script = commands_of(build_spec_of(project_named(minne, "Delivery/GoLive")))
    assert script == [buildspec.script_command("go-live.sh")]


def cdk_join_text(value) -> str:
    """A Fn::Join of strings and Refs, with each Ref written as <LogicalId>."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)


def test_record_may_write_exactly_the_image_tag_parameters(minne):
    (policy,) = [r for r in of_type(minne, "AWS::IAM::Policy").values()
                 if "Delivery/Record/Role" in r["Metadata"]["aws:cdk:path"]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (put,) = [s for s in statements if "ssm:PutParameter" in json.dumps(s["Action"])]
    assert len(put["Resource"]) == 2
    words = set(json.dumps(put["Resource"]).replace('"', " ").split())
    assert {"ImageTagstagingDBF10516", "ImageTagproduction8F865F04"} <= words


# --- notifications, least privilege, dependencies -------------------------------------------------


def test_approval_notifies_the_production_topic(minne):
    production = pipeline_of(minne)["Stages"][3]
    (approve,) = [a for a in production["Actions"] if a["Name"] == "Approve"]
    ref = approve["Configuration"]["NotificationArn"]["Ref"]
    assert minne["Parameters"][ref]["Default"] == naming.parameter("acme", "production", naming.Param.ALARM_TOPIC_ARN)


def test_the_pipeline_may_use_the_encrypted_topic_keys_only_through_sns(minne, blog):
    def kms_statements(template):
        (policy,) = [r for r in of_type(template, "AWS::IAM::Policy").values()
                     if r["Metadata"]["aws:cdk:path"].endswith("/Delivery/Default/Role/DefaultPolicy/Resource")]
        return [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                if s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")]

    (statement,) = kms_statements(minne)
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["sns.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    assert kms_statements(blog) == []  # no approval, no topic publishing by the pipeline


def test_alarm_topics_admit_eventbridge(shipped_templates):
    """The failure rules publish through EventBridge, which the platform's topic and its key must allow."""
    platform = shipped_templates["acme-production-platform"]
    (policy,) = of_type(platform, "AWS::SNS::TopicPolicy").values()
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} and s["Action"] == "sns:Publish"
               for s in policy["Properties"]["PolicyDocument"]["Statement"])
    keys = [r for r in of_type(platform, "AWS::KMS::Key").values()
            if "events.amazonaws.com" in json.dumps(r["Properties"]["KeyPolicy"])]
    assert len(keys) == 1


def test_failed_stages_notify_their_environment_topic(minne):
    rules = {r["Properties"]["EventPattern"]["detail"]["stage"].__repr__(): r["Properties"]
             for r in of_type(minne, "AWS::Events::Rule").values()
             if r["Properties"]["EventPattern"].get("source") == ["aws.codepipeline"]}
    assert set(rules) == {repr(["Source", "Build", "staging"]), repr(["production"])}
    for stages, props in rules.items():
        env = "production" if "production" in stages else "staging"
        assert props["EventPattern"]["detail"]["state"] == ["FAILED"]
        assert props["EventPattern"]["detail"]["pipeline"] == [{"Ref": "Delivery5F6C039D"}]
        ref = props["Targets"][0]["Arn"]["Ref"]
        assert minne["Parameters"][ref]["Default"] == naming.parameter("acme", env, naming.Param.ALARM_TOPIC_ARN)


def test_deploy_roles_pass_only_the_environment_app_roles_to_ecs_tasks(minne):
    for logical_id, policy in of_type(minne, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "iam:PassRole" in json.dumps(statement["Action"]):
                assert statement["Resource"] != "*", logical_id
                assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
            if statement["Resource"] == "*":
                assert set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]) <= {
                    "ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition",
                    "ecs:ListTasks", "application-autoscaling:RegisterScalableTarget",
                    "elasticloadbalancing:DescribeRules",
                }, (logical_id, statement)
                if "application-autoscaling:RegisterScalableTarget" in json.dumps(statement["Action"]):
                    assert statement["Condition"] == {"StringEquals": {
                        "application-autoscaling:service-namespace": "ecs",
                        "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}}


def pass_role_statements(template: dict, construct: str) -> list[dict]:
    (policy,) = [r for r in of_type(template, "AWS::IAM::Policy").values()
                 if f"/{construct}/" in r["Metadata"]["aws:cdk:path"]]
    return [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "iam:PassRole"]


def role_names(resources) -> list[str]:
    """The role names of ``arn:${Partition}:iam::${Account}:role/<name>`` ARNs, each written as a Fn::Join."""
    names = []
    for resource in resources:
        _, parts = resource["Fn::Join"]
        (last,) = [p for p in parts if isinstance(p, str) and ":role/" in p]
        names.append(last.split(":role/", 1)[1])
    return names


def test_the_pipeline_passes_exactly_the_named_app_roles(minne, shipped_templates):
    """Not a prefix: CloudFormation shortens a long stack name in the roles it names, and acme-minne-staging-*
    would also match the roles of an app named minne-staging-..."""
    for env in ("staging", "production"):
        expected = naming.app_roles("acme", "minne", env)
        assert expected == [f"acme-minne-{env}-task", f"acme-minne-{env}-execution"]
        (deploy,) = pass_role_statements(minne, f"Delivery/{env}-DeployRole")
        assert sorted(role_names(deploy["Resource"])) == sorted(expected)
        runtime = shipped_templates[f"acme-minne-{env}"]
        named = {r["Properties"].get("RoleName"): logical_id
                 for logical_id, r in of_type(runtime, "AWS::IAM::Role").items()}
        assert set(expected) <= set(named)
        # every task definition of the app runs with these two roles, and no other
        for task_definition in of_type(runtime, "AWS::ECS::TaskDefinition").values():
            family = task_definition["Properties"]["Family"]
            if "-loadtest-" in family:
                continue
            if family == naming.task_family("acme", "minne", env, naming.PROVISION):
                # not the app's code: the database provision task runs with its own roles, which no pipeline role
                # passes (tests/test_app_database.py)
                provision = named[naming.provision_role("acme", "minne", env)]
                assert task_definition["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": [provision, "Arn"]}
                continue
            roles = task_definition["Properties"]
            assert roles["TaskRoleArn"] == {"Fn::GetAtt": [named[expected[0]], "Arn"]}, family
            assert roles["ExecutionRoleArn"] == {"Fn::GetAtt": [named[expected[1]], "Arn"]}, family
    (release,) = pass_role_statements(minne, "Delivery/Release/Default/Role")
    assert sorted(role_names(release["Resource"])) == sorted([*naming.app_roles("acme", "minne", "staging"),
                                                              *naming.app_roles("acme", "minne", "production")])
    assert "*" not in json.dumps([s["Resource"] for s in pass_role_statements(minne, "Delivery/Release/Default/Role")])


def test_deploy_roles_update_only_their_environment_services(minne):
    for env in ("staging", "production"):
        (policy,) = [r for r in of_type(minne, "AWS::IAM::Policy").values()
                     if f"Delivery/{env}-DeployRole" in r["Metadata"]["aws:cdk:path"]]
        (update,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                     if "ecs:UpdateService" in s["Action"]]
        text = json.dumps(update["Resource"])
        assert f":service/acme-{env}/minne-web" in text and f":service/acme-{env}/minne-worker" in text
        assert len(update["Resource"]) == 2


def test_pipeline_stack_is_deployed_after_the_platforms_it_reads(shipped):
    stack = shipped.stack("acme-minne")
    assert {d.stack_name for d in stack.dependencies} == {"acme-staging-platform", "acme-production-platform"}


# --- the hook for gates ---------------------------------------------------------------------------


def test_further_actions_run_after_each_deploy_beside_the_tag_record():
    """The hook through which the load-test gate joins a stage (here with a stand-in action)."""
    spec = load_spec(SHIPPED)
    seen = []

    class Gated(AppPipelineStack):
        def more_actions(self, context):
            seen.append(context.env)
            if context.env != spec.apps["minne"].loadtest.environment:
                return []
            return [StageAction("Gate", Phase.POST_DEPLOY, actions.ManualApprovalAction,
                                beside="RecordImageTag")]

    app = cdk.App()
    template = Template.from_stack(Gated(app, spec=spec, app="minne")).to_json()
    assert seen == ["staging", "production"]
    assert stage_plan(template)[2] == (
        "staging", [["ProvisionDatabase"], ["Release"], ["Deploy-web", "Deploy-worker"], ["GoLive"],
                    ["Gate", "RecordImageTag", "RecordLiveTargetGroups"]],
    )
    assert stage_plan(template)[3][1][-1] == ["RecordImageTag", "RecordLiveTargetGroups"]


# --- the spec: one account and region per pipeline ------------------------------------------------

TWO_HOMES = """
name: acme
environments:
  staging: {account: "111111111111", region: eu-west-1}
  production: {account: "222222222222", region: eu-west-1}
apps:
  web:
    source: {codecommit: web}
    processes: {web: {port: 80, hosts: {staging: [staging.a.example.com], production: [a.example.com]}}}
"""


def test_environments_of_a_pipeline_share_account_and_region():
    with pytest.raises(SpecError) as caught:
        parse_spec(TWO_HOMES)
    (problem,) = caught.value.problems
    assert "environments.production.account" in problem
    assert "an app's pipeline deploys to every environment from one account and region" in problem


def test_environments_without_apps_may_live_apart():
    text = TWO_HOMES.split("apps:")[0]
    assert parse_spec(text).apps == {}


def test_pinned_spec_pipeline_lives_in_its_environment(pinned):
    stack = pinned.stack("pinned-api")
    assert (stack.account, stack.region) == ("123456789012", "eu-west-1")
    # the acknowledgements still match when ARNs carry a literal region and account
    assert pipeline_of(pinned.templates()["pinned-api"])["Name"] == "pinned-api"


@pytest.mark.parametrize(("deploy", "passes"), [
    ({"strategy": "linear", "percent": 10, "bake_minutes": 5}, True),   # 10 steps x 5 min = 50
    ({"strategy": "linear", "percent": 10, "bake_minutes": 6}, False),  # 60 min of baking alone
    ({"strategy": "canary", "percent": 10, "bake_minutes": 26}, False),
    ({"strategy": "blue-green", "bake_minutes": 50}, True),
    ({"strategy": "rolling", "bake_minutes": 1440}, True),  # rolling does not bake
])
def test_baking_must_fit_in_the_deploy_action_timeout(deploy, passes):
    text = TWO_HOMES.replace('"222222222222"', '"111111111111"') + f"    deploy: {json.dumps(deploy)}\n"
    if passes:
        parse_spec(text)
        return
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    (problem,) = caught.value.problems
    assert "apps.web.deploy.bake_minutes" in problem and "waits at most 60 minutes" in problem
