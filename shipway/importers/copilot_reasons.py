"""Why a Copilot field has no place in shipway, and what to do instead: the words of the import report.

Keyed by the field's path in its manifest, list items and environment names left out (``count.range.spot_from``,
``http.public.ingress``). A field missing from these tables is still reported, with the generic reason.
"""

from __future__ import annotations

BY_HAND = "carry it over by hand (docs/import.md lists how)"
# Service and job manifests.
WHY: dict[str, tuple[str, str]] = {
    "image.location": ("shipway builds the image from the app's source in its pipeline",
                       "build it from the Dockerfile (build.dockerfile) or with buildpacks"),
    "image.build.context": ("shipway builds with the repository root as the context",
                            "make the Dockerfile's COPY paths relative to the repository root"),
    "image.build.target": ("shipway builds the Dockerfile's last stage", "make the wanted stage the last one"),
    "image.build.args": ("shipway passes no build arguments", "give the ARGs defaults in the Dockerfile"),
    "image.build.cache_from": ("shipway's build keeps its own layer cache in ECR", "nothing: drop it"),
    "image.healthcheck": ("shipway checks health through the load balancer, not a container health check",
                          "rely on health_check (the ALB path), or keep a HEALTHCHECK in the Dockerfile"),
    "image.credentials": ("shipway pulls only the images it builds", "build the image in the app's pipeline"),
    "image.labels": ("shipway sets no Docker labels", "set LABEL in the Dockerfile"),
    "image.depends_on": ("shipway runs one container per task", "start what it waits for inside the container"),
    "entrypoint": ("shipway overrides the command, never the entrypoint", "set ENTRYPOINT in the Dockerfile"),
    "platform": ("shipway runs linux/x86_64 tasks", "build for x86_64"),
    "count.range.spot_from": ("a process runs on one capacity (fargate or fargate-spot), not a mix",
                              "choose capacity: fargate-spot or fargate for the process"),
    "count.response_time": ("shipway scales on CPU, memory and requests per target", "use requests_per_target"),
    "count.cooldown": ("shipway has one scale-in and one scale-out cooldown per process",
                       "keep the process-wide cooldowns"),
    **{f"count.{metric}.cooldown": ("shipway has one scale-in and one scale-out cooldown per process",
                                    "keep the process-wide cooldowns")
       for metric in ("cpu_percentage", "memory_percentage", "requests")},
    "exec": ("ECS Exec is on for every shipway service", "nothing: it cannot be turned off"),
    "deployment.rolling": ("shipway's rolling deploy starts new tasks before stopping old ones",
                           "nothing: a deploy never stops all tasks first"),
    "deployment.rollback_alarms": ("shipway's deploys watch the app's own alarms (apps.<app>.alarms)",
                                   "set alarms thresholds instead"),
    "network.vpc.placement": ("shipway runs every task in private subnets behind fixed egress IPs",
                              "nothing: tasks keep internet access through the NAT gateways"),
    "network.vpc.security_groups": ("shipway gives each app one security group of its own",
                                    "open the other resource to the app's security group"),
    "network.connect": ("shipway has no Service Connect yet", "reach the service through its load balancer host"),
    "env_file": ("shipway reads config from the spec, not from S3 files", "move the variables to config:"),
    "storage": ("shipway tasks have no volumes yet", BY_HAND),
    "logging": ("shipway sends logs to CloudWatch Logs with the awslogs driver; no FireLens", BY_HAND),
    "observability": ("shipway has no X-Ray sidecar yet", BY_HAND),
    "taskdef_overrides": ("shipway writes its task definitions from the spec", BY_HAND),
    "sidecars": ("shipway runs one container per task", "run the sidecar as a process of its own"),
    "publish": ("shipway has no SNS topics yet", "keep the topics in a stack of your own"),
    "subscribe": ("shipway has no queues yet", "keep the queue in a stack of your own and poll it from the worker"),
    "nlb": ("shipway has an Application Load Balancer only", BY_HAND),
    "http": ("shipway routes host names of web processes; a Backend Service's internal load balancer has no "
             "counterpart", "reach the service by host on the shared ALB, or through the app's own processes"),
    "http.path": ("shipway routes by host name, not by path", "serve the service on a host of its own"),
    "http.alias": ("a host needs a name in DNS", "give hosts: to the process"),
    "http.hosted_zone": ("shipway creates no DNS records", "point the name at the ALB yourself (the cutover plan "
                                                           "says when)"),
    "http.target_container": ("shipway runs one container per task", "route to the process itself"),
    "http.stickiness": ("shipway's target groups have no sticky sessions", "keep sessions in the database or Redis"),
    "http.allowed_source_ips": ("shipway's ALB is open to the internet", BY_HAND),
    "http.redirect_to_https": ("with a certificate shipway always redirects HTTP to HTTPS", "nothing"),
    "http.version": ("shipway's target groups speak HTTP/1.1", BY_HAND),
    "http.additional_rules": ("shipway routes one rule per web process", "make each rule a process of its own"),
    "http.healthcheck.port": ("shipway checks the traffic port", "serve the health check on the process's port"),
    "http.healthcheck.success_codes": ("shipway's health check expects 200", "answer 200 on the health check"),
    "http.healthcheck.unhealthy_threshold": ("shipway uses the ALB's default unhealthy threshold", "nothing"),
    "retries": ("shipway's cron retries starting a run (EventBridge Scheduler), not a run that fails",
                "retry inside the command"),
    "timeout": ("shipway's cron runs have no time limit", "bound the command itself (timeout 1h ...)"),
    "variables": ("shipway's config is one set per app", "rename the variable in one of the processes"),
    "secrets": ("shipway's secrets are one set of ARNs per app", "rename the secret in one of the processes"),
    "environments": ("shipway deploys one definition of an app to every environment",
                     "keep one value for all environments (the base value is in the spec)"),
    "command": ("a Scheduled Job without a command runs the image's own; shipway's cron runs a command",
                "give the job's command"),
}
# Environment manifests.
ENV_WHY: dict[str, tuple[str, str]] = {
    "network.vpc.id": ("shipway creates the VPC of each environment", "peer the old VPC, or move what lives in it"),
    "network.vpc.cidr": ("shipway's VPC is 10.0.0.0/16", "check nothing (peering, VPN) relies on the old range"),
    "network.vpc.subnets.public": ("shipway plans its subnets: a /24 public, /20 private and /24 isolated per AZ",
                                   "check nothing relies on the old subnet ranges"),
    "network.vpc.subnets.private": ("shipway plans its subnets: a /24 public, /20 private and /24 isolated per AZ",
                                    "check nothing relies on the old subnet ranges"),
    "network.vpc.security_group": ("shipway writes the environment's security groups", BY_HAND),
    "network.vpc.flow_logs": ("shipway's flow logs keep a retention CloudWatch Logs allows", "nothing"),
    "http.public.certificates": ("shipway's ALB listener takes one certificate",
                                 "issue one certificate covering every host"),
    "http.public.access_logs.bucket_name": ("shipway writes ALB access logs to a bucket of its own", "nothing"),
    "http.public.access_logs.prefix": ("shipway writes ALB access logs to a bucket of its own", "nothing"),
    "http.public.ingress": ("shipway's ALB is open to the internet", BY_HAND),
    "http.public.security_groups": ("shipway's ALB is open to the internet", BY_HAND),
    "http.public.ssl_policy": ("shipway uses CDK's recommended TLS policy", "nothing"),
    "http.private": ("shipway has no internal load balancer", "route internal services by host on the shared ALB"),
    "cdn": ("shipway puts no CloudFront in front of the ALB", "keep a distribution in a stack of your own"),
    "observability.container_insights": ("Container Insights is on for every shipway cluster", "nothing"),
}
# Pipeline manifests.
PIPELINE_WHY: dict[str, tuple[str, str]] = {
    "source.properties.access_token_secret": ("shipway reads GitHub through a CodeConnections connection",
                                              "connect GitHub with CodeConnections"),
    "source.properties.output_artifact_format": ("shipway's source stage hands over a zip of the commit",
                                                 "nothing"),
    "build": ("shipway writes its own buildspec (build, layer cache, release)", "move build steps into the "
                                                                               "Dockerfile"),
    "stages.test_commands": ("shipway gates deploys with its load test, not with commands",
                             "run the tests in the Dockerfile's build, or give the app a loadtest:"),
    "stages.requires_approval": ("shipway asks for one approval per app", "keep the approval of the first one"),
    "stages.deployments": ("shipway deploys every app of the pipeline to the stage", "nothing"),
    "stages.pre_deployments": ("shipway runs the app's release command before each deploy", "make it release:"),
    "stages.post_deployments": ("shipway runs nothing after a deploy yet", BY_HAND),
}
# Addon template resources, by type.
ADDON_WHY: dict[str, tuple[str, str]] = {
    "AWS::RDS::DBCluster": ("shipway's environment database is one RDS PostgreSQL instance, not this cluster",
                            "keep it (import --plan takes it over) and pass its secret, or move the data with "
                            "pg_dump/pg_restore"),
    "AWS::RDS::DBInstance": ("shipway's environment database is created by the data stack",
                             "keep it (import --plan takes it over) and pass its secret, or move the data"),
    "AWS::S3::Bucket": ("shipway has no app buckets yet", "keep it (import --plan takes it over) and pass its "
                                                          "name in config"),
    "AWS::DynamoDB::Table": ("shipway has no tables yet", "keep it (import --plan takes it over)"),
}
