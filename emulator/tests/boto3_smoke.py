"""boto3 against the emulator: the same flow the Rust SDK tests drive, through another SDK.

Usage: boto3_smoke.py http://127.0.0.1:PORT
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import sys
import time
import urllib.request

import boto3
import botocore.exceptions
from botocore.credentials import ContainerProvider

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

# Business metadata: a form type, a glossary and its term, an asset revision with them, its
# listing, and a metadata generation run.
smithy = "structure Ownership {\n    @required\n    owner: String\n    tier: Integer\n}\n"
form_type = role.create_form_type(domainIdentifier=DOMAIN, name="Ownership", model={"smithy": smithy},
                                  owningProjectIdentifier=project)
got_type = role.get_form_type(domainIdentifier=DOMAIN, formTypeIdentifier="Ownership")
built_in = producer.get_form_type(domainIdentifier=DOMAIN, formTypeIdentifier="amazon.datazone.RedshiftTableFormType")
check("CreateFormType and GetFormType (custom and built-in)", form_type["revision"] == "1"
      and got_type["model"]["smithy"] == smithy and built_in["revision"] == "1", got_type)
try:
    role.create_form_type(domainIdentifier=DOMAIN, name="Broken", model={"smithy": "structure B { b: Blob }"},
                          owningProjectIdentifier=project)
    check("unreadable Smithy is refused", False)
except role.exceptions.ValidationException:
    check("unreadable Smithy is refused (typed ValidationException)", True)
glossary = role.create_glossary(domainIdentifier=DOMAIN, name="Finance", owningProjectIdentifier=project)
term = role.create_glossary_term(domainIdentifier=DOMAIN, glossaryIdentifier=glossary["id"], name="Journal entry",
                                 shortDescription="A booking in the ledger")
try:
    role.create_glossary_term(domainIdentifier=DOMAIN, glossaryIdentifier=glossary["id"], name="Journal entry")
    check("a duplicate term conflicts", False)
except role.exceptions.ConflictException:
    check("a duplicate term conflicts (typed ConflictException)", True)
terms = producer.search(domainIdentifier=DOMAIN, searchScope="GLOSSARY_TERM", searchText="journal",
                        filters={"filter": {"attribute": "glossaryId", "value": glossary["id"], "operator": "EQ"}})["items"]
check("Search GLOSSARY_TERM (epoch timestamps parsed)", [t["glossaryTermItem"]["id"] for t in terms] == [term["id"]]
      and hasattr(terms[0]["glossaryTermItem"]["createdAt"], "year"), terms)
glossaries = role.search(domainIdentifier=DOMAIN, searchScope="GLOSSARY", owningProjectIdentifier=project)["items"]
check("Search GLOSSARY", [g["glossaryItem"]["name"] for g in glossaries] == ["Finance"], glossaries)

asset_id = found[0]["assetItem"]["identifier"]
revision = role.create_asset_revision(
    domainIdentifier=DOMAIN, identifier=asset_id, name="Ledger object", description="From the ledger",
    glossaryTerms=[term["id"]], clientToken="boto3-revision",
    formsInput=[{"formName": "ownership", "typeIdentifier": "Ownership", "content": '{"owner": "finance", "tier": 1}'}])
again = role.create_asset_revision(domainIdentifier=DOMAIN, identifier=asset_id, name="Ledger object",
                                   clientToken="boto3-revision")
check("CreateAssetRevision (idempotent by clientToken)", revision["revision"] == "2" and again["revision"] == "2"
      and revision["glossaryTerms"] == [term["id"]]
      and [f["formName"] for f in revision["formsOutput"]][1:] == ["ownership"], revision)
try:
    role.create_asset_revision(domainIdentifier=DOMAIN, identifier=asset_id, name="x",
                               formsInput=[{"formName": "ownership", "typeIdentifier": "Ownership", "content": '{"tier": 1}'}])
    check("form content missing a required member is refused", False)
except role.exceptions.ValidationException as e:
    check("form content missing a required member is refused, naming it", "owner" in str(e), e)
listed = role.create_listing_change_set(domainIdentifier=DOMAIN, entityIdentifier=asset_id, entityType="ASSET",
                                        entityRevision="2", action="PUBLISH")
listing = role.get_listing(domainIdentifier=DOMAIN, identifier=listed["listingId"])
item = listing["item"]["assetListing"]
check("CreateListingChangeSet and GetListing", listed["listingRevision"] == "2" and listing["status"] == "ACTIVE"
      and item["assetRevision"] == "2" and item["glossaryTerms"][0]["name"] == "Journal entry"
      and '"owner"' in item["forms"] and hasattr(listing["createdAt"], "year"), listing)
# Subscriptions, as a person trying the demo files one: the producer account's key (no member of
# sales) makes a consumer project with a Data Warehouse environment (DataZone gives it a Redshift
# subscription target), requests the published asset; the owner (the role) accepts; the grant
# completes; the consumer cancels and the grant is revoked.
consumer_project = producer.create_project(domainIdentifier=DOMAIN, name="boto3-consumer")["id"]
consumer_profile = producer.create_environment_profile(
    domainIdentifier=DOMAIN, name="boto3-consumer-dwh", environmentBlueprintIdentifier=warehouse,
    projectIdentifier=consumer_project, awsAccountId="222222222222", awsAccountRegion=REGION,
    userParameters=params[:2] + [{"name": "dbName", "value": "marketing"}])
consumer_env = producer.create_environment(domainIdentifier=DOMAIN, projectIdentifier=consumer_project,
                                           name="boto3-consumer-dwh", environmentProfileIdentifier=consumer_profile["id"])
wait("consumer environment ACTIVE", lambda: producer.get_environment(
    domainIdentifier=DOMAIN, identifier=consumer_env["id"])["status"] == "ACTIVE")
targets = producer.list_subscription_targets(domainIdentifier=DOMAIN, environmentIdentifier=consumer_env["id"])["items"]
check("ListSubscriptionTargets: the Data Warehouse environment's Redshift target",
      [t["type"] for t in targets] == ["RedshiftSubscriptionTargetType"] and hasattr(targets[0]["createdAt"], "year"), targets)
subscribe = dict(domainIdentifier=DOMAIN, subscribedPrincipals=[{"project": {"identifier": consumer_project}}],
                 subscribedListings=[{"identifier": listed["listingId"]}], requestReason="boto3 smoke",
                 clientToken="boto3-request")
filed = producer.create_subscription_request(**subscribe)
again = producer.create_subscription_request(**subscribe)
check("CreateSubscriptionRequest (PENDING, idempotent by clientToken)", filed["status"] == "PENDING"
      and again["id"] == filed["id"] and filed["subscribedListings"][0]["item"]["assetListing"]["entityId"] == asset_id
      and filed["subscribedPrincipals"][0]["project"]["name"] == "boto3-consumer", filed)
pending = role.list_subscription_requests(domainIdentifier=DOMAIN, approverProjectId=project)["items"]
check("ListSubscriptionRequests: PENDING by default", [r["id"] for r in pending] == [filed["id"]], pending)
try:
    producer.accept_subscription_request(domainIdentifier=DOMAIN, identifier=filed["id"])
    check("the consumer does not accept its own request", False)
except producer.exceptions.AccessDeniedException:
    check("the consumer does not accept its own request (typed AccessDeniedException)", True)
accepted = role.accept_subscription_request(domainIdentifier=DOMAIN, identifier=filed["id"],
                                            decisionComment="Approved by the boto3 smoke")
check("AcceptSubscriptionRequest", accepted["status"] == "ACCEPTED"
      and accepted["decisionComment"] == "Approved by the boto3 smoke", accepted)
subscription = producer.list_subscriptions(domainIdentifier=DOMAIN, owningProjectId=consumer_project)["items"][0]
check("ListSubscriptions: APPROVED by default", subscription["status"] == "APPROVED"
      and subscription["subscriptionRequestId"] == filed["id"], subscription)
grant = wait("grant COMPLETED", lambda: (g := producer.list_subscription_grants(
    domainIdentifier=DOMAIN, subscriptionId=subscription["id"])["items"]) and g[0]["status"] == "COMPLETED" and g[0])
check("ListSubscriptionGrants: COMPLETED, the asset GRANTED", grant["subscriptionTargetId"] == targets[0]["id"]
      and [(a["assetId"], a["status"]) for a in grant["assets"]] == [(asset_id, "GRANTED")]
      and hasattr(grant["assets"][0]["grantedTimestamp"], "year"), grant)
try:
    role.delete_asset(domainIdentifier=DOMAIN, identifier=asset_id)
    check("an asset with a subscriber is not deleted", False)
except role.exceptions.ConflictException:
    check("an asset with a subscriber is not deleted (typed ConflictException)", True)
cancelled = producer.cancel_subscription(domainIdentifier=DOMAIN, identifier=subscription["id"])
revoked = wait("grant revoked", lambda: (g := producer.get_subscription_grant(domainIdentifier=DOMAIN, identifier=grant["id"]))
               ["assets"][0]["status"] == "REVOKED" and g)
check("CancelSubscription: CANCELLED, the grant revoked", cancelled["status"] == "CANCELLED"
      and revoked["status"] == "COMPLETED", (cancelled, revoked))


def accept_again(_):
    try:
        role.accept_subscription_request(domainIdentifier=DOMAIN, identifier=filed["id"])
        return "accepted"
    except role.exceptions.ThrottlingException:
        return "ThrottlingException"
    except role.exceptions.ConflictException:
        return "ConflictException"


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    answers = list(pool.map(accept_again, range(8)))
check("AcceptSubscriptionRequest is limited to 3 a second (typed ThrottlingException)",
      "ThrottlingException" in answers and set(answers) <= {"ThrottlingException", "ConflictException"}, answers)

run = role.start_metadata_generation_run(domainIdentifier=DOMAIN, owningProjectIdentifier=project,
                                         types=["BUSINESS_DESCRIPTIONS"], target={"type": "ASSET", "identifier": asset_id})
done = wait("generation finished", lambda: (r := role.get_metadata_generation_run(domainIdentifier=DOMAIN, identifier=run["id"]))
            ["status"] == "SUCCEEDED" and r)
check("StartMetadataGenerationRun → SUCCEEDED, the asset unchanged", run["status"] == "SUBMITTED"
      and done["target"]["identifier"] == asset_id
      and role.get_asset(domainIdentifier=DOMAIN, identifier=asset_id)["revision"] == "2", done)
updated = role.update_data_source(domainIdentifier=DOMAIN, identifier=source["id"], assetFormsInput=[
    {"formName": "ownership", "typeIdentifier": "Ownership", "content": '{"owner": "finance"}'}])
check("UpdateDataSource assetFormsInput", [f["typeName"] for f in updated["assetFormsOutput"]] == ["Ownership"], updated)

# Data products: the two ledger assets as one product, revised, published; its listing names the
# listings of its assets; found by Search and SearchListings; it keeps its assets from DeleteAsset.
other = next(i["assetItem"]["identifier"] for i in found if i["assetItem"]["identifier"] != asset_id)
product_input = dict(domainIdentifier=DOMAIN, name="Ledger", owningProjectIdentifier=project,
                     description="The ledger and its monthly close", glossaryTerms=[term["id"]],
                     formsInput=[{"formName": "ownership", "typeIdentifier": "Ownership", "content": '{"owner": "finance"}'}],
                     items=[{"itemType": "ASSET", "identifier": asset_id},
                            {"itemType": "ASSET", "identifier": other, "glossaryTerms": [term["id"]]}])
product = role.create_data_product(clientToken="boto3-product", **product_input)
again = role.create_data_product(clientToken="boto3-product", **product_input)
check("CreateDataProduct (201, idempotent by clientToken)", product["ResponseMetadata"]["HTTPStatusCode"] == 201
      and product["status"] == "CREATED" and product["revision"] == "1" and again["id"] == product["id"]
      and [i["identifier"] for i in product["items"]] == [asset_id, other]
      and product["formsOutput"][0]["typeName"] == "Ownership" and hasattr(product["createdAt"], "year"), product)
try:
    role.create_data_product(domainIdentifier=DOMAIN, name="Ledger", owningProjectIdentifier=project)
    check("a duplicate data product name conflicts", False)
except role.exceptions.ConflictException:
    check("a duplicate data product name conflicts (typed ConflictException)", True)
revised = role.create_data_product_revision(domainIdentifier=DOMAIN, identifier=product["id"], name="Ledger",
                                            description="The ledger and its monthly close, revised",
                                            formsInput=product_input["formsInput"], items=product_input["items"])
revisions = [r["revision"] for page in role.get_paginator("list_data_product_revisions").paginate(
    domainIdentifier=DOMAIN, identifier=product["id"], PaginationConfig={"PageSize": 1}) for r in page["items"]]
got = role.get_data_product(domainIdentifier=DOMAIN, identifier=product["id"], revision="1")
check("CreateDataProductRevision, ListDataProductRevisions (paged), GetDataProduct by revision",
      revised["revision"] == "2" and revisions == ["2", "1"] and got["revision"] == "1"
      and got["description"] == "The ledger and its monthly close", (revised, revisions, got))
published = role.create_listing_change_set(domainIdentifier=DOMAIN, entityIdentifier=product["id"],
                                           entityType="DATA_PRODUCT", action="PUBLISH")
listing = role.get_listing(domainIdentifier=DOMAIN, identifier=published["listingId"])
dp = listing["item"]["dataProductListing"]
check("CreateListingChangeSet DATA_PRODUCT and GetListing dataProductListing", published["status"] == "ACTIVE"
      and dp["dataProductId"] == product["id"] and dp["dataProductRevision"] == "2"
      and [i["listingId"] for i in dp["items"]] == [role.get_asset(domainIdentifier=DOMAIN, identifier=a)["listing"]["listingId"]
                                                    for a in (asset_id, other)]
      and dp["items"][1]["glossaryTerms"][0]["name"] == "Journal entry" and '"owner"' in dp["forms"]
      and hasattr(dp["createdAt"], "year"), listing)
listed = role.search_listings(domainIdentifier=DOMAIN, searchText="monthly close")["items"]
check("SearchListings finds the data product", [i["dataProductListing"]["entityId"] for i in listed
                                                  if "dataProductListing" in i] == [product["id"]], listed)
inventory = role.search(domainIdentifier=DOMAIN, searchScope="DATA_PRODUCT", owningProjectIdentifier=project)["items"]
check("Search DATA_PRODUCT", [i["dataProductItem"]["id"] for i in inventory] == [product["id"]], inventory)
try:
    role.delete_asset(domainIdentifier=DOMAIN, identifier=other)
    check("an asset a data product holds is not deleted", False)
except role.exceptions.ConflictException:
    check("an asset a data product holds is not deleted (typed ConflictException)", True)
deleted = role.delete_data_product(domainIdentifier=DOMAIN, identifier=product["id"])
gone = role.delete_asset(domainIdentifier=DOMAIN, identifier=other)
check("DeleteDataProduct and DeleteAsset (204)", deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
      and gone["ResponseMetadata"]["HTTPStatusCode"] == 204, (deleted, gone))
try:
    role.get_data_product(domainIdentifier=DOMAIN, identifier=product["id"])
    check("a deleted data product is gone", False)
except role.exceptions.ResourceNotFoundException:
    check("a deleted data product is gone (typed ResourceNotFoundException)", True)

data = client("redshift-data")
tables = data.list_tables(ClusterIdentifier="prod-dwh", Database="finance", SecretArn=SECRET, SchemaPattern="ledger")["Tables"]
check("Redshift Data ListTables", sorted((t["name"], t["type"]) for t in tables) == [
    ("accounts", "TABLE"), ("journal_entries", "TABLE"), ("v_monthly_close", "VIEW"), ("v_trial_balance", "VIEW")], tables)

# A V2 domain (Amazon SageMaker Unified Studio): a Redshift connection and a data source through it.
v2 = next(d for d in role.list_domains()["items"] if d["name"] == "unified-mesh")
check("ListDomains says V2 (managedAccountId in the summary)", v2["domainVersion"] == "V2" and "managedAccountId" in v2, v2)
domain = role.get_domain(identifier=v2["id"])
root = domain.get("rootDomainUnitId")
check("GetDomain: V2, a root domain unit, no managedAccountId",
      domain["domainVersion"] == "V2" and root and "managedAccountId" not in domain, domain)
analytics = role.list_projects(domainIdentifier=v2["id"], name="analytics")["items"][0]["id"]
check("GetProject has a project profile", role.get_project(domainIdentifier=v2["id"], identifier=analytics).get("projectProfileId"))
envs = role.list_environments(domainIdentifier=v2["id"], projectIdentifier=analytics)["items"]
tooling = next(e for e in envs if e.get("environmentConfigurationName") == "Tooling")
check("the project's Tooling environment", tooling["status"] == "ACTIVE" and tooling["environmentProfileId"] == ""
      and tooling["provider"] == "Amazon SageMaker", tooling)
try:
    role.create_environment_profile(domainIdentifier=v2["id"], name="nope", environmentBlueprintIdentifier=warehouse,
                                    projectIdentifier=analytics, awsAccountId="222222222222", awsAccountRegion=REGION)
    check("no environment profiles in a V2 domain", False)
except role.exceptions.ValidationException:
    check("no environment profiles in a V2 domain (typed ValidationException)", True)

redshift = {"storage": {"clusterName": "prod-dwh"}, "databaseName": "finance", "credentials": {"secretArn": SECRET},
            "lineageSync": {"enabled": True, "schedule": {"schedule": "cron(0 12 * * ? *)"}}}
conn = role.create_connection(domainIdentifier=v2["id"], environmentIdentifier=tooling["id"], name="boto3-warehouse",
                              description="prod-dwh finance", props={"redshiftProperties": redshift})
props = conn["props"]["redshiftProperties"]
endpoint = conn["physicalEndpoints"][0]
check("CreateConnection", conn["type"] == "REDSHIFT" and conn["domainUnitId"] == root and conn["projectId"] == analytics
      and props["status"] == "READY" and props["storage"] == {"clusterName": "prod-dwh"}
      and props["lineageSync"]["enabled"] and props["lineageSync"].get("lineageJobId")
      and endpoint["host"].startswith("prod-dwh.") and endpoint["port"] == 5439 and endpoint["protocol"] == "JDBC"
      and endpoint["awsLocation"]["awsAccountId"] == "222222222222", conn)
listed = role.list_connections(domainIdentifier=v2["id"], projectIdentifier=analytics, type="REDSHIFT",
                               name="boto3-warehouse")["items"]
check("ListConnections (no description in the summary)", [c["connectionId"] for c in listed] == [conn["connectionId"]]
      and "description" not in listed[0], listed)
updated = role.update_connection(domainIdentifier=v2["id"], identifier=conn["connectionId"], description="finance")
got = role.get_connection(domainIdentifier=v2["id"], identifier=conn["connectionId"])
check("UpdateConnection and GetConnection", updated["description"] == "finance" and got["description"] == "finance"
      and got["props"]["redshiftProperties"]["databaseName"] == "finance", got)

bound = role.create_data_source(
    domainIdentifier=v2["id"], projectIdentifier=analytics, connectionIdentifier=conn["connectionId"],
    name="boto3-through-connection", type="REDSHIFT",
    configuration={"redshiftRunConfiguration": {"relationalFilterConfigurations": [
        {"databaseName": "finance", "schemaName": "ledger", "filterExpressions": [{"type": "INCLUDE", "expression": "accounts"}]}]}})
check("CreateDataSource by connection", bound["connectionId"] == conn["connectionId"] and bound["environmentId"] == tooling["id"], bound)
sources = role.list_data_sources(domainIdentifier=v2["id"], projectIdentifier=analytics,
                                 connectionIdentifier=conn["connectionId"])["items"]
check("ListDataSources by connection", [d["dataSourceId"] for d in sources] == [bound["id"]], sources)
run = role.start_data_source_run(domainIdentifier=v2["id"], dataSourceIdentifier=bound["id"])
done = wait("run finished", lambda: (r := role.get_data_source_run(domainIdentifier=v2["id"], identifier=run["id"]))
            ["status"] != "RUNNING" and r)
check("a run through the connection, with lineage", done["status"] == "SUCCESS"
      and done["runStatisticsForAssets"]["added"] == 1 and done["lineageSummary"]["importStatus"] == "SUCCESS", done)
got = role.get_data_source(domainIdentifier=v2["id"], identifier=bound["id"])
check("GetDataSource: the connection's storage and secret", got["connectionId"] == conn["connectionId"]
      and got["configuration"]["redshiftRunConfiguration"]["redshiftCredentialConfiguration"]["secretManagerArn"] == SECRET
      and got["lastRunAssetCount"] == 1, got)
try:
    role.delete_connection(domainIdentifier=v2["id"], identifier=conn["connectionId"])
    check("a connection in use is not deleted", False)
except role.exceptions.ConflictException:
    check("a connection in use is not deleted (typed ConflictException)", True)
deleted = role.delete_data_source(domainIdentifier=v2["id"], identifier=bound["id"])
check("DeleteDataSource has only its output's members", deleted["connectionId"] == conn["connectionId"]
      and "recommendation" not in deleted and "lastRunAssetCount" not in deleted, deleted)
gone = role.delete_connection(domainIdentifier=v2["id"], identifier=conn["connectionId"])
check("DeleteConnection (202)", gone["status"] == "DELETED" and gone["ResponseMetadata"]["HTTPStatusCode"] == 202, gone)
try:
    role.get_connection(domainIdentifier=v2["id"], identifier=conn["connectionId"])
    check("a deleted connection is gone", False)
except role.exceptions.ResourceNotFoundException:
    check("a deleted connection is gone (typed ResourceNotFoundException)", True)

# A pod's identity without static keys, through botocore: IRSA (AssumeRoleWithWebIdentity, which
# botocore sends unsigned) and EKS Pod Identity (botocore's container credential provider). Tokens
# are signed here with the checked-in test key (PKCS#1 v1.5 by hand: the venv has no crypto library).
def der(data, at=0):
    """(value, end) of the DER element at `at`."""
    length, at = data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(data[at:at + count], "big"), at + count
    return data[at:at + length], at + length


def der_children(data):
    out, at = [], 0
    while at < len(data):
        value, at = der(data, at)
        out.append(value)
    return out


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "oidc-test-key.pk8"), "rb") as f:
    # PrivateKeyInfo { version, algorithm, OCTET STRING { RSAPrivateKey { version, n, e, d, … } } }
    rsa = der_children(der(der_children(der(f.read())[0])[2])[0])
n, e, d = (int.from_bytes(rsa[i], "big") for i in (1, 2, 3))
ISSUER = "https://kubernetes.default.svc.cluster.local"
OPERATOR = "arn:aws:iam::222222222222:role/datazone-operator"
SA = "system:serviceaccount:team-a:datazone-operator"


def sa_token(audience, subject=SA, expires_in=600):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": subject, "aud": [audience], "exp": now + expires_in, "iat": now, "nbf": now}
    signing = b64url(json.dumps({"alg": "RS256", "kid": "smoke-key"}).encode()) + "." + b64url(json.dumps(claims).encode())
    size = (n.bit_length() + 7) // 8
    digest = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(signing.encode()).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest)) + b"\x00" + digest
    return signing + "." + b64url(pow(int.from_bytes(encoded, "big"), d, n).to_bytes(size, "big"))


def control_post(path, body):
    request = urllib.request.Request(ENDPOINT + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status


jwks = {"keys": [{"kty": "RSA", "kid": "smoke-key", "n": b64url(n.to_bytes((n.bit_length() + 7) // 8, "big")),
                  "e": b64url(e.to_bytes((e.bit_length() + 7) // 8, "big"))}]}
check("register the cluster's OIDC provider, trust and association (control API)",
      control_post("/_emulator/oidc-providers", {"issuer": ISSUER, "jwks": jwks}) == 201
      and control_post("/_emulator/web-identity-trusts", {"roleArn": OPERATOR, "subject": SA}) == 201
      and control_post("/_emulator/pod-identity-associations",
                       {"namespace": "team-a", "serviceAccount": "datazone-operator", "roleArn": OPERATOR}) == 201)
irsa = sts.assume_role_with_web_identity(RoleArn=OPERATOR, RoleSessionName="boto3-irsa",
                                         WebIdentityToken=sa_token("sts.amazonaws.com"))
check("AssumeRoleWithWebIdentity (unsigned)", irsa["AssumedRoleUser"]["Arn"]
      == "arn:aws:sts::222222222222:assumed-role/datazone-operator/boto3-irsa"
      and irsa["SubjectFromWebIdentityToken"] == SA and irsa["Provider"] == ISSUER
      and irsa["Audience"] == "sts.amazonaws.com" and hasattr(irsa["Credentials"]["Expiration"], "year"), irsa)
c = irsa["Credentials"]
me = client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
check("GetCallerIdentity as the web identity session", me["Arn"] == irsa["AssumedRoleUser"]["Arn"], me)
for what, token, error in [("wrong audience", sa_token("pods.eks.amazonaws.com"), sts.exceptions.InvalidIdentityTokenException),
                           ("expired", sa_token("sts.amazonaws.com", expires_in=-5), sts.exceptions.ExpiredTokenException)]:
    try:
        sts.assume_role_with_web_identity(RoleArn=OPERATOR, RoleSessionName="boto3-irsa", WebIdentityToken=token)
        check(f"AssumeRoleWithWebIdentity refuses a token: {what}", False)
    except error:
        check(f"AssumeRoleWithWebIdentity refuses a token: {what} (typed {error.__name__})", True)
pod = ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": ENDPOINT + "/v1/credentials",
                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN": sa_token("pods.eks.amazonaws.com")}).load()
frozen = pod.get_frozen_credentials()
me = client("sts", frozen.access_key, frozen.secret_key, frozen.token).get_caller_identity()
check("Pod Identity through botocore's container provider",
      me["Arn"].startswith("arn:aws:sts::222222222222:assumed-role/datazone-operator/eks-"), me)

print(f"boto3 smoke: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
