#!/usr/bin/python3
"""A stand-in for Nextflow on the test cluster (the real one cannot be downloaded here).

Installed as $STATE/bin/nextflow by scripts/cluster/start. Invoked as a head job does:

    nextflow run <pipeline> -name <runName> -with-tower <url ending in /api>
                 [-r rev] [-params-file F] [-c F] [-w DIR] [-profile P] [-resume]

with TOWER_ACCESS_TOKEN, TOWER_WORKFLOW_ID, TOWER_WORKSPACE_ID (optional: without it no
?workspaceId is sent) and NXF_SECRETS_FILE in the environment.

It reads the secrets store as Nextflow's LocalSecretsProvider does (NXF_SECRETS_FILE, else
~/.nextflow/secrets/store.json; a JSON array of {"name", "value"}; a missing file is an empty store)
and refuses, with exit 1 and a message on stderr, a store that is a symbolic link or whose mode is not
exactly 0600. It never prints, logs or writes a secret value: only names and SHA-256 digests.

What it does depends on the pipeline name:
  test/ok          report create, begin, heartbeat; write proof-<workflowId>.json (mode 0644) in the
                   current directory: user, uid, cwd, store path, store and directory modes,
                   {name: sha256(value)}, argv, the NAMES of the environment variables; leave a
                   `.nf-<random>.secrets` file (0600, no value) beside the store as Nextflow does;
                   then report complete with success, exit 0.
  test/fail        exit 3 at once, reporting nothing.
  test/sleep       report create and begin, then a heartbeat every second until killed.
  test/unreported  exit 0 at once, reporting nothing (the head job "succeeds" silently).
Any other pipeline: exit 1 with a message.
"""
import hashlib
import json
import os
import pwd
import secrets
import signal
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

VALUE_OPTIONS = {"-name", "-r", "-revision", "-params-file", "-c", "-config", "-w", "-work-dir", "-profile"}
FLAG_OPTIONS = {"-resume", "-latest", "-bg"}


def die(message, code=1):
    print(f"nextflow (test stand-in): {message}", file=sys.stderr)
    sys.exit(code)


def parse(argv):
    """The `run` command line: pipeline, options with values, and the -with-tower endpoint."""
    if not argv or argv[0] != "run":
        die("only `nextflow run <pipeline> ...` is supported by this stand-in")
    args, options, pipeline, i = argv[1:], {}, None, 0
    while i < len(args):
        arg = args[i]
        if arg == "-with-tower":
            # Like Nextflow: the URL is optional, TOWER_API_ENDPOINT is the fallback.
            if i + 1 < len(args) and not args[i + 1].startswith("-"):
                options[arg], i = args[i + 1], i + 2
            else:
                options[arg], i = os.environ.get("TOWER_API_ENDPOINT", ""), i + 1
        elif arg in VALUE_OPTIONS:
            if i + 1 >= len(args):
                die(f"option {arg} needs a value")
            options[arg], i = args[i + 1], i + 2
        elif arg in FLAG_OPTIONS:
            options[arg], i = True, i + 1
        elif arg.startswith("-"):
            die(f"Unknown option: {arg} -- Check the available commands and options and syntax with 'help'")
        elif pipeline is None:
            pipeline, i = arg, i + 1
        else:
            die(f"unexpected argument: {arg}")
    if pipeline is None:
        die("no pipeline given to `nextflow run`")
    return pipeline, options


def mode_of(path):
    return format(stat.S_IMODE(os.lstat(path).st_mode), "04o")


def read_store():
    """Returns (path, entries) or exits like Nextflow does on a store that is not private."""
    path = os.environ.get("NXF_SECRETS_FILE") or os.path.expanduser("~/.nextflow/secrets/store.json")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path, []
    if stat.S_ISLNK(info.st_mode):
        die(f"the secrets file {path} is a symbolic link; refusing to read it")
    if not stat.S_ISREG(info.st_mode):
        die(f"the secrets file {path} is not a regular file")
    if stat.S_IMODE(info.st_mode) != 0o600:
        die(f"Invalid permissions for secret store file: {path} -- Make sure the file is readable and "
            f"writable only by its owner (i.e. chmod 600); it is {mode_of(path)}")
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read the secrets file {path}: {type(e).__name__}")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("value"), str)
        for e in entries
    ):
        die(f"the secrets file {path} is not a JSON array of {{name, value}}")
    return path, entries


class Tower:
    """Nextflow's -with-tower client: the trace reports, with the bearer token."""

    def __init__(self, endpoint):
        if not endpoint:
            die("no -with-tower endpoint (and no TOWER_API_ENDPOINT)")
        token = os.environ.get("TOWER_ACCESS_TOKEN")
        if not token:
            die("TOWER_ACCESS_TOKEN is not set")
        self.endpoint, self.token = endpoint.rstrip("/"), token
        workspace = os.environ.get("TOWER_WORKSPACE_ID")
        self.query = f"?workspaceId={workspace}" if workspace else ""

    def call(self, method, path, body):
        request = urllib.request.Request(
            self.endpoint + path + self.query,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            die(f"{method} {path} answered {e.code}: {e.read(500).decode(errors='replace')}")
        except OSError as e:
            die(f"{method} {path} failed: {e}")

    def start(self, pipeline, run_name):
        workflow_id = os.environ.get("TOWER_WORKFLOW_ID")
        created = self.call("POST", "/trace/create", {
            "workflowId": workflow_id, "runName": run_name, "projectName": pipeline,
            # Nextflow's session id is a UUID (the trace API refuses anything else).
            "sessionId": str(uuid.uuid4()),
        })
        wf = created.get("workflowId") or workflow_id
        begin = {"workflow": {"id": wf, "runName": run_name}, "processNames": []}
        self.call("PUT", f"/trace/{wf}/begin", begin)
        return wf


def write_atomically(path, text, mode):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".proof-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def run_ok(tower, pipeline, options, store, entries):
    wf = tower.start(pipeline, options.get("-name"))
    tower.call("PUT", f"/trace/{wf}/heartbeat", {"progress": {}})
    store_dir = os.path.dirname(os.path.abspath(store))
    # Nextflow leaves a private temp file of the secrets for its tasks beside the store.
    nf_file = os.path.join(store_dir, f".nf-{secrets.token_hex(8)}.secrets")
    if os.path.exists(store):
        fd = os.open(nf_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"# secrets for tasks (the stand-in writes names only)\n")
        os.close(fd)
    else:
        nf_file = None
    proof = {
        "workflow_id": wf,
        "pipeline": pipeline,
        "run_name": options.get("-name"),
        "revision": options.get("-r") or options.get("-revision"),
        "tower_endpoint": options.get("-with-tower"),
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "uid": os.getuid(),
        "cwd": os.getcwd(),
        "store": store,
        "store_exists": os.path.exists(store),
        "store_mode": mode_of(store) if os.path.exists(store) else None,
        "dir_mode": mode_of(store_dir) if os.path.isdir(store_dir) else None,
        "digests": {e["name"]: hashlib.sha256(e["value"].encode()).hexdigest() for e in entries},
        "nf_secrets_file": nf_file,
        "argv": sys.argv,
        "env_names": sorted(os.environ),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    write_atomically(f"proof-{wf}.json", json.dumps(proof, indent=1) + "\n", 0o644)
    tower.call("PUT", f"/trace/{wf}/complete", {"workflow": {"id": wf, "success": True, "exitStatus": 0}})


def run_sleep(tower, pipeline, options):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wf = tower.start(pipeline, options.get("-name"))
    while True:
        time.sleep(1)
        tower.call("PUT", f"/trace/{wf}/heartbeat", {"progress": {}})


def main():
    pipeline, options = parse(sys.argv[1:])
    if pipeline == "test/fail":
        die("test/fail: failing at once, as asked", 3)
    if pipeline == "test/unreported":
        sys.exit(0)
    if pipeline not in ("test/ok", "test/sleep"):
        die(f"unknown test pipeline {pipeline!r}: use test/ok, test/fail, test/sleep or test/unreported")
    store, entries = read_store()
    tower = Tower(options.get("-with-tower"))
    if pipeline == "test/ok":
        run_ok(tower, pipeline, options, store, entries)
    else:
        run_sleep(tower, pipeline, options)


if __name__ == "__main__":
    main()
