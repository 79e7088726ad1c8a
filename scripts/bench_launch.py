"""Phase (c) of scripts/bench-provision: a real launch through a running Strongroom server.

Sets up an admin, a workspace, BENCH_COUNT workspace secrets, AWS credentials and an AWS Batch
compute environment pointing at moto; launches one run with every secret and times provisioning
(launch request until every copy is created and the job definition registered) and cleanup
(cancel until every copy is deleted). Prints `launch_provision_seconds=` and
`launch_cleanup_seconds=`. Each wait is capped at 300 s.
"""
import http.client, json, os, sys, time, urllib.parse, uuid

HOST, PORT = "127.0.0.1", int(os.environ["BENCH_PORT"])
COUNT, MOTO = int(os.environ["BENCH_COUNT"]), os.environ["BENCH_MOTO"]
CAP = 300.0
origin = {"Origin": f"http://{HOST}:{PORT}", "Host": f"{HOST}:{PORT}"}
c = http.client.HTTPConnection(HOST, PORT, timeout=60)


def request(method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.getheaders(), r.read()


form = urllib.parse.urlencode({"email": "bench@example.org", "display_name": "Bench", "password": uuid.uuid4().hex})
status, headers, body = request("POST", "/sfn/setup", form, {**origin, "Content-Type": "application/x-www-form-urlencoded"})
cookie = next((v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"), None)
if status >= 400 or not cookie:
    sys.exit(f"setup failed: {status} {body[:200]!r}")
auth = {**origin, "Cookie": cookie, "Content-Type": "application/json"}


def api(method, path, payload=None):
    status, _, body = request(method, path, None if payload is None else json.dumps(payload), auth)
    if status not in (200, 204):
        sys.exit(f"{method} {path}: {status} {body[:300]!r}")
    return json.loads(body) if body else None


org = api("POST", "/api/orgs", {"organization": {"name": "bench", "fullName": "Bench"}})["organization"]["orgId"]
ws = api("POST", f"/api/orgs/{org}/workspaces", {"workspace": {"name": "launch", "fullName": "Launch", "visibility": "PRIVATE"}})["workspace"]["id"]
names = [f"BENCH_SECRET_{i}" for i in range(1, COUNT + 1)]
for name in names:
    api("POST", f"/api/pipeline-secrets?workspaceId={ws}", {"name": name, "value": f"value-of-{name}-{uuid.uuid4().hex}"})
keys = {"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
creds = api("POST", f"/api/credentials?workspaceId={ws}", {"credentials": {"name": "moto", "provider": "aws", "keys": keys}})
config = {"region": "us-east-1", "computeQueue": "bench", "executionRole": "arn:aws:iam::123456789012:role/bench", "endpointUrl": MOTO}
env = api("POST", f"/api/compute-envs?workspaceId={ws}",
          {"computeEnv": {"name": "moto", "platform": "aws-batch", "credentialsId": creds["credentialsId"], "config": config}})
# The first check makes the preflight probe, so the timed launch measures provisioning only.
api("POST", f"/api/compute-envs/{env['computeEnvId']}/validate?workspaceId={ws}", {})


def wait_for(wf, stage):
    deadline = time.monotonic() + CAP
    while time.monotonic() < deadline:
        run = api("GET", f"/api/workflow/{wf}?workspaceId={ws}")
        if run["cleanupStage"] == stage:
            return run
        if run["cleanupStage"] in ("cleaned", "cleanup_failed") and stage != "cleaned":
            sys.exit(f"the run ended early: {run['message']}")
        time.sleep(0.02)
    sys.exit(f"run {wf} did not reach {stage} within {CAP} s")


start = time.monotonic()
wf = api("POST", f"/api/workflow/launch?workspaceId={ws}",
         {"launch": {"pipeline": "nf-core/bench", "computeEnvId": env["computeEnvId"], "workspaceSecrets": names}})["workflowId"]
run = wait_for(wf, "launched")
provision = time.monotonic() - start
created = sum(1 for copy in run["secretCopies"] if copy["state"] == "created")
start = time.monotonic()
api("POST", f"/api/workflow/{wf}/cancel?workspaceId={ws}", {})
run = wait_for(wf, "cleaned")
cleanup = time.monotonic() - start
deleted = sum(1 for copy in run["secretCopies"] if copy["state"] == "deleted")
if created != COUNT or deleted != COUNT:
    sys.exit(f"expected {COUNT} copies created and deleted, saw {created} and {deleted}")
print(f"launch_provision_seconds={provision:.3f}")
print(f"launch_cleanup_seconds={cleanup:.3f}")
