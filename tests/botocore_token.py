"""Mints a tvm-v1 (or EKS) token with botocore's own presigner, as DESIGN §2
describes: the tvm headers are added in a before-sign handler, then
generate_presigned_url. Used by the integration tests so tvm's verifier is
checked against a SigV4 implementation nobody here wrote.

Input: one JSON object on stdin with access_key_id, secret_access_key,
session_token (optional), endpoint, region, audience (the tvm origin, or the
cluster id for "eks"), target ("METHOD /path", default "POST /vend"), body
(string), kind ("tvm-v1" or "eks"), expires (optional, default 60). Output:
the token.
"""
import base64
import hashlib
import json
import secrets
import sys

import botocore.session


def main() -> None:
    args = json.load(sys.stdin)
    session = botocore.session.get_session()
    client = session.create_client(
        "sts",
        region_name=args["region"],
        endpoint_url=args["endpoint"],
        aws_access_key_id=args["access_key_id"],
        aws_secret_access_key=args["secret_access_key"],
        aws_session_token=args.get("session_token"),
    )
    nonce = secrets.token_hex(16)
    kind = args.get("kind", "tvm-v1")

    def add_headers(request, **_kwargs):
        if kind == "eks":
            request.headers["x-k8s-aws-id"] = args["audience"]
        else:
            request.headers["x-tvm-audience"] = args["audience"]
            request.headers["x-tvm-body-sha256"] = hashlib.sha256(
                args["body"].encode()
            ).hexdigest()
            request.headers["x-tvm-nonce"] = nonce
            request.headers["x-tvm-target"] = args.get("target", "POST /vend")

    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_headers)
    url = client.generate_presigned_url(
        "get_caller_identity",
        Params={},
        ExpiresIn=args.get("expires", 60),
        HttpMethod="GET",
    )
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    if kind == "eks":
        print(f"k8s-aws-v1.{encoded}")
    else:
        print(f"tvm-v1.{nonce}.{encoded}")


if __name__ == "__main__":
    main()
