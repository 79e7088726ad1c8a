#!/usr/bin/python3
"""Recording stand-ins for the schedulers that cannot be installed here: LSF, PBS Pro, Moab and
Grid Engine (UGE). scripts/cluster/start links each tool name to this file in $STATE/fake-<scheduler>/
(e.g. $STATE/fake-lsf/bsub); the directory name says which scheduler it plays, the file name which tool.

Each call appends one JSON line to $STATE/records/<scheduler>.log: the account, argv, cwd and, for a
submission, the job script's text (read from the script file argument or standard input), so tests
can check what Strongroom sent (and that no secret value or token was in it). The job script is
NEVER run. Answers are in the real tool's output format, with a small state file per job id in
$STATE/records/<scheduler>-jobs/: a job is queued for its first second, then running, until it is
killed (bkill, qdel, mjobctl -c) or a test ends it with `$STATE/fake-<scheduler>/fake-finish ID [EXIT]`.
"""
import fcntl
import json
import os
import pwd
import sys
import time

QUEUED_SECONDS = 1.0
TOOL_PATH = os.path.abspath(sys.argv[0])
SCHEDULER = os.path.basename(os.path.dirname(TOOL_PATH)).removeprefix("fake-")
TOOL = os.path.basename(TOOL_PATH)
STATE = os.path.dirname(os.path.dirname(TOOL_PATH))
RECORDS = os.path.join(STATE, "records")
JOBS = os.path.join(RECORDS, f"{SCHEDULER}-jobs")
ACCOUNT = pwd.getpwuid(os.getuid()).pw_name
NODE = os.uname().nodename.split(".")[0]


def fail(message, code):
    print(message, file=sys.stderr)
    sys.exit(code)


def record(script=None):
    entry = {"time": time.time(), "account": ACCOUNT, "argv": [TOOL] + sys.argv[1:], "cwd": os.getcwd()}
    if script is not None:
        entry["script"] = script
    old = os.umask(0)
    try:
        fd = os.open(os.path.join(RECORDS, f"{SCHEDULER}.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    finally:
        os.umask(old)
    with os.fdopen(fd, "a") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.write(json.dumps(entry) + "\n")


def option(args, *names, default=None):
    """The value after the last of `names` in args (e.g. -J NAME), or default."""
    value = default
    for i, arg in enumerate(args[:-1]):
        if arg in names:
            value = args[i + 1]
    return value


def submitted_script(args):
    """The job script's text: the last argument when it is a file, else standard input."""
    if args and os.path.isfile(args[-1]):
        with open(args[-1], errors="replace") as f:
            return args[-1], f.read()
    if not sys.stdin.isatty():
        return None, sys.stdin.read()
    return None, ""


def new_job(name, queue):
    """Allocates the next id under a lock and writes the job's state file."""
    old = os.umask(0)
    try:
        with open(os.path.join(JOBS, "next-id"), "a+") as counter:
            fcntl.flock(counter, fcntl.LOCK_EX)
            counter.seek(0)
            job_id = int(counter.read().strip() or "1000")
            counter.seek(0)
            counter.truncate()
            counter.write(str(job_id + 1))
    finally:
        os.umask(old)
    job = {"id": str(job_id), "name": name, "queue": queue, "owner": ACCOUNT, "submitted": time.time(),
           "ended": None, "exit_code": None, "killed": False}
    save(job)
    return job


def save(job):
    path = os.path.join(JOBS, job["id"])
    with open(path + ".tmp", "w") as f:
        json.dump(job, f)
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)


def load(job_id):
    """The job with this id (a PBS id may carry its server: 123.pbs-server), or None."""
    job_id = str(job_id).split(".")[0]
    if not job_id.isdigit():
        return None
    try:
        with open(os.path.join(JOBS, job_id)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def all_jobs():
    jobs = [load(n) for n in os.listdir(JOBS) if n.isdigit()]
    return sorted((j for j in jobs if j), key=lambda j: int(j["id"]))


def phase(job):
    """queued, running, done (exit 0), failed (other exit) or killed."""
    if job["killed"]:
        return "killed"
    if job["ended"] is not None:
        return "done" if job["exit_code"] == 0 else "failed"
    return "queued" if time.time() - job["submitted"] < QUEUED_SECONDS else "running"


def end(job, exit_code, killed=False):
    job.update(ended=time.time(), exit_code=exit_code, killed=killed)
    save(job)


def may_change(job):
    return ACCOUNT in ("root", job["owner"])


def fake_finish(args):
    """Test control, not a scheduler tool: ends job ID with an exit code (default 0)."""
    if not args:
        fail("usage: fake-finish JOB_ID [EXIT_CODE]", 2)
    job = load(args[0])
    if job is None:
        fail(f"fake-finish: no job {args[0]}", 1)
    end(job, int(args[1]) if len(args) > 1 else 0)


def main():
    args = sys.argv[1:]
    if TOOL == "fake-finish":
        return fake_finish(args)
    import lsf, moab, pbs, uge  # noqa: E401 (beside this file; imported after the paths are known)

    tools = {"lsf": lsf.TOOLS, "pbs": pbs.TOOLS, "moab": moab.TOOLS, "uge": uge.TOOLS}.get(SCHEDULER, {})
    if TOOL not in tools:
        fail(f"{TOOL}: not a {SCHEDULER} stand-in tool (have {', '.join(sorted(tools))})", 127)
    tools[TOOL](args)


if __name__ == "__main__":
    sys.modules.setdefault("fake", sys.modules[__name__])
    main()
