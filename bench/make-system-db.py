"""Writes a large database of Constellation, LLM Orchestration or Autonomous Software Studio
with the real SQLite engine, following each system's schema (read as JSON from stdin, the
DDL of test/fixtures/) and the values its code stores.

usage: make-system-db.py constellation <file> <steps> [<message text bytes>]
       make-system-db.py llmo <file> <steps>
       make-system-db.py studio <folder> <steps>     (writes <folder>/orchestrator.db and checkpoints.db)

Constellation: steps are iterations (an assistant message with tool_calls, then one tool
message per call with tool_results) of 4 projects, each a root agent with 3 sub-agents and one
sub-sub-agent, all running at once; every agent starts with the user's prompt; file outputs
(previous_content → content), and an agent_progress event per iteration. With a byte count, the
messages' content is padded so that agent_history holds about that much message text.

LLM Orchestration: steps are responses; 6 workflows of 3 to 8 payloads run over and over (API
and UI runs, some failed part-way), one response per payload that answered, with processed text
and the metadata services/llm.js writes.

Studio: steps are checkpoints of LangGraph's fallback saver (msgpack blobs, as
src/orchestration/sqlite_checkpointer.py writes them): per session the input checkpoint,
__start__, pm, architect, human_gate, the approval's update checkpoint, then engineer ⇄ qa
rounds; every task writes each state key plus its edge; one sessions row per session with the
latest state as state_json.
"""
import hashlib
import json
import os
import random
import sqlite3
import struct
import sys
from datetime import datetime, timedelta, timezone

WORDS = (
    "the agent reads the repository and runs the tests before it changes a file so the build stays "
    "green while the widget renders each city name escaped as text and the parser keeps its state "
    "small enough to review in one sitting with clear commit messages and no surprises for anyone"
).split()


def prose(rng, n):
    out = []
    size = 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n]


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 + (int(h[16], 16) & 3), h[17:20], h[20:32])


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------
# Constellation

def constellation(db, schema, steps, text_bytes):
    rng = random.Random(steps)
    db.executescript(schema["constellation"])
    projects = 4
    agents_per_project = 5
    per_agent = [steps // (projects * agents_per_project)] * (projects * agents_per_project)
    for i in range(steps - sum(per_agent)):
        per_agent[i] += 1
    # Messages: per iteration an assistant message and 1-3 tool messages; per agent one prompt.
    calls_of = [[1 + (rng.random() < 0.5) + (rng.random() < 0.3) for _ in range(n)] for n in per_agent]
    messages = sum(len(c) + sum(c) for c in calls_of) + len(per_agent)
    pad = (text_bytes // messages) if text_bytes else 0
    padding = prose(random.Random(7), 1 << 20) if pad else ""

    def content(head):
        if not pad:
            return head
        need = max(0, pad - len(head))
        out = [head]
        while need > 0:
            off = rng.randrange(0, len(padding) - 4096)
            take = min(need, len(padding) - off)
            out.append(padding[off:off + take])
            need -= take
        return "".join(out)

    agents = []
    t = START
    for p in range(projects):
        pid = uuid4(rng)
        name = ["Weather widget", "Calculator", "Invoice parser", "Chat bridge"][p]
        settings = {"model": "claude-sonnet-4-5-20250929", "budgetLimit": 10.0, "maxIterations": 100,
                    "circuitBreaker": {"enabled": True, "maxConsecutiveFailures": 5, "maxConsecutiveCompletions": 3},
                    "allowedTools": ["bash", "read", "write", "edit", "glob", "grep"]}
        created = t + timedelta(minutes=p)
        db.execute(
            "INSERT INTO projects (id, name, description, status, prompt_path, settings, cost_total, iteration_count, created_at, updated_at, ended_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)",
            (pid, name, "", ["running", "completed", "stopped", "running"][p], "/tmp/constellation-prompt-%d.md" % (1767600000000 + p),
             json.dumps(settings), iso_ms(created), iso_ms(created + timedelta(days=2)), None),
        )
        root = uuid4(rng)
        tree = [(root, None, 0, "%s Agent" % name, None)]
        subs = [uuid4(rng) for _ in range(3)]
        for i, s in enumerate(subs):
            tree.append((s, root, 1, ["Testing Sub-Agent", "Docs Sub-Agent", "Refactor Sub-Agent"][i], ["testing", "docs", "refactoring"][i]))
        tree.append((uuid4(rng), subs[0], 2, "Fixture Sub-Agent", "testing"))
        for aid, parent, depth, aname, spec in tree:
            config = {"model": "claude-sonnet-4-5", "maxTokens": 8192, "temperature": 0.7, "maxIterations": 100,
                      "enabledTools": ["Bash", "Read", "Write", "Edit", "Glob", "Grep"]}
            if spec:
                config["specialization"] = spec
            db.execute(
                "INSERT INTO agents (id, project_id, parent_id, name, status, config, current_task, total_tokens, total_cost, iteration_count, depth, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?)",
                (aid, pid, parent, aname, "working", json.dumps(config), "Write the tests", depth,
                 iso_ms(created + timedelta(seconds=depth * 5 + 1)), iso_ms(created + timedelta(days=1))),
            )
            agents.append({"id": aid, "project": pid, "t": created + timedelta(seconds=depth * 5 + 2)})

    history = []
    outputs = []
    events = []
    files = {}
    for a, agent in enumerate(agents):
        history.append((uuid4(rng), agent["id"], "user", content("Build the feature and keep the tests green."), None, None,
                        json.dumps({"input_tokens": 42, "output_tokens": 0}), None, iso_ms(agent["t"])))
    longest = max(per_agent)
    for i in range(longest):
        for a, agent in enumerate(agents):
            if i >= per_agent[a]:
                continue
            t = agent["t"] + timedelta(seconds=40 * (i + 1), milliseconds=rng.randrange(0, 9000))
            n = calls_of[a][i]
            calls = []
            results = []
            for c in range(n):
                tool = rng.choice(["bash", "read", "write", "edit"])
                cid = "toolu_%012x" % rng.getrandbits(48)
                path = "src/module%d/file%d.ts" % (a % 7, rng.randrange(40))
                inp = {"command": "npm test -- --runInBand"} if tool == "bash" else {"path": path}
                if tool in ("write", "edit"):
                    inp["content"] = prose(rng, rng.randrange(200, 800))
                calls.append({"type": "tool_use", "id": cid, "name": tool, "input": inp})
                results.append((cid, tool, path))
            inp_tokens = rng.randrange(1000, 60000)
            out_tokens = rng.randrange(100, 4000)
            history.append((uuid4(rng), agent["id"], "assistant", content(prose(rng, rng.randrange(150, 700))), json.dumps(calls), None,
                            json.dumps({"input_tokens": inp_tokens, "output_tokens": out_tokens}),
                            round((inp_tokens * 3 + out_tokens * 15) / 1_000_000, 6), iso_ms(t)))
            for c, (cid, tool, path) in enumerate(results):
                tt = t + timedelta(seconds=2 * (c + 1))
                output = "Wrote %d lines to %s" % (rng.randrange(3, 90), path) if tool in ("write", "edit") else prose(rng, rng.randrange(80, 600))
                history.append((uuid4(rng), agent["id"], "tool", content("Ran %s" % tool), None,
                                json.dumps([{"type": "tool_result", "tool_use_id": cid, "output": output}]), None, None, iso_ms(tt)))
                if tool in ("write", "edit"):
                    body = prose(rng, rng.randrange(300, 1500))
                    before = files.get((a, path))
                    files[(a, path)] = body
                    outputs.append((uuid4(rng), agent["project"], agent["id"], "file", "/" + path, body, before,
                                    hashlib.sha256(body.encode()).hexdigest(), iso_ms(tt + timedelta(milliseconds=40))))
            events.append((uuid4(rng), agent["project"], agent["id"], "agent_progress",
                           json.dumps({"task": "Write the tests", "files_created": sum(1 for r in results if r[1] == "write"), "cost_so_far": 0}),
                           iso_ms(t + timedelta(seconds=9))))
        if len(history) > 20000 or i == longest - 1:
            flush_constellation(db, history, outputs, events)
    db.commit()


def flush_constellation(db, history, outputs, events):
    db.executemany("INSERT INTO agent_history (id, agent_id, role, content, tool_calls, tool_results, usage, cost, created_at) VALUES (?,?,?,?,?,?,?,?,?)", history)
    db.executemany("INSERT INTO outputs (id, project_id, agent_id, type, path, content, previous_content, checksum, created_at) VALUES (?,?,?,?,?,?,?,?,?)", outputs)
    db.executemany("INSERT INTO events (id, project_id, agent_id, type, data, created_at) VALUES (?,?,?,?,?,?)", events)
    history.clear()
    outputs.clear()
    events.clear()


# ---------------------------------------------------------------------------------------------
# LLM Orchestration

def sqlite_ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


BACKENDS = {
    5001: ("kobold", {"result": "koboldcpp/Mistral-7B-Instruct-v0.3.Q4_K_M"}),
    5002: ("completion", {"object": "list", "data": [{"id": "meta-llama-3.1-8b-instruct", "object": "model", "owned_by": "organization_owner"}]}),
    5003: ("kobold-no-counts", {"result": "koboldcpp/llama-2-13b-chat.Q5_K_M"}),
}


def llmo(db, schema, steps):
    rng = random.Random(steps + 1)
    tables = schema["llmo"]
    for table in ["runs", "blocks", "payloads", "payload_blocks", "workflows", "workflow_payloads", "responses"]:
        db.execute(tables[table])
    t = START
    payloads = []
    for p in range(24):
        port = [5001, 5002, 5003][p % 3]
        name = "Payload %d: %s" % (p + 1, rng.choice(["summarise", "translate", "review", "outline", "critique"]))
        cur = db.execute("INSERT INTO payloads (name, temperature, response_length, llm_port, model_format, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (name, 0.6, 1000, port, "mistral" if p % 5 == 0 else "default", sqlite_ts(t), sqlite_ts(t)))
        pid = cur.lastrowid
        for b in range(3):
            bid = db.execute("INSERT INTO blocks (title, content, tags, folder_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                             ("Block %d.%d" % (p + 1, b + 1), prose(rng, rng.randrange(200, 1200)), "prompt,part%d" % b, "Prompts", sqlite_ts(t), sqlite_ts(t))).lastrowid
            db.execute("INSERT INTO payload_blocks (payload_id, block_id, order_index) VALUES (?, ?, ?)", (pid, bid, b))
        db.execute("INSERT INTO blocks (title, content, tags, folder_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                   ("%s - response" % name, "", "response,payload_%d" % pid, "Responses", sqlite_ts(t), sqlite_ts(t)))
        payloads.append((pid, name, port))
        t += timedelta(seconds=5)
    workflows = []
    for w in range(6):
        wid = db.execute("INSERT INTO workflows (name, created_at, updated_at) VALUES (?, ?, ?)",
                         ("Workflow %d" % (w + 1), sqlite_ts(t), sqlite_ts(t))).lastrowid
        members = rng.sample(payloads, 3 + w)
        for i, p in enumerate(members):
            db.execute("INSERT INTO workflow_payloads (workflow_id, payload_id, order_index) VALUES (?, ?, ?)", (wid, p[0], i))
        workflows.append((wid, "Workflow %d" % (w + 1), members))
        t += timedelta(seconds=30)
    made = 0
    runs = []
    responses = []
    run_id = 0
    while made < steps:
        wid, wname, members = rng.choice(workflows)
        run_id += 1
        api = rng.random() < 0.5
        started = t
        failed = rng.random() < 0.05 and len(members) > 1
        answered = members[: rng.randrange(1, len(members))] if failed else members
        answered = answered[: steps - made]
        meta = {"workflow_name": wname, "total_payloads": len(members), "started_at": iso_ms(started)} if api else None
        for pid, pname, port in answered:
            kind, info = BACKENDS[port]
            ms = rng.randrange(2000, 40000)
            t += timedelta(milliseconds=ms + 20)
            prompt, completion = rng.randrange(200, 3000), rng.randrange(50, 900)
            if kind == "kobold-no-counts":
                processed = {"tokens": None, "promptTokens": 0, "completionTokens": 0, "finishReason": "stop"}
            else:
                processed = {"tokens": prompt + completion, "promptTokens": prompt, "completionTokens": completion, "finishReason": "stop"}
                if kind == "completion":
                    processed["responseType"] = "completion"
            tokens = processed["tokens"]
            rmeta = dict(processed, duration_ms=ms, tokens_per_second=round(tokens / ms * 1000) if tokens else 0, model_info=info,
                         llm_config={"port": port, "temperature": 0.6, "max_length": 1000, "model_format": "default"})
            responses.append((run_id, pid, prose(rng, rng.randrange(400, 3000)), json.dumps(rmeta, separators=(",", ":")), sqlite_ts(t)))
            made += 1
        t += timedelta(milliseconds=10)
        if failed:
            status = "failed"
            if meta:
                meta["error"] = "Request failed with status code 503"
        else:
            status = "completed"
            if meta:
                meta["completed_at"] = iso_ms(t)
                meta["models"] = json.dumps([{"payloadName": p[1], "modelInfo": BACKENDS[p[2]][1]} for p in answered], separators=(",", ":"))
        runs.append((run_id, wid, status, sqlite_ts(started), sqlite_ts(t), json.dumps(meta, separators=(",", ":")) if meta else None))
        t += timedelta(minutes=rng.randrange(1, 30))
        if len(responses) > 20000:
            flush_llmo(db, runs, responses)
    flush_llmo(db, runs, responses)
    db.commit()


def flush_llmo(db, runs, responses):
    db.executemany("INSERT INTO runs (id, workflow_id, status, started_at, completed_at, metadata) VALUES (?, ?, ?, ?, ?, ?)", runs)
    db.executemany("INSERT INTO responses (run_id, payload_id, content, metadata, created_at) VALUES (?, ?, ?, ?, ?)", responses)
    runs.clear()
    responses.clear()


# ---------------------------------------------------------------------------------------------
# Autonomous Software Studio

def packb(v, out):
    """msgpack as ormsgpack packs it: smallest int forms, float64, UTF-8 strings, maps in insertion order."""
    if v is None:
        out.append(b"\xc0")
    elif v is True:
        out.append(b"\xc3")
    elif v is False:
        out.append(b"\xc2")
    elif isinstance(v, int):
        if 0 <= v <= 0x7F:
            out.append(bytes([v]))
        elif -32 <= v < 0:
            out.append(struct.pack("b", v))
        elif 0 <= v <= 0xFF:
            out.append(b"\xcc" + bytes([v]))
        elif 0 <= v <= 0xFFFF:
            out.append(b"\xcd" + struct.pack(">H", v))
        elif 0 <= v <= 0xFFFFFFFF:
            out.append(b"\xce" + struct.pack(">I", v))
        elif v > 0:
            out.append(b"\xcf" + struct.pack(">Q", v))
        elif v >= -0x80:
            out.append(b"\xd0" + struct.pack(">b", v))
        elif v >= -0x8000:
            out.append(b"\xd1" + struct.pack(">h", v))
        elif v >= -0x80000000:
            out.append(b"\xd2" + struct.pack(">i", v))
        else:
            out.append(b"\xd3" + struct.pack(">q", v))
    elif isinstance(v, float):
        out.append(b"\xcb" + struct.pack(">d", v))
    elif isinstance(v, str):
        b = v.encode("utf-8")
        n = len(b)
        out.append(bytes([0xA0 | n]) if n <= 31 else b"\xd9" + bytes([n]) if n <= 0xFF else b"\xda" + struct.pack(">H", n) if n <= 0xFFFF else b"\xdb" + struct.pack(">I", n))
        out.append(b)
    elif isinstance(v, (list, tuple)):
        n = len(v)
        out.append(bytes([0x90 | n]) if n <= 15 else b"\xdc" + struct.pack(">H", n) if n <= 0xFFFF else b"\xdd" + struct.pack(">I", n))
        for x in v:
            packb(x, out)
    elif isinstance(v, dict):
        n = len(v)
        out.append(bytes([0x80 | n]) if n <= 15 else b"\xde" + struct.pack(">H", n) if n <= 0xFFFF else b"\xdf" + struct.pack(">I", n))
        for k, x in v.items():
            packb(k, out)
            packb(x, out)
    else:
        raise TypeError(type(v))
    return out


def msgpack(v):
    return b"".join(packb(v, []))


STATE_KEYS = ["user_mission", "path_prd", "path_tech_spec", "path_scaffold_script", "path_bug_report", "current_phase", "qa_passed",
              "iteration_count", "max_iterations", "architectural_feedback", "prd_feedback", "session_id", "timestamp", "project_name",
              "work_dir", "execution_log", "decision", "reject_phase", "files_created", "errors"]
LOCAL = timezone(timedelta(hours=-8))


def uuid6(t, clock_seq, node):
    ticks = int((t - datetime(1582, 10, 15, tzinfo=timezone.utc)).total_seconds() * 10_000_000)
    h = "%012x" % (ticks >> 12)
    return "%s-%s-6%03x-%04x-%012x" % (h[:8], h[8:12], ticks & 0xFFF, 0x8000 | (clock_seq & 0x3FFF), node)


def studio(folder, schema, steps):
    rng = random.Random(steps + 2)
    os.makedirs(folder, exist_ok=True)
    for f in ("orchestrator.db", "checkpoints.db"):
        if os.path.exists(os.path.join(folder, f)):
            os.remove(os.path.join(folder, f))
    orch = sqlite3.connect(os.path.join(folder, "orchestrator.db"))
    orch.executescript(schema["orchestrator"])
    cpdb = sqlite3.connect(os.path.join(folder, "checkpoints.db"))
    cpdb.executescript(schema["fallback"])
    t = START
    made = 0
    sessions = []
    cps = []
    writes = []
    while made < steps:
        sid = uuid4(rng)
        project = "%s-%d" % (rng.choice(["todo-cli", "csv-report", "weather-api", "markdown-lint"]), len(sessions) + 1)
        mission = "Build %s: %s" % (project, prose(rng, rng.randrange(60, 200)))
        work_dir = "projects/%s" % sid
        local = lambda x: x.astimezone(LOCAL).replace(tzinfo=None).isoformat()
        state = {"user_mission": mission, "path_prd": None, "path_tech_spec": None, "path_scaffold_script": None, "path_bug_report": None,
                 "current_phase": "pm", "qa_passed": False, "iteration_count": 0, "max_iterations": 5, "architectural_feedback": [],
                 "prd_feedback": [], "session_id": sid, "timestamp": local(t), "project_name": project, "work_dir": work_dir,
                 "execution_log": [], "decision": None, "reject_phase": None, "files_created": [], "errors": []}
        created = local(t)
        values = {}
        versions = {}
        seen = {"__input__": {}}
        ctx = {"step": -2, "parent": None, "t": t}

        def bump(channels):
            nxt = max([0] + list(versions.values())) + 1
            for c in channels:
                versions[c] = nxt

        def checkpoint(source, updated):
            ctx["step"] += 1
            ctx["t"] += timedelta(seconds=rng.randrange(60, 300) if source == "loop" else 1, microseconds=rng.randrange(1, 999999))
            cid = uuid6(ctx["t"], ctx["step"], rng.getrandbits(48))
            blob = msgpack({"v": 4, "ts": ctx["t"].isoformat(), "id": cid, "channel_values": dict(values),
                            "channel_versions": dict(versions), "versions_seen": {k: dict(v) for k, v in seen.items()},
                            "updated_channels": sorted(updated)})
            meta = msgpack({"source": source, "step": ctx["step"], "parents": {}})
            cps.append((sid, "", cid, "msgpack", blob, "msgpack", meta, ctx["parent"], local(ctx["t"] + timedelta(milliseconds=3))))
            ctx["parent"] = cid

        def task(node, result, nxt):
            task_id = uuid4(rng)
            chans = [(k, result.get(k)) for k in STATE_KEYS] + ([("branch:to:%s" % nxt, None)] if nxt else [])
            for i, (c, v) in enumerate(chans):
                writes.append((sid, "", ctx["parent"], task_id, i, c, "msgpack", msgpack(v), "~__pregel_pull, %s" % node))
            trigger = "__start__" if node == "__start__" else "branch:to:%s" % node
            seen[node] = dict(seen.get(node, {}), **{trigger: versions.get(trigger, 0)})
            values.pop(trigger, None)
            for c, v in chans:
                values[c] = v
            bump([c for c, _ in chans])
            checkpoint("loop", [c for c, _ in chans])

        values["__start__"] = dict(state)
        bump(["__start__"])
        checkpoint("input", ["__start__"])
        task("__start__", state, "pm")
        prd = work_dir + "/docs/PRD.md"
        state = dict(state, path_prd=prd, files_created=[prd], current_phase="arch", timestamp=local(ctx["t"]))
        task("pm", state, "architect")
        spec, scaffold = work_dir + "/docs/TECH_SPEC.md", work_dir + "/docs/scaffold.sh"
        state = dict(state, path_tech_spec=spec, path_scaffold_script=scaffold, files_created=[prd, spec, scaffold], current_phase="human_gate", timestamp=local(ctx["t"]))
        task("architect", state, "human_gate")
        task("human_gate", state, "human_gate")
        values.pop("branch:to:human_gate", None)
        values.update({"decision": "APPROVE", "reject_phase": None, "branch:to:engineer": None})
        bump(["decision", "reject_phase", "branch:to:engineer"])
        checkpoint("update", ["branch:to:engineer", "decision", "reject_phase"])
        state = dict(state, decision="APPROVE")
        rounds = rng.randrange(1, 11)
        for r in range(rounds):
            if made + ctx["step"] + 4 > steps:
                break
            files = state["files_created"] + ["%s/src/module_%d.py" % (work_dir, r)]
            state = dict(state, files_created=files, current_phase="qa", timestamp=local(ctx["t"]))
            task("engineer", state, "qa")
            passed = r == rounds - 1
            report = work_dir + "/reports/BUG_REPORT.md"
            state = dict(state, qa_passed=passed, path_bug_report=report, current_phase="complete" if passed else "qa",
                         files_created=files + ([work_dir + "/tests/acceptance/test_acceptance_criteria.py"] if r == 0 else []), timestamp=local(ctx["t"]))
            task("qa", state, None if passed else "engineer")
        made += ctx["step"] + 2
        phase = state["current_phase"]
        status = "completed" if phase == "complete" else "running"
        sessions.append((sid, mission, project, status, phase, created, local(ctx["t"]), 0, 1 if state["qa_passed"] else 0, work_dir,
                         json.dumps(state, indent=2, default=str)))
        t = ctx["t"] + timedelta(minutes=rng.randrange(5, 90))
        if len(cps) > 5000:
            flush_studio(orch, cpdb, sessions, cps, writes)
    flush_studio(orch, cpdb, sessions, cps, writes)
    orch.commit()
    cpdb.commit()
    orch.close()
    cpdb.close()


def flush_studio(orch, cpdb, sessions, cps, writes):
    orch.executemany("INSERT OR REPLACE INTO sessions (session_id, user_mission, project_name, status, current_phase, created_at, updated_at,"
                     " iteration_count, qa_passed, work_dir, state_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)
    cpdb.executemany("INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint_type, checkpoint_blob,"
                     " metadata_type, metadata_blob, parent_checkpoint_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cps)
    cpdb.executemany("INSERT OR REPLACE INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, write_idx, channel, value_type,"
                     " value_blob, task_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", writes)
    sessions.clear()
    cps.clear()
    writes.clear()


def main():
    system, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    schema = json.load(sys.stdin)
    if system == "studio":
        studio(out, schema, steps)
        return
    if os.path.exists(out):
        os.remove(out)
    db = sqlite3.connect(out)
    if system == "constellation":
        constellation(db, schema, steps, int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    elif system == "llmo":
        llmo(db, schema, steps)
    else:
        raise SystemExit("unknown system %s" % system)
    db.close()


if __name__ == "__main__":
    main()
