"""Administers a moto S3/IAM/STS server for the end-to-end tests (boto3 speaks AWS).

usage: s3admin.py ENDPOINT setup BUCKET        -> JSON {admin, user} (keys), auth then enforced
       s3admin.py ENDPOINT new-key             -> JSON key of a new user (uses the admin keys in env ADMIN_*)
       s3admin.py ENDPOINT delete-key USER ID
       s3admin.py ENDPOINT assume-role         -> JSON temporary credentials with session token
       s3admin.py ENDPOINT damage BUCKET PREFIX -> JSON count; every object under PREFIX cut to half its size
"""
import json, os, ssl, sys, urllib.request, warnings
import boto3

endpoint, command, *args = sys.argv[1:]


# A TLS moto (Moto::start_tls) has a certificate made up at its start.
warnings.filterwarnings("ignore", message="Unverified HTTPS request")
UNVERIFIED = ssl._create_unverified_context()


def client(service, key=None):
    key = key or {"access-key-id": os.environ.get("ADMIN_KEY", "open"),
                  "secret-access-key": os.environ.get("ADMIN_SECRET", "open")}
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", verify=False,
                        aws_access_key_id=key["access-key-id"], aws_secret_access_key=key["secret-access-key"])


def key_of(response):
    k = response["AccessKey"]
    return {"access-key-id": k["AccessKeyId"], "secret-access-key": k["SecretAccessKey"]}


ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

if command == "setup":
    iam = client("iam")
    client("s3").create_bucket(Bucket=args[0])
    out = {}
    for user in ("admin", "replicator"):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=ADMIN_POLICY)
        out[user] = key_of(iam.create_access_key(UserName=user))
    arn = iam.get_user(UserName="replicator")["User"]["Arn"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="replicator-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="replicator-role", PolicyName="all", PolicyDocument=ADMIN_POLICY)
    out["role_arn"] = role["Role"]["Arn"]
    # From now on moto checks every signature against the keys it issued.
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                                  headers={"Content-Type": "application/json"}),
                           context=UNVERIFIED)
    print(json.dumps(out))
elif command == "new-key":
    # AWS allows two keys per user, so each key gets a user of its own.
    iam = client("iam")
    user = "rotating-%d" % len(iam.list_users()["Users"])
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=ADMIN_POLICY)
    print(json.dumps(dict(key_of(iam.create_access_key(UserName=user)), user=user)))
elif command == "delete-key":
    client("iam").delete_access_key(UserName=args[0], AccessKeyId=args[1])
elif command == "assume-role":
    user = json.loads(os.environ["USER_KEY"])
    creds = client("sts", user).assume_role(RoleArn=args[0], RoleSessionName="test")["Credentials"]
    print(json.dumps({"access-key-id": creds["AccessKeyId"], "secret-access-key": creds["SecretAccessKey"],
                      "session-token": creds["SessionToken"]}))
elif command == "damage":
    s3 = client("s3")
    bucket, prefix = args
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key=key, Body=body[: len(body) // 2])
    print(json.dumps(len(keys)))
elif command == "list":
    s3 = client("s3")
    bucket, prefix = args
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    print(json.dumps({o["Key"]: [o["ETag"], o["Size"]] for page in pages for o in page.get("Contents", [])}))
else:
    sys.exit(f"unknown command {command}")
