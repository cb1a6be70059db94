"""boto3 against the emulator: the same flow the Rust SDK tests drive, through another SDK.

Usage: boto3_smoke.py http://127.0.0.1:PORT
"""
import sys
import time

import boto3
import botocore.exceptions

ENDPOINT = sys.argv[1]
REGION = "eu-central-1"
DOMAIN = "dzd_0123456789abcd"
ROLE = "arn:aws:iam::111111111111:role/dz-registration"
SECRET = "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf"

passed, failed = 0, 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def client(service, key="AKIAPRODUCER00000001", secret="producer-secret", token=None):
    return boto3.client(service, region_name=REGION, endpoint_url=ENDPOINT, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def wait(what, fn, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")


sts = client("sts")
check("GetCallerIdentity", sts.get_caller_identity()["Account"] == "222222222222")
try:
    sts.assume_role(RoleArn=ROLE, RoleSessionName="smoke", ExternalId="wrong-id")
    check("AssumeRole with a wrong ExternalId is refused", False)
except botocore.exceptions.ClientError as e:
    check("AssumeRole with a wrong ExternalId is refused", e.response["Error"]["Code"] == "AccessDenied", e)
creds = sts.assume_role(RoleArn=ROLE, RoleSessionName="smoke", ExternalId="optional")["Credentials"]
role = client("datazone", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
producer = client("datazone")

blueprints = producer.list_environment_blueprints(domainIdentifier=DOMAIN, managed=True)["items"]
warehouse = next(b["id"] for b in blueprints if b["name"] == "DefaultDataWarehouse")
check("ListEnvironmentBlueprints", {b["name"] for b in blueprints} >= {"DefaultDataWarehouse", "DefaultDataLake"})
producer.put_environment_blueprint_configuration(domainIdentifier=DOMAIN, environmentBlueprintIdentifier=warehouse,
                                                 enabledRegions=[REGION])
config = producer.get_environment_blueprint_configuration(domainIdentifier=DOMAIN, environmentBlueprintIdentifier=warehouse)
check("GetEnvironmentBlueprintConfiguration (iso8601 timestamps parsed)", config["enabledRegions"] == [REGION]
      and hasattr(config["createdAt"], "year"))

project = role.list_projects(domainIdentifier=DOMAIN, name="sales")["items"][0]["id"]
try:
    producer.list_data_sources(domainIdentifier=DOMAIN, projectIdentifier=project)
    check("a non-member is refused", False)
except producer.exceptions.AccessDeniedException:
    check("a non-member is refused (typed AccessDeniedException)", True)

params = [{"name": "clusterName", "value": "prod-dwh"}, {"name": "dataAccessSecretsArn", "value": SECRET},
          {"name": "dbName", "value": "finance"}]
profile = role.create_environment_profile(domainIdentifier=DOMAIN, name="boto3-profile",
                                          environmentBlueprintIdentifier=warehouse, projectIdentifier=project,
                                          awsAccountId="222222222222", awsAccountRegion=REGION, userParameters=params)
env = role.create_environment(domainIdentifier=DOMAIN, projectIdentifier=project, name="boto3-env",
                              environmentProfileIdentifier=profile["id"])
wait("environment ACTIVE", lambda: role.get_environment(domainIdentifier=DOMAIN, identifier=env["id"])["status"] == "ACTIVE")
check("environment ACTIVE", True)
try:
    role.create_environment(domainIdentifier=DOMAIN, projectIdentifier=project, name="boto3-env",
                            environmentProfileIdentifier=profile["id"])
    check("a duplicate environment name conflicts", False)
except role.exceptions.ConflictException:
    check("a duplicate environment name conflicts (typed ConflictException)", True)

source = role.create_data_source(
    domainIdentifier=DOMAIN, projectIdentifier=project, environmentIdentifier=env["id"], name="boto3-finance",
    type="REDSHIFT", publishOnImport=True,
    configuration={"redshiftRunConfiguration": {
        "relationalFilterConfigurations": [{"databaseName": "finance", "schemaName": "ledger", "filterExpressions": [
            {"type": "INCLUDE", "expression": "journal_entries"}, {"type": "INCLUDE", "expression": "v_monthly_close"}]}],
        "redshiftStorage": {"redshiftClusterSource": {"clusterName": "prod-dwh"}},
        "redshiftCredentialConfiguration": {"secretManagerArn": SECRET}}})
run = role.start_data_source_run(domainIdentifier=DOMAIN, dataSourceIdentifier=source["id"])
done = wait("run finished", lambda: (r := role.get_data_source_run(domainIdentifier=DOMAIN, identifier=run["id"]))
            ["status"] != "RUNNING" and r)
check("run SUCCESS with 2 assets added", done["status"] == "SUCCESS" and done["runStatisticsForAssets"]["added"] == 2, done)

pages = role.get_paginator("list_data_source_run_activities").paginate(
    domainIdentifier=DOMAIN, identifier=run["id"], PaginationConfig={"PageSize": 1})
names = sorted(a["technicalName"] for page in pages for a in page["items"])
check("activities across pages", names == ["journal_entries", "v_monthly_close"], names)

found = role.search(domainIdentifier=DOMAIN, searchScope="ASSET", owningProjectIdentifier=project)["items"]
assets = sorted(i["assetItem"]["name"] for i in found)
check("Search finds the published assets", assets == ["journal_entries", "v_monthly_close"], assets)
asset = role.get_asset(domainIdentifier=DOMAIN, identifier=found[0]["assetItem"]["identifier"])
check("GetAsset is listed (epoch timestamps parsed)", asset["listing"]["listingStatus"] == "ACTIVE" and hasattr(asset["createdAt"], "year"))

data = client("redshift-data")
tables = data.list_tables(ClusterIdentifier="prod-dwh", Database="finance", SecretArn=SECRET, SchemaPattern="ledger")["Tables"]
check("Redshift Data ListTables", sorted((t["name"], t["type"]) for t in tables) == [
    ("accounts", "TABLE"), ("journal_entries", "TABLE"), ("v_monthly_close", "VIEW"), ("v_trial_balance", "VIEW")], tables)

print(f"boto3 smoke: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
