#!/usr/bin/env python3
"""A stand-in for Nextflow's head job, run by Strongroom as an HPC launch command.

It reads the secrets store exactly as Nextflow's LocalSecretsProvider does (NXF_SECRETS_FILE,
a JSON array of {name, value}, refused unless the file is private), records what it saw as
names with SHA-256 digests (never the values) in $HEAD_JOB_REPORT, then reports the run through
the trace API with the access token it was given: create, begin, heartbeat, complete.
"""
import hashlib, json, os, stat, sys, urllib.request

report_path = os.environ["HEAD_JOB_REPORT"]
report = {"workflow_id": os.environ.get("TOWER_WORKFLOW_ID"), "secrets_enabled": os.environ.get("NXF_ENABLE_SECRETS")}
store = os.environ.get("NXF_SECRETS_FILE")
if store:
    info = os.lstat(store)
    report["store_mode"] = oct(stat.S_IMODE(info.st_mode))
    report["dir_mode"] = oct(stat.S_IMODE(os.lstat(os.path.dirname(store)).st_mode))
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077:
        report["error"] = "the secrets file is not private"
    else:
        with open(store) as f:
            entries = json.load(f)
        report["digests"] = {e["name"]: hashlib.sha256(e["value"].encode()).hexdigest() for e in entries}

def call(method, path, body):
    request = urllib.request.Request(
        os.environ["TOWER_API_ENDPOINT"] + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": "Bearer " + os.environ["TOWER_ACCESS_TOKEN"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)

workspace = "?workspaceId=" + os.environ["TOWER_WORKSPACE_ID"]
created = call("POST", "/trace/create" + workspace, {"workflowId": os.environ["TOWER_WORKFLOW_ID"], "runName": "stand-in"})
wf = created["workflowId"]
call("PUT", f"/trace/{wf}/begin" + workspace, {"workflow": {"id": wf}, "processNames": []})
call("PUT", f"/trace/{wf}/heartbeat" + workspace, {"progress": {}})
report["store_present_at_complete"] = bool(store) and os.path.exists(store)
with open(report_path + ".tmp", "w") as f:
    json.dump(report, f)
os.rename(report_path + ".tmp", report_path)
call("PUT", f"/trace/{wf}/complete" + workspace, {"workflow": {"id": wf, "success": os.environ.get("HEAD_JOB_FAIL") is None}})
sys.exit(0)
