"""The consuming team's DataZone project for `make demo-mesh`, made as a platform script would:
project analytics-team (found or created, as the producer account's key of
examples/emulator/fixture.yaml), with the team's role (dz-analytics) a contributor.

Usage: mesh-consumer.py http://127.0.0.1:PORT
"""
import sys

import boto3

ENDPOINT = sys.argv[1]
ROLE = "arn:aws:iam::111111111111:role/dz-analytics"
dz = boto3.client("datazone", region_name="eu-central-1", endpoint_url=ENDPOINT,
                  aws_access_key_id="AKIAPRODUCER00000001", aws_secret_access_key="producer-secret")

domain = next(d["id"] for d in dz.list_domains()["items"] if d["name"] == "corp-mesh")
found = dz.list_projects(domainIdentifier=domain, name="analytics-team")["items"]
project = found[0]["id"] if found else dz.create_project(domainIdentifier=domain, name="analytics-team")["id"]
dz.create_project_membership(domainIdentifier=domain, projectIdentifier=project,
                             member={"userIdentifier": ROLE}, designation="PROJECT_CONTRIBUTOR")
print(f"  project analytics-team ({project}) in domain corp-mesh ({domain}); {ROLE} a contributor")
