"""`shipway cost --refresh` against GetProducts answers kept as fixtures.

moto does not serve the Price List API, so the answers are played back through botocore's Stubber on a real
``pricing`` client: every request is validated against the service model and compared with the filters we
mean to send, and every answer is a GetProducts response in the API's own shape (``FormatVersion: aws_v1``,
``PriceList`` as JSON strings with ``product``/``terms``), paged with ``NextToken``.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from shipway.catalog import refresh as r
from shipway.catalog.prices import PRICES, prices_table, region_prices
from shipway.cost import estimate
from shipway.spec import load_spec
from shipway.synth import ROOT

from .conftest import SPECS

ANSWERS = json.loads((Path(__file__).parent / "fixtures" / "pricing" / "us-east-1.json").read_text())


@pytest.fixture
def table(tmp_path) -> Path:
    """A copy of the price table with us-east-1 only (the fixtures answer for us-east-1)."""
    data = json.loads(PRICES.read_text())
    data["regions"] = {"us-east-1": data["regions"]["us-east-1"]}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    return path


def _client_answering(answers: list[dict], region: str = "us-east-1", rds_classes: list[str] | None = None):
    client = boto3.client("pricing", region_name=r.PRICING_REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stubber = Stubber(client)
    if rds_classes is None:
        rds_classes = sorted(prices_table()["regions"]["us-east-1"]["rds_postgres_hour"])
    queries = r.queries(rds_classes)
    assert [q.service for q in queries] == [a["service"] for a in answers]
    for query, answer in zip(queries, answers, strict=True):
        token = None
        for page in answer["pages"]:
            expected = {"ServiceCode": query.service, "Filters": r.filters(query, region), "FormatVersion": "aws_v1"}
            if token:
                expected["NextToken"] = token
            stubber.add_response("get_products", page, expected)
            token = page.get("NextToken")
    stubber.activate()
    return client, stubber


def test_refresh_rebuilds_the_region_from_the_answers(table):
    client, stubber = _client_answering(ANSWERS)
    notes = r.refresh(client=client, path=table, today=datetime.date(2026, 12, 2))
    stubber.assert_no_pending_responses()  # every query asked, the EC2 one for both of its pages
    row = json.loads(table.read_text())["regions"]["us-east-1"]
    assert row["taken"] == "2026-12-02"
    assert row["ec2_on_demand_hour"]["m6i.large"] == "0.0961"        # the answer, not the old 0.096
    assert row["ec2_on_demand_hour"]["c6i.xlarge"] == "0.17"         # from the second page
    assert row["fargate"] == {"vcpu_hour": "0.04048", "gb_hour": "0.004445"}  # not the ARM or Windows rates
    # Multi-AZ, not Multi-AZ (readable standbys)
    assert row["rds_postgres_hour"]["db.m6g.large"] == {"single_az": "0.159", "multi_az": "0.318"}
    assert row["rds_gp3_gb_month"] == {"single_az": "0.115", "multi_az": "0.23"}
    assert row["s3_standard_gb_month"] == "0.023"                    # the first tier, whatever the order
    assert row["public_ipv4_hour"] == "0.005" and row["nat_gateway"]["hour"] == "0.045"
    # Not answered (CodePipeline's empty page, CodeBuild xlarge, most instance types): kept, and said so.
    assert row["codepipeline_v2_action_minute"] == "0.002"
    assert row["codebuild_linux_minute"]["xlarge"] == "0.1"
    assert "codepipeline_v2_action_minute" in row["source"] and "codebuild_linux_minute/xlarge" in row["source"]
    assert row["source"].startswith("AWS Price List API (GetProducts)")
    [note] = notes
    assert note.startswith("us-east-1: ") and "from the Price List API" in note
    # The Spot assumption is not the Price List's to change.
    assert json.loads(table.read_text())["spot"] == json.loads(PRICES.read_text())["spot"]
    # The refreshed table prices a spec, and m6i.large's new price is what a pool of it costs.
    prices = region_prices("us-east-1", table)
    assert prices.price("ec2_on_demand_hour", "m6i.large") == D("0.0961")
    assert estimate(load_spec(SPECS / "minimal.yaml"), prices=table).total().missing == 0


def test_a_refused_request_leaves_the_table_and_says_why(table):
    before = table.read_text()
    client = boto3.client("pricing", region_name=r.PRICING_REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_products", service_error_code="AccessDeniedException",
                                 service_message="not authorized to perform: pricing:GetProducts")
        with pytest.raises(r.RefreshError, match=r"did not answer for us-east-1: .*AccessDenied"):
            r.refresh(client=client, path=table)
    assert table.read_text() == before


def test_a_region_the_api_does_not_know_is_refused(table):
    empty = [{"service": a["service"], "pages": [{"FormatVersion": "aws_v1", "PriceList": []}]} for a in ANSWERS]
    data = json.loads(table.read_text())
    data["regions"] = {}
    table.write_text(json.dumps(data))
    client, _ = _client_answering(empty, region="xx-nowhere-1", rds_classes=[])  # no class known: ask for all
    with pytest.raises(r.RefreshError, match="no prices for xx-nowhere-1; the table is unchanged"):
        r.refresh("xx-nowhere-1", client=client, path=table)


def test_the_command_without_credentials_says_so_in_one_line(tmp_path):
    """The real command, the real boto3 credential chain, nothing configured: one line, no traceback."""
    # the package is copied so that the shipped table is not the one a broken refresh could touch
    package = tmp_path / "shipway"
    shutil.copytree(ROOT / "shipway", package)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "shipway", "cost", "--refresh", "--spec",
                             str(SPECS / "minimal.yaml")], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: the AWS Price List API did not answer for ap-northeast-1: Unable to locate credentials"]
    assert (package / "catalog" / "prices.json").read_text() == PRICES.read_text()
