"""A real AWS SDK for Python as a tvm user runs it: boto3's default credential
chain (credential_process, container provider, ...) and one GetCallerIdentity.

Usage: boto3_client.py STS_ENDPOINT. Prints {"arn", "method"} as JSON.
"""
import json
import sys

import boto3


def main() -> None:
    session = boto3.Session(region_name="us-east-1")
    creds = session.get_credentials()
    if creds is None:
        sys.exit("boto3 found no credentials")
    sts = session.client("sts", endpoint_url=sys.argv[1])
    arn = sts.get_caller_identity()["Arn"]
    print(json.dumps({"arn": arn, "method": creds.method}))


if __name__ == "__main__":
    main()
