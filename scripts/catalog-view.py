"""What a consumer sees of the data products in the catalog, read with boto3 as a person with
access to the domain would (the governance account's key of examples/emulator/fixture.yaml).

Usage: catalog-view.py http://127.0.0.1:PORT
"""
import sys

import boto3

ENDPOINT = sys.argv[1]
dz = boto3.client("datazone", region_name="eu-central-1", endpoint_url=ENDPOINT,
                  aws_access_key_id="AKIAGOVERNANCE000001", aws_secret_access_key="governance-secret")


def listings(domain):
    """Every data product listing of the domain (all pages of SearchListings)."""
    token = None
    while True:
        page = dz.search_listings(domainIdentifier=domain, maxResults=50,
                                  filters={"filter": {"attribute": "entityType", "value": "DATA_PRODUCT"}},
                                  **({"nextToken": token} if token else {}))
        yield from (i["dataProductListing"] for i in page["items"] if "dataProductListing" in i)
        token = page.get("nextToken")
        if not token:
            return


shown = 0
for domain in dz.list_domains()["items"]:
    for found in listings(domain["id"]):
        listing = dz.get_listing(domainIdentifier=domain["id"], identifier=found["listingId"])
        item = listing["item"]["dataProductListing"]
        print(f"data product {listing['name']} (revision {item['dataProductRevision']}, listing {listing['status']}): "
              f"{len(item.get('items', []))} assets")
        print("  " + listing.get("description", "").split("\n")[0])
        for asset in item.get("items", []):
            shown_asset = dz.get_listing(domainIdentifier=domain["id"], identifier=asset["listingId"])
            print(f"  - {shown_asset['name']:<16} (asset listing {asset['listingId']}, revision {asset['listingRevision']})")
        shown += 1
if shown == 0:
    print("  (no data product in the catalog)")
