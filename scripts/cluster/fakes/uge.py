"""Grid Engine (UGE / SGE) stand-ins: qsub, qstat, qdel, qacct (see fake.py). Output as UGE 8 prints it."""
import sys
import time

import fake

STATE = {"queued": "qw", "running": "r"}
KILLED_EXIT = 137  # 128 + SIGKILL: what qacct shows for a job qdel ended


def qsub(args):
    path, script = fake.submitted_script(args)
    fake.record(script)
    name = fake.option(args, "-N", default=(path or "STDIN").rsplit("/", 1)[-1])
    job = fake.new_job(name, fake.option(args, "-q", default="all.q"))
    print(job["id"] if "-terse" in args else f'Your job {job["id"]} ("{name}") has been submitted')


def live(job):
    return fake.phase(job) in STATE


def qstat(args):
    fake.record()
    if "-j" in args:
        job_id = fake.option(args, "-j")
        job = fake.load(job_id)
        if job is None or not live(job):
            fake.fail(f"Following jobs do not exist or permissions are not sufficient: \n{job_id}", 1)
        print("=" * 62)
        for key, value in [("job_number", job["id"]), ("owner", job["owner"]), ("job_name", job["name"]),
                           ("hard_queue_list", job["queue"]), ("job_state 1", STATE[fake.phase(job)])]:
            print(f"{key + ':':<28}{value}")
        return
    user = fake.option(args, "-u", default=fake.ACCOUNT)
    jobs = [j for j in fake.all_jobs() if live(j) and user in ("*", j["owner"])]
    if jobs:
        print("job-ID  prior   name       user         state submit/start at     queue          slots "
              "ja-task-ID")
        print("-" * 101)
    for j in jobs:
        when = time.strftime("%m/%d/%Y %H:%M:%S", time.localtime(j["submitted"]))
        print(f"{j['id']:>7} 0.55500 {j['name'][:10]:<10} {j['owner'][:12]:<12} {STATE[fake.phase(j)]:<5} "
              f"{when} {j['queue']}@{fake.NODE:<9} 1")


def qdel(args):
    fake.record()
    status = 0
    for job_id in [a for a in args if not a.startswith("-")]:
        job = fake.load(job_id)
        if job is None or not live(job):
            print(f'denied: job "{job_id}" does not exist', file=sys.stderr)
            status = 1
        elif not fake.may_change(job):
            print(f'denied: "{fake.ACCOUNT}" is not the owner of job "{job_id}"', file=sys.stderr)
            status = 1
        else:
            fake.end(job, KILLED_EXIT, killed=True)
            print(f"{fake.ACCOUNT} has registered the job {job_id} for deletion")
    sys.exit(status)


def qacct(args):
    fake.record()
    job = fake.load(fake.option(args, "-j", default=""))
    if job is None or live(job):
        fake.fail(f"error: job id {fake.option(args, '-j', default='')} not found", 1)
    print("=" * 62)
    for key, value in [("qname", job["queue"]), ("hostname", fake.NODE), ("owner", job["owner"]),
                       ("jobname", job["name"]), ("jobnumber", job["id"]),
                       ("failed", "100 : assumedly after job" if job["killed"] else "0"),
                       ("exit_status", job["exit_code"])]:
        print(f"{key:<13}{value}")


TOOLS = {"qsub": qsub, "qstat": qstat, "qdel": qdel, "qacct": qacct}
