"""LSF stand-ins: bsub, bjobs, bkill (see fake.py). Output as IBM Spectrum LSF 10 prints it."""
import re
import sys
import time

import fake

STAT = {"queued": "PEND", "running": "RUN", "done": "DONE", "failed": "EXIT", "killed": "EXIT"}
DELIMITER = re.compile(r"delimiter=['\"]([^'\"]*)['\"]")  # -o "stat exit_code delimiter=','"
KILLED_EXIT = 130  # what LSF reports for a job ended by bkill (SIGINT first)


def bsub(args):
    path, script = fake.submitted_script(args)
    fake.record(script)
    queue = fake.option(args, "-q", default="normal")
    job = fake.new_job(fake.option(args, "-J", default=path or "NONAME"), queue)
    print(f"Job <{job['id']}> is submitted to queue <{queue}>.")


def field(job, name):
    stat = STAT[fake.phase(job)]
    values = {
        "jobid": job["id"], "stat": stat, "user": job["owner"], "queue": job["queue"],
        "job_name": job["name"], "from_host": fake.NODE, "exec_host": fake.NODE if stat != "PEND" else "-",
        "exit_code": str(job["exit_code"]) if stat == "EXIT" else "-",
        "submit_time": time.strftime("%b %d %H:%M", time.localtime(job["submitted"])),
    }
    if name not in values:
        fake.fail(f"{name}: Illegal field name.", 255)
    return values[name]


def bjobs(args):
    fake.record()
    fields = ["jobid", "user", "stat", "queue", "from_host", "exec_host", "job_name", "submit_time"]
    delimiter, header, name, user, ids, everything = None, True, None, fake.ACCOUNT, [], False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-o":
            spec = args[i + 1]
            found = DELIMITER.search(spec)
            delimiter = found.group(1) if found else None
            fields = [f.split(":")[0].lower() for f in DELIMITER.sub("", spec).split()]
            i += 2
        elif arg == "-J":
            name, i = args[i + 1], i + 2
        elif arg == "-u":
            user, i = args[i + 1], i + 2
        elif arg == "-q":
            i += 2
        elif arg == "-noheader":
            header, i = False, i + 1
        elif arg in ("-a", "-w", "-l", "-d", "-p", "-r"):
            everything, i = everything or arg in ("-a", "-d"), i + 1
        else:
            ids, i = ids + [arg], i + 1
    if ids:
        jobs = []
        for job_id in ids:
            job = fake.load(job_id)
            if job is None:
                print(f"Job <{job_id}> is not found", file=sys.stderr)
            else:
                jobs.append(job)
        if not jobs:
            sys.exit(255)
    else:
        jobs = [j for j in fake.all_jobs() if (user == "all" or j["owner"] == user)
                and (name is None or j["name"] == name)
                and (everything or fake.phase(j) in ("queued", "running"))]
        if not jobs:
            fake.fail("No unfinished job found" if not everything else "No job found", 255)
    rows = [[field(job, f) for f in fields] for job in jobs]
    if header:
        rows.insert(0, [f.upper() for f in fields])
    for row in rows:
        print(delimiter.join(row) if delimiter is not None else " ".join(f"{v:<10}" for v in row).rstrip())


def bkill(args):
    fake.record()
    ids = [a for a in args if not a.startswith("-")]
    if not ids:
        fake.fail("bkill: a job id is needed", 255)
    status = 0
    for job_id in ids:
        job = fake.load(job_id)
        if job is None:
            print(f"Job <{job_id}>: No matching job found", file=sys.stderr)
            status = 255
        elif not fake.may_change(job):
            print(f"Job <{job_id}>: User permission denied", file=sys.stderr)
            status = 255
        elif fake.phase(job) not in ("queued", "running"):
            print(f"Job <{job_id}>: Job has already finished", file=sys.stderr)
            status = 255
        else:
            fake.end(job, KILLED_EXIT, killed=True)
            print(f"Job <{job_id}> is being terminated")
    sys.exit(status)


TOOLS = {"bsub": bsub, "bjobs": bjobs, "bkill": bkill}
