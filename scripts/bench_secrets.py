"""The measurements of scripts/bench: a release Strongroom beside OpenBao on this machine.

OpenBao runs on raft storage with a file audit device and KV v2; Strongroom on SQLite, then on a
fresh PostgreSQL database. Each holds one secret to describe and 1,000 to list. wrk (16
connections; per phase a 2 s warm-up, then BENCH_PHASE_SECS split in two rounds that alternate
between the systems) then measures: describe one secret / KV read; list 1,000 names / metadata list of 1,000 keys; create
(unique names per request) / audited KV write. Then, for Strongroom alone: resident memory idle,
with BENCH_MANY secrets (loaded through the REST API: durable, encrypted, audited) and after
listing them all, and BENCH_SIGNINS concurrent sign-ins (server errors, p50, max). The audit chain
is verified at the end of each backend. Only loopback traffic; everything started is stopped by
pid on exit, and temporary directories and databases are removed.

Environment (set by scripts/bench): BENCH_BIN, BENCH_BAO, BENCH_BACKENDS ("sqlite,postgres"),
BENCH_PG_URL, BENCH_PHASE_SECS (10), BENCH_MANY (100000), BENCH_SIGNINS (50).
"""
import atexit, http.client, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading
import time, urllib.parse, uuid

BIN, BAO = os.environ["BENCH_BIN"], os.environ["BENCH_BAO"]
BACKENDS = [b for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",") if b]
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PHASE = int(os.environ.get("BENCH_PHASE_SECS", "10"))
MANY = int(os.environ.get("BENCH_MANY", "100000"))
SIGNINS = int(os.environ.get("BENCH_SIGNINS", "50"))
CONNECTIONS, THREADS = 16, 2
ROUNDS = 2  # each phase's time is split in rounds, alternating between the two systems
HOST = "127.0.0.1"

started = []  # (name, Popen) of every process this script started
temp_dirs, pg_databases = [], []


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cleanup():
    for _, proc in reversed(started):
        stop(proc)
    for db in pg_databases:
        subprocess.run(["psql", PG_URL, "-qc", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'],
                       capture_output=True)
    for d in temp_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def temp_dir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    temp_dirs.append(d)
    return d


def spawn(name, argv, env, log_path):
    out = open(log_path, "wb")
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append((name, proc))
    return proc


def request(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def wait_until(what, check, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: {what}: the process exited ({proc.returncode})")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"bench: {what}: not ready after {seconds} s")


# ---------------------------------------------------------------- wrk

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_argv(port, path, seconds, headers=(), script=None):
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    return argv + [f"http://{HOST}:{port}{path}"]


def wrk(port, path, *, seconds, headers=(), script=None, env=None):
    """One wrk run; returns requests/s, p50/p99 in ms, request count, failures."""
    out = subprocess.run(wrk_argv(port, path, seconds, headers, script), capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=seconds + 120).stdout
    return wrk_figures(out)


def wrk_until(port, path, *, script, env, done, cap_secs):
    """wrk until `done()` holds (checked every second) or `cap_secs` pass: then SIGINT, which
    makes wrk stop and print its figures."""
    proc = subprocess.Popen(wrk_argv(port, path, cap_secs + 60, (), script), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, **env})
    started.append(("wrk", proc))
    deadline = time.monotonic() + cap_secs
    while proc.poll() is None and time.monotonic() < deadline and not done():
        time.sleep(1)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    return wrk_figures(proc.communicate(timeout=60)[0])


def wrk_figures(out):
    def latency(q):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * UNIT_MS[m.group(2)] if m else float("nan")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if not rps:
        sys.exit(f"bench: wrk printed no rate:\n{out}")
    return {
        "rps": float(rps.group(1)),
        "p50": latency(50),
        "p99": latency(99),
        "requests": int(count.group(1)) if count else 0,
        "failed": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0),
    }


def lua(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# Every wrk thread numbers its own requests; thread ids keep names unique across threads.
LUA_PRELUDE = """
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
counter = 0
prefix = os.getenv("BENCH_PREFIX")
"""

STRONGROOM_CREATE = LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
done = 0
function request()
  counter = counter + 1
  local name = prefix .. "_" .. tid .. "_" .. counter
  return wrk.format(nil, nil, nil, '{"name":"' .. name .. '","value":"value-' .. name .. '-0123456789abcdef"}')
end
function response(status, headers, body)
  done = done + 1
  if limit > 0 and done >= limit then wrk.thread:stop() end
end
"""

OPENBAO_CREATE = LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Vault-Token"] = os.getenv("BENCH_TOKEN")
function request()
  counter = counter + 1
  local name = prefix .. "_" .. tid .. "_" .. counter
  return wrk.format(nil, "/v1/secret/data/bench/w/" .. name, nil,
                    '{"data":{"value":"value-' .. name .. '-0123456789abcdef"}}')
end
"""


# ---------------------------------------------------------------- OpenBao

def start_openbao():
    d = temp_dir("openbao-bench.")
    port, cluster = free_port(), free_port()
    os.makedirs(f"{d}/raft")
    with open(f"{d}/bao.hcl", "w") as f:
        f.write(f"""
storage "raft" {{
  path = "{d}/raft"
  node_id = "bench"
}}
listener "tcp" {{
  address = "{HOST}:{port}"
  tls_disable = true
}}
audit "file" "bench-audit" {{
  options {{
    file_path = "{d}/audit.log"
  }}
}}
api_addr = "http://{HOST}:{port}"
cluster_addr = "http://{HOST}:{cluster}"
disable_mlock = true
log_level = "warn"
""")
    proc = spawn("openbao", [BAO, "server", f"-config={d}/bao.hcl"], dict(os.environ), f"{d}/bao.log")
    wait_until("OpenBao listening", lambda: request(port, "GET", "/v1/sys/seal-status")[0] == 200, proc)
    status, _, body = request(port, "PUT", "/v1/sys/init", json.dumps({"secret_shares": 1, "secret_threshold": 1}))
    if status != 200:
        sys.exit(f"bench: OpenBao init: {status} {body[:200]!r}")
    init = json.loads(body)
    request(port, "PUT", "/v1/sys/unseal", json.dumps({"key": init["keys_base64"][0]}))
    token = init["root_token"]
    auth = {"X-Vault-Token": token}
    wait_until("OpenBao active", lambda: request(port, "GET", "/v1/sys/health")[0] == 200, proc)
    mount = json.dumps({"type": "kv", "options": {"version": "2"}})
    status, _, body = request(port, "POST", "/v1/sys/mounts/secret", mount, auth)
    if status not in (200, 204):
        sys.exit(f"bench: OpenBao KV mount: {status} {body[:200]!r}")
    # KV v2 upgrades its mount in the background; writes fail until it is done.
    put = lambda path, value: request(port, "POST", f"/v1/secret/data/{path}",
                                      json.dumps({"data": {"value": value}}), auth)[0]
    wait_until("OpenBao KV v2 ready", lambda: put("bench/one", "one-value") == 200, proc)
    load_parallel(lambda c, i: keep_alive_request(c, "POST", f"/v1/secret/data/bench/list/KEY_{i}",
                                                  json.dumps({"data": {"value": f"v{i}"}}), auth), port, 1000)
    status, _, body = request(port, "LIST", "/v1/secret/metadata/bench/list/", None, auth)
    keys = len(json.loads(body)["data"]["keys"])
    if keys != 1000:
        sys.exit(f"bench: OpenBao lists {keys} keys, not 1000")
    audit_lines = sum(1 for _ in open(f"{d}/audit.log"))
    log(f"OpenBao {port}: 1,001 keys written, audit log {audit_lines} lines")
    return {"port": port, "token": token, "proc": proc, "dir": d}


def keep_alive_request(c, method, path, body, headers, expect=(200, 204)):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    if r.status not in expect:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return data


def load_parallel(one, port, count, workers=8):
    """`one(connection, i)` for i in 0..count over `workers` keep-alive connections."""
    next_i, lock, errors = [0], threading.Lock(), []

    def worker():
        c = http.client.HTTPConnection(HOST, port, timeout=60)
        while not errors:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= count:
                return
            try:
                one(c, i)
            except Exception as e:
                errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"bench: loading failed: {errors[0]}")


# ---------------------------------------------------------------- Strongroom

def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_strongroom(backend):
    d = temp_dir("strongroom-bench.")
    port = free_port()
    if backend == "postgres":
        db = f"strongroom_bench_{int(time.time())}_{os.getpid()}"
        subprocess.run(["psql", PG_URL, "-qc", f'CREATE DATABASE "{db}"'], check=True, capture_output=True)
        pg_databases.append(db)
        url = PG_URL.rsplit("/", 1)[0] + "/" + db
    else:
        url = f"sqlite://{d}/strongroom.db?mode=rwc"
    env = {
        **os.environ,
        "STRONGROOM_ADDR": f"{HOST}:{port}",
        "STRONGROOM_PUBLIC_URL": f"http://{HOST}:{port}",
        "STRONGROOM_DATA_DIR": d,
        "STRONGROOM_KEY_FILE": f"{d}/strongroom.key",
        "STRONGROOM_SITE_ROOT": f"{d}/site",
        "STRONGROOM_LOG_FORMAT": "text",
        # The sign-in phase measures hashing under load, not the per-address limit (50 a minute).
        "STRONGROOM_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "DATABASE_URL": url,
    }
    proc = spawn("strongroom", [BIN, "serve"], env, f"{d}/server.log")
    wait_until("Strongroom /health", lambda: request(port, "GET", "/health")[0] == 200, proc)
    return {"port": port, "proc": proc, "env": env, "dir": d}


def form_post(port, path, fields, cookie=None):
    origin = {"Origin": f"http://{HOST}:{port}", "Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        origin["Cookie"] = cookie
    return request(port, "POST", path, urllib.parse.urlencode(fields), origin)


def set_up_strongroom(sr):
    port = sr["port"]
    status, headers, body = form_post(port, "/sfn/setup", {"email": "bench@example.org", "display_name": "Bench",
                                                           "password": uuid.uuid4().hex})
    cookie = next((v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"), None)
    if status >= 400 or not cookie:
        sys.exit(f"bench: setup failed: {status} {body[:200]!r}")
    sr["cookie"] = cookie
    origin = {"Origin": f"http://{HOST}:{port}", "Cookie": cookie, "Content-Type": "application/json"}
    status, _, body = request(port, "POST", "/api/tokens", json.dumps({"name": "bench"}), origin)
    token = json.loads(body)["accessKey"]
    sr["token"] = token
    sr["auth"] = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    org = api(sr, "POST", "/api/orgs", {"organization": {"name": "bench", "fullName": "Bench"}})["organization"]["orgId"]
    sr["org"] = org
    sr["ws"] = {name: api(sr, "POST", f"/api/orgs/{org}/workspaces",
                          {"workspace": {"name": name, "fullName": name, "visibility": "PRIVATE"}})["workspace"]["id"]
                for name in ("one", "list", "create", "many")}


def api(sr, method, path, payload=None):
    status, _, body = request(sr["port"], method, path, None if payload is None else json.dumps(payload), sr["auth"])
    if status not in (200, 204):
        sys.exit(f"bench: {method} {path}: {status} {body[:200]!r}")
    return json.loads(body) if body else None


def load_strongroom_fixtures(sr):
    one = api(sr, "POST", f"/api/pipeline-secrets?workspaceId={sr['ws']['one']}",
              {"name": "ONE_SECRET", "value": "one-" + uuid.uuid4().hex})
    sr["one_id"] = one["secretId"]
    ws = sr["ws"]["list"]
    t = time.perf_counter()
    load_parallel(lambda c, i: keep_alive_request(c, "POST", f"/api/pipeline-secrets?workspaceId={ws}",
                                                  json.dumps({"name": f"LIST_{i}", "value": uuid.uuid4().hex}),
                                                  sr["auth"]), sr["port"], 1000)
    listed = api(sr, "GET", f"/api/pipeline-secrets?workspaceId={ws}")
    if listed["totalSize"] != 1000 or len(listed["pipelineSecrets"]) != 1000:
        sys.exit(f"bench: Strongroom lists {listed['totalSize']} secrets, not 1000")
    log(f"Strongroom: 1,000 secrets created in {time.perf_counter() - t:.1f} s (8 clients)")


# ---------------------------------------------------------------- phases

def compare(sr, bao, scripts_dir):
    """The three ratios: each side warmed up for 2 s, then measured for PHASE seconds."""
    sr_auth = [f"Authorization: Bearer {sr['token']}"]
    bao_auth = [f"X-Vault-Token: {bao['token']}"]
    sr_create = lua(scripts_dir, "sr_create.lua", STRONGROOM_CREATE)
    bao_create = lua(scripts_dir, "bao_create.lua", OPENBAO_CREATE)
    run_id = uuid.uuid4().hex[:6].upper()
    phases = [
        ("describe one", dict(path=f"/api/pipeline-secrets/{sr['one_id']}?workspaceId={sr['ws']['one']}", headers=sr_auth),
         dict(path="/v1/secret/data/bench/one", headers=bao_auth), 3.0, None),
        ("list 1,000", dict(path=f"/api/pipeline-secrets?workspaceId={sr['ws']['list']}", headers=sr_auth),
         dict(path="/v1/secret/metadata/bench/list/?list=true", headers=bao_auth), 2.0, None),
        ("create", dict(path=f"/api/pipeline-secrets?workspaceId={sr['ws']['create']}", script=sr_create),
         dict(path="/", script=bao_create), 1.5, 25.0),
    ]
    rows = []
    for n, (name, ours, theirs, goal, p99_goal) in enumerate(phases):
        runs = {"openbao": [], "strongroom": []}
        sides = (("openbao", bao["port"], theirs, bao["token"]), ("strongroom", sr["port"], ours, sr["token"]))
        # Rounds alternate between the two, so a neighbour's load on this shared machine falls on both.
        for r in range(ROUNDS + 1):
            for side, port, spec, token in sides:
                env = {"BENCH_TOKEN": token, "BENCH_PREFIX": f"B{run_id}{n}R{r}"}
                secs = 2 if r == 0 else max(1, round(PHASE / ROUNDS))
                result = wrk(port, spec["path"], seconds=secs, headers=spec.get("headers", ()),
                             script=spec.get("script"), env=env)
                if r > 0:  # round 0 warms up
                    runs[side].append(result)
        measured = {side: combine(results) for side, results in runs.items()}
        rows.append((name, measured["strongroom"], measured["openbao"], goal, p99_goal))
    return rows


def combine(results):
    """Rounds of equal length: the mean rate, the mean p50 and the worst p99."""
    return {
        "rps": sum(r["rps"] for r in results) / len(results),
        "p50": sum(r["p50"] for r in results) / len(results),
        "p99": max(r["p99"] for r in results),
        "requests": sum(r["requests"] for r in results),
        "failed": sum(r["failed"] for r in results),
    }


def memory_and_signins(sr, scripts_dir):
    pid = sr["proc"].pid
    figures = {"idle_mb": sr["idle_mb"]}
    ws = sr["ws"]["many"]
    script = lua(scripts_dir, "sr_many.lua", STRONGROOM_CREATE)
    per_thread = -(-MANY // THREADS)
    count = lambda: api(sr, "GET", f"/api/pipeline-secrets?workspaceId={ws}&max=1")["totalSize"]
    progress = {"last": -1, "still": 0}

    def loaded(n):
        # Done at MANY, or when the count stopped growing (wrk's threads stopped at their share,
        # some requests having failed: the figures say how many).
        progress["still"] = progress["still"] + 1 if n == progress["last"] else 0
        progress["last"] = n
        return n >= MANY or progress["still"] >= 5
    t = time.perf_counter()
    result = wrk_until(sr["port"], f"/api/pipeline-secrets?workspaceId={ws}", script=script, cap_secs=1200,
                       env={"BENCH_TOKEN": sr["token"], "BENCH_PREFIX": "MANY", "BENCH_LIMIT": str(per_thread)},
                       done=lambda: loaded(count()))
    load_secs = time.perf_counter() - t
    total = count()
    figures.update(loaded=total, load_secs=load_secs, load_failed=result["failed"],
                   after_load_mb=rss_mb(pid))
    listed = 0
    for offset in range(0, total, 10_000):
        listed += len(api(sr, "GET", f"/api/pipeline-secrets?workspaceId={ws}&max=10000&offset={offset}")["pipelineSecrets"])
    figures.update(listed=listed, after_list_mb=rss_mb(pid), peak_mb=rss_mb(pid, "VmHWM"))

    # Sign-ins: SIGNINS users, then all of them at once (a barrier), each on its own connection.
    password = "bench-" + uuid.uuid4().hex
    for i in range(SIGNINS):
        status, _, body = form_post(sr["port"], "/sfn/create_user",
                                    {"email": f"user{i}@example.org", "display_name": f"User {i}", "password": password},
                                    sr["cookie"])
        if status >= 400:
            sys.exit(f"bench: create_user: {status} {body[:200]!r}")
    barrier, results = threading.Barrier(SIGNINS), [None] * SIGNINS

    def sign_in(i):
        c = http.client.HTTPConnection(HOST, sr["port"], timeout=120)
        c.connect()
        body = urllib.parse.urlencode({"email": f"user{i}@example.org", "password": password})
        headers = {"Origin": f"http://{HOST}:{sr['port']}", "Content-Type": "application/x-www-form-urlencoded"}
        barrier.wait()
        t = time.perf_counter()
        c.request("POST", "/sfn/login", body, headers)
        r = c.getresponse()
        r.read()
        signed_in = any(k.lower() == "set-cookie" and v.startswith("strongroom_session=") for k, v in r.getheaders())
        results[i] = (r.status, (time.perf_counter() - t) * 1000, signed_in)
    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(SIGNINS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    latencies = sorted(r[1] for r in results)
    figures.update(
        signins=SIGNINS,
        signin_5xx=sum(1 for r in results if r[0] >= 500),
        signin_refused=sum(1 for r in results if 400 <= r[0] < 500),
        signin_ok=sum(1 for r in results if r[0] < 400 and r[2]),
        signin_p50=latencies[len(latencies) // 2],
        signin_max=latencies[-1],
        after_signins_mb=rss_mb(pid),
        peak_after_signins_mb=rss_mb(pid, "VmHWM"),
    )
    return figures


def verify_chain(sr):
    out = subprocess.run([BIN, "audit", "verify"], env=sr["env"], capture_output=True, text=True, timeout=600)
    return (out.stdout + out.stderr).strip().splitlines()[-1] if (out.stdout + out.stderr).strip() else "?", out.returncode


def main():
    scripts_dir = temp_dir("bench-wrk.")
    log("starting OpenBao (raft, file audit, KV v2)")
    bao = start_openbao()
    report = []
    for backend in BACKENDS:
        log(f"starting Strongroom on {backend}")
        sr = start_strongroom(backend)
        set_up_strongroom(sr)
        time.sleep(1)
        sr["idle_mb"] = rss_mb(sr["proc"].pid)
        load_strongroom_fixtures(sr)
        log(f"{backend}: measuring ({PHASE:.0f} s per phase and system)")
        rows = compare(sr, bao, scripts_dir)
        log(f"{backend}: memory with {MANY:,} secrets and {SIGNINS} sign-ins")
        memory = memory_and_signins(sr, scripts_dir)
        stop(sr["proc"])
        chain, code = verify_chain(sr)
        report.append((backend, rows, memory, chain, code))
        print_backend(backend, rows, memory, chain, code)
    met = all(ok for _, rows, memory, _, code in report for ok in goals_met(rows, memory, code))
    print(f"\nall goals met: {'yes' if met else 'no'}")


def goals_met(rows, memory, chain_code):
    for name, ours, theirs, goal, p99_goal in rows:
        yield ours["rps"] / theirs["rps"] >= goal and ours["failed"] == 0
        if p99_goal:
            yield ours["p99"] <= p99_goal
    yield memory["idle_mb"] <= 60 and memory["after_load_mb"] <= 150 and memory["after_list_mb"] <= 150
    yield memory["signin_5xx"] == 0 and memory["signin_p50"] <= 150
    yield chain_code == 0


def print_backend(backend, rows, memory, chain, code):
    print(f"\n== Strongroom on {backend} vs OpenBao 2.7.2 (raft, file audit, KV v2); wrk -t{THREADS} "
          f"-c{CONNECTIONS}, {PHASE:.0f} s per phase ==")
    print(f"{'operation':<14}{'Strongroom req/s':>17}{'p50 ms':>8}{'p99 ms':>8}{'fail':>6}   "
          f"{'OpenBao req/s':>13}{'p50 ms':>8}{'p99 ms':>8}{'fail':>6}   {'ratio':>6}  goal")
    for name, ours, theirs, goal, p99_goal in rows:
        ratio = ours["rps"] / theirs["rps"]
        goal_text = f">= {goal}x" + (f", p99 <= {p99_goal:.0f} ms" if p99_goal else "")
        met = ratio >= goal and ours["failed"] == 0 and (not p99_goal or ours["p99"] <= p99_goal)
        print(f"{name:<14}{ours['rps']:>17.0f}{ours['p50']:>8.2f}{ours['p99']:>8.2f}{ours['failed']:>6}   "
              f"{theirs['rps']:>13.0f}{theirs['p50']:>8.2f}{theirs['p99']:>8.2f}{theirs['failed']:>6}   "
              f"{ratio:>5.2f}x  {goal_text} {'met' if met else 'NOT MET'}")
    m = memory
    print(f"memory: idle {m['idle_mb']:.1f} MB (goal <= 60); {m['loaded']:,} secrets loaded in {m['load_secs']:.0f} s "
          f"({m['loaded'] / m['load_secs']:.0f}/s, {m['load_failed']} failed): {m['after_load_mb']:.1f} MB; after listing "
          f"all {m['listed']:,} in pages of 10,000: {m['after_list_mb']:.1f} MB (goal <= 150); peak so far "
          f"{m['peak_mb']:.1f} MB")
    print(f"sign-ins: {m['signins']} at once: {m['signin_ok']} signed in, {m['signin_5xx']} server errors, "
          f"{m['signin_refused']} refused; p50 {m['signin_p50']:.0f} ms, max {m['signin_max']:.0f} ms (goal: 0 errors, "
          f"p50 <= 150 ms); RSS after {m['after_signins_mb']:.1f} MB, peak {m['peak_after_signins_mb']:.1f} MB")
    print(f"audit chain after the run: {chain} (exit {code})")


if __name__ == "__main__":
    main()
