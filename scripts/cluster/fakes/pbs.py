"""PBS Pro stand-ins: qsub, qstat, qdel, qselect (see fake.py). Output as PBS Pro 2022 prints it."""
import json
import sys
import time

import fake

SERVER = "pbs-server"
STATE = {"queued": "Q", "running": "R", "done": "F", "failed": "F", "killed": "F"}
KILLED_EXIT = 271  # 256 + SIGTERM: what PBS Pro records for a job qdel ended
# PBS Pro exits with its error number modulo 256.
UNKNOWN_JOB, FINISHED, NO_PERMISSION = 153, 35, 159


def full_id(job):
    return f"{job['id']}.{SERVER}"


def qsub(args):
    path, script = fake.submitted_script(args)
    fake.record(script)
    name = fake.option(args, "-N", default=(path or "STDIN").rsplit("/", 1)[-1])
    job = fake.new_job(name, fake.option(args, "-q", default="workq"))
    print(full_id(job))


def attributes(job):
    state = STATE[fake.phase(job)]
    when = time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(job["submitted"]))
    attrs = {"Job_Name": job["name"], "Job_Owner": f"{job['owner']}@{fake.NODE}", "job_state": state,
             "queue": job["queue"], "server": SERVER, "ctime": when, "qtime": when}
    if state != "Q":
        attrs["exec_host"] = f"{fake.NODE}/0"
    if state == "F":
        attrs["Exit_status"] = job["exit_code"]
        if job["killed"]:
            attrs["comment"] = "Job run at request of root and was deleted by " + job["owner"]
    return attrs


def qstat(args):
    fake.record()
    history = "-x" in args or "-H" in args
    ids = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-F")]
    jobs, status = [], 0
    for job_id in ids:
        job = fake.load(job_id)
        if job is None:
            print(f"qstat: Unknown Job Id {job_id}", file=sys.stderr)
            status = UNKNOWN_JOB
        elif STATE[fake.phase(job)] == "F" and not history:
            print(f"qstat: {full_id(job)} Job has finished, use -x or -H to obtain historical job "
                  "information", file=sys.stderr)
            status = FINISHED
        else:
            jobs.append(job)
    if not ids:
        jobs = [j for j in fake.all_jobs() if history or STATE[fake.phase(j)] != "F"]
    if "-f" in args and fake.option(args, "-F") == "json":
        print(json.dumps({"pbs_server": SERVER, "Jobs": {full_id(j): attributes(j) for j in jobs}}, indent=4))
    elif "-f" in args:
        for job in jobs:
            print(f"Job Id: {full_id(job)}")
            for key, value in attributes(job).items():
                print(f"    {key} = {value}")
            print()
    elif jobs:
        print("Job id            Name             User              Time Use S Queue")
        print("----------------  ---------------- ----------------  -------- - -----")
        for j in jobs:
            state = STATE[fake.phase(j)]
            name, owner = j["name"][:16], j["owner"][:16]
            print(f"{full_id(j):<17} {name:<16} {owner:<16}  00:00:00 {state} {j['queue']}")
    sys.exit(status)


def qdel(args):
    fake.record()
    status = 0
    for job_id in [a for a in args if not a.startswith("-")]:
        job = fake.load(job_id)
        if job is None:
            print(f"qdel: Unknown Job Id {job_id}", file=sys.stderr)
            status = UNKNOWN_JOB
        elif not fake.may_change(job):
            print(f"qdel: Unauthorized Request  {full_id(job)}", file=sys.stderr)
            status = NO_PERMISSION
        elif STATE[fake.phase(job)] == "F":
            print(f"qdel: Job has finished {full_id(job)}", file=sys.stderr)
            status = FINISHED
        else:
            fake.end(job, KILLED_EXIT, killed=True)
    sys.exit(status)


def qselect(args):
    """qselect [-N name] [-u user] [-x]: ids of matching jobs, unfinished unless -x."""
    fake.record()
    name, user = fake.option(args, "-N"), fake.option(args, "-u")
    for job in fake.all_jobs():
        if (name is None or job["name"] == name) and (user is None or job["owner"] == user) and (
            "-x" in args or STATE[fake.phase(job)] != "F"
        ):
            print(full_id(job))


TOOLS = {"qsub": qsub, "qstat": qstat, "qdel": qdel, "qselect": qselect}
