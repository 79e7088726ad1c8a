"""Moab stand-ins: msub, checkjob, mjobctl (see fake.py). Output as Moab 9 prints it."""
import sys
import time

import fake

STATE = {"queued": "Idle", "running": "Running", "done": "Completed", "failed": "Completed",
         "killed": "Removed"}


def msub(args):
    path, script = fake.submitted_script(args)
    fake.record(script)
    name = fake.option(args, "-N", default=(path or "STDIN").rsplit("/", 1)[-1])
    job = fake.new_job(name, fake.option(args, "-q", default="batch"))
    print(f"\n{job['id']}")


def job_or_fail(args):
    ids = [a for a in args if not a.startswith("-")]
    job = fake.load(ids[-1]) if ids else None
    if job is None:
        fake.fail(f"ERROR:  invalid job specified ({ids[-1] if ids else ''})", 1)
    return job


def checkjob(args):
    fake.record()
    job = job_or_fail(args)
    phase = fake.phase(job)
    print(f"job {job['id']}\n")
    print(f"AName: {job['name']}")
    print(f"State: {STATE[phase]}")
    print(f"Creds:  user:{job['owner']}  group:{job['owner']}  class:{job['queue']}")
    print(f"SubmitTime: {time.strftime('%a %b %d %H:%M:%S', time.localtime(job['submitted']))}")
    if job["ended"] is not None:
        print(f"Completion Code: {job['exit_code']}")


def mjobctl(args):
    fake.record()
    if "-c" not in args:
        fake.fail("ERROR:  this stand-in only cancels (mjobctl -c JOBID)", 1)
    job = job_or_fail(args)
    if not fake.may_change(job):
        fake.fail(f"ERROR:  user '{fake.ACCOUNT}' is not authorized to cancel job '{job['id']}'", 1)
    if job["ended"] is not None:
        fake.fail(f"ERROR:  job '{job['id']}' has already completed", 1)
    fake.end(job, 271, killed=True)
    print(f"job '{job['id']}' cancelled")


TOOLS = {"msub": msub, "checkjob": checkjob, "mjobctl": mjobctl}
