"""`shipway cost --refresh`: rebuild ``prices.json`` from the AWS Price List API (``pricing:GetProducts``).

One query per kind of price and Region, filtered on the product attributes the Price List publishes
(``regionCode``, ``instanceType``, ``databaseEngine``, ``deploymentOption``, ...), then matched on the usage
type (``USE1-NatGateway-Hours`` in most Regions, with no prefix in us-east-1 for some services). Each price is
the first on-demand price dimension in USD. A price the API does not answer keeps the table's old value, and
the refresh says which: nothing is ever written as zero. Spot is not in the Price List's on-demand terms, so
the stated Spot assumption is kept as it is.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from . import known_instance_types
from .prices import PRICES, forget

PRICING_REGION = "us-east-1"
"""The Price List API answers from us-east-1 (and eu-central-1, ap-south-1) for every Region."""


class RefreshError(Exception):
    """The Price List API could not be asked (no credentials, no permission, no network)."""


@dataclass(frozen=True)
class Query:
    """One GetProducts query and the prices it yields: usage type (without the Region prefix) -> key path."""

    service: str
    filters: dict[str, str]
    usagetypes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keyed: Callable[[dict], tuple[str, ...] | None] | None = None
    """For per-type tables (EC2, RDS): the key path of a product from its attributes, or None to skip it."""
    any_of: tuple[str, str] | None = None
    """An ``ANY_OF`` filter: attribute and comma-separated values."""


def _ec2_key(attributes: dict) -> tuple[str, ...]:
    return ("ec2_on_demand_hour", attributes["instanceType"])


def _rds_key(attributes: dict) -> tuple[str, ...] | None:
    deployment = {"Single-AZ": "single_az", "Multi-AZ": "multi_az"}.get(attributes.get("deploymentOption", ""))
    return None if deployment is None else ("rds_postgres_hour", attributes["instanceType"], deployment)


def _rds_storage_key(attributes: dict) -> tuple[str, ...] | None:
    deployment = {"Single-AZ": "single_az", "Multi-AZ": "multi_az"}.get(attributes.get("deploymentOption", ""))
    return None if deployment is None else ("rds_gp3_gb_month", deployment)


def queries(rds_classes: list[str]) -> list[Query]:
    """Every query of a Region, in the order they are asked; RDS for ``rds_classes`` (every class if none)."""
    return [
        Query("AmazonEC2", {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                            "capacitystatus": "Used", "licenseModel": "No License required"},
              keyed=_ec2_key, any_of=("instanceType", ",".join(known_instance_types()))),
        Query("AmazonEC2", {"productFamily": "NAT Gateway"},
              {"NatGateway-Hours": ("nat_gateway", "hour"), "NatGateway-Bytes": ("nat_gateway", "gb_processed")}),
        Query("AmazonEC2", {"productFamily": "Storage", "volumeApiName": "gp3"},
              {"EBS:VolumeUsage.gp3": ("ebs_gp3_gb_month",)}),
        Query("AmazonVPC", {"productFamily": "VPC Public IPv4 Address"},
              {"PublicIPv4:InUseAddress": ("public_ipv4_hour",)}),
        Query("AmazonECS", {"productFamily": "Compute"},
              {"Fargate-vCPU-Hours:perCPU": ("fargate", "vcpu_hour"), "Fargate-GB-Hours": ("fargate", "gb_hour")}),
        Query("AWSELB", {"productFamily": "Load Balancer-Application"},
              {"LoadBalancerUsage": ("alb", "hour"), "LCUUsage": ("alb", "lcu_hour")}),
        Query("AmazonRDS", {"productFamily": "Database Instance", "databaseEngine": "PostgreSQL"},
              keyed=_rds_key, any_of=("instanceType", ",".join(rds_classes)) if rds_classes else None),
        Query("AmazonRDS", {"productFamily": "Database Storage", "databaseEngine": "PostgreSQL",
                            "volumeType": "General Purpose-GP3"}, keyed=_rds_storage_key),
        Query("AWSCodePipeline", {}, {"V2-ActionExecutionMinutes": ("codepipeline_v2_action_minute",)}),
        Query("CodeBuild", {"operatingSystem": "Linux"},
              {f"Build-Min:g1.{size}": ("codebuild_linux_minute", size)
               for size in ("small", "medium", "large", "xlarge", "2xlarge")}),
        Query("AmazonCloudWatch", {"productFamily": "Data Payload"},
              {"DataProcessing-Bytes": ("logs", "ingested_gb")}),
        Query("AmazonCloudWatch", {"productFamily": "Storage Snapshot"},
              {"TimedStorage-ByteHrs": ("logs", "stored_gb_month")}),
        Query("AWSSecretsManager", {}, {"AWSSecretsManager-Secrets": ("secrets_manager_secret_month",)}),
        Query("awskms", {}, {"KMS-Keys": ("kms_key_month",)}),
        Query("AmazonS3", {"productFamily": "Storage", "volumeType": "Standard"},
              {"TimedStorage-ByteHrs": ("s3_standard_gb_month",)}),
        Query("AmazonECR", {}, {"TimedStorage-ByteHrs": ("ecr_gb_month",)}),
    ]


def filters(query: Query, region: str) -> list[dict[str, str]]:
    """The query's GetProducts filters in ``region``, as the API takes them."""
    out = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    out += [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in query.filters.items()]
    if query.any_of:
        out.append({"Type": "ANY_OF", "Field": query.any_of[0], "Value": query.any_of[1]})
    return out


def _products(client, query: Query, region: str) -> Iterator[dict]:
    pages = client.get_paginator("get_products").paginate(
        ServiceCode=query.service, Filters=filters(query, region), FormatVersion="aws_v1")
    for page in pages:
        for item in page["PriceList"]:
            yield json.loads(item)


def on_demand_usd(product: dict) -> Decimal | None:
    """The product's first on-demand price in USD (the lowest tier where prices are tiered)."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        dimensions = sorted(term["priceDimensions"].values(), key=lambda d: Decimal(d.get("beginRange", "0")))
        for dimension in dimensions:
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None:
                return Decimal(usd)
    return None


def _usage(usagetype: str, wanted: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """The key of a usage type with or without its Region prefix (``APN1-``; none in us-east-1 for some)."""
    if usagetype in wanted:
        return wanted[usagetype]
    return wanted.get(usagetype.partition("-")[2])


def fetch_region(client, region: str, rds_classes: list[str]) -> dict[tuple[str, ...], Decimal]:
    """Every price the API answers for ``region``, by key path into the Region's table."""
    found: dict[tuple[str, ...], Decimal] = {}
    for query in queries(rds_classes):
        for product in _products(client, query, region):
            attributes = product.get("product", {}).get("attributes", {})
            key = query.keyed(attributes) if query.keyed else _usage(attributes.get("usagetype", ""),
                                                                     query.usagetypes)
            price = on_demand_usd(product)
            if key is not None and price is not None and price > 0:
                found.setdefault(key, price)
    return found


def _leaves(row: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in row.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        elif key not in ("source", "taken"):
            yield (*path, key)


def _set(row: dict, path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        row = row.setdefault(key, {})
    row[path[-1]] = value


def refresh(extra_region: str | None = None, *, client=None, path: Path = PRICES,
            today: datetime.date | None = None) -> list[str]:
    """Rebuild every Region of the table at ``path`` (and ``extra_region``); one note per Region."""
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        import boto3

        client = boto3.client("pricing", region_name=PRICING_REGION)
    table = json.loads(path.read_text())
    regions = sorted(set(table["regions"]) | ({extra_region} if extra_region else set()))
    taken = (today or datetime.datetime.now(datetime.UTC).date()).isoformat()
    notes = []
    for region in regions:
        old = table["regions"].get(region, {})
        rds_classes = sorted(old.get("rds_postgres_hour") or _any_rds_classes(table))
        try:
            found = fetch_region(client, region, rds_classes)
        except (BotoCoreError, ClientError) as exc:
            raise RefreshError(f"the AWS Price List API did not answer for {region}: {exc}") from None
        if not found:
            raise RefreshError(f"the AWS Price List API has no prices for {region}; the table is unchanged")
        row: dict = {}
        for key, price in sorted(found.items()):
            _set(row, key, f"{price.normalize():f}")
        kept = [key for key in _leaves(old) if key not in found]
        for key in kept:
            value = old
            for part in key:
                value = value[part]
            _set(row, key, value)
        row = {"source": "AWS Price List API (GetProducts), on-demand, USD" + (
            f"; kept from the previous table (not answered): {', '.join('/'.join(k) for k in kept)}" if kept else ""),
            "taken": taken, **{k: row[k] for k in sorted(row)}}
        table["regions"][region] = row
        notes.append(f"{region}: {len(found)} prices from the Price List API, {len(kept)} kept")
    path.write_text(json.dumps(table, indent=1) + "\n")
    forget()
    return notes


def _any_rds_classes(table: dict) -> set[str]:
    return {name for row in table["regions"].values() for name in row.get("rds_postgres_hour", {})}
