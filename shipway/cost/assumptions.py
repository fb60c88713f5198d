"""What the estimate assumes where the spec does not say: traffic, pushes, build and run times, log volume.

Each constant is used in one place and printed with the lines it prices, so a reader can redo the sum.
"""

from __future__ import annotations

from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)
"""AWS's own monthly figure for always-on resources (8,760 hours / 12)."""

NAT_GB = Decimal(100)
"""GB a month leaving each environment through its NAT gateways."""
ALB_LCU = Decimal(1)
"""Load balancer capacity units, averaged over every hour."""
PUSHES = Decimal(100)
"""Pushes to each app's branch a month (5 a working day): each runs the whole pipeline."""

SOURCE_MINUTES = Decimal(1)
BUILD_MINUTES = Decimal(10)
"""The image build, at the app's CodeBuild compute size."""
RECORD_MINUTES = Decimal(1)
"""The record action (CodeBuild small) that writes each deployed image tag."""
RELEASE_MINUTES = Decimal(3)
"""The release command's task, and the CodeBuild small action that waits on it, per environment."""
DEPLOY_MINUTES = Decimal(5)
"""An ECS deploy action besides the strategy's baking."""
LOADTEST_SETUP_MINUTES = Decimal(3)
"""The load-test gate besides the run: register, start, scale the workers, read the results."""
CRON_MINUTES = Decimal(5)
"""Each run of a cron job."""

TASK_LOG_GB = Decimal(1)
"""Log GB ingested a month per running task."""
PLATFORM_LOG_GB = Decimal(5)
"""VPC flow logs and ECS Exec sessions, per environment and month."""
DATABASE_LOG_GB = Decimal(1)
"""PostgreSQL logs exported to CloudWatch, per environment and month."""
ACCESS_LOG_GB = Decimal(5)
"""ALB access logs written to S3, per environment and month."""
IMAGE_GB = Decimal("0.2")
"""Layers an image adds that no other image shares (ECR, or S3 with registry: s3)."""

RETAINED_MONTHS_CAP = Decimal(12)
"""Stored logs are priced at their steady state (a month's ingestion times the retention), capped at a year."""

REGISTRY_TASKS = 2
REGISTRY_CPU = 256
REGISTRY_MEMORY = 512
"""registry: s3 runs CNCF distribution on Fargate; the construct's defaults (shipway/constructs/registry.py)."""

NOT_PRICED = (
    "Not priced: data transfer out to the internet and between AZs, request charges (S3, Secrets Manager API "
    "calls, KMS requests), RDS backup storage beyond the free amount equal to the database, CloudWatch metrics "
    "and alarms, Route 53, the deploy-time extra tasks of canary, linear and blue/green (twice the tasks for "
    "the length of a deploy), scheduled scaling, free tiers."
)
