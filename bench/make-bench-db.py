"""Writes a LaForge step database of N realistic steps with the real SQLite engine.

usage: make-bench-db.py <path> <steps>
Rows look like what LaForge records: 40-hex commits, a JSON agent configuration with a
system prompt of a few hundred characters, tool lists and metadata, token usage JSON,
RFC 3339 times, parents, some failures and rolled-back steps.
"""
import json
import os
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "laforge-schema.sql")

PROMPT = (
    "You are LaForge's implementation agent. Work in small, reviewable steps. Read the task, "
    "inspect the repository, make the smallest change that satisfies the acceptance criteria, "
    "run the project's tests, and commit with a message that explains why. Never rewrite "
    "history, never delete files you did not create, and stop to ask when a requirement is "
    "ambiguous. Keep the build green and leave the working tree clean at the end of the step."
)
MODELS = ["claude-3.5-sonnet", "claude-3-opus", "gpt-4o", "gemini-1.5-pro"]
TOOLS = ["bash", "read", "write", "edit", "grep", "glob", "test"]


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    if os.path.exists(path):
        os.remove(path)
    rng = random.Random(count)
    db = sqlite3.connect(path)
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        db.executescript(f.read())
    db.executemany(
        "INSERT INTO steps (active, parent_step_id, commit_sha_before, commit_sha_after,"
        " agent_config_json, start_time, end_time, duration_ms, token_usage_json, exit_code,"
        " project_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows(rng, count),
    )
    db.commit()
    db.close()


def rows(rng, count):
    """The rows one at a time, so a million steps do not sit in memory at once."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sha = "%040x" % rng.getrandbits(160)
    for i in range(1, count + 1):
        before = sha
        sha = "%040x" % rng.getrandbits(160)
        t0 = start + timedelta(minutes=7 * i)
        duration = rng.randint(5_000, 900_000)
        prompt_tokens = rng.randint(1_000, 60_000)
        completion = rng.randint(100, 8_000)
        config = {
            "model": rng.choice(MODELS),
            "max_tokens": 4000,
            "temperature": 0.7,
            "system_prompt": PROMPT,
            "tools": rng.sample(TOOLS, 4),
            "metadata": {"project_type": "go", "agent_version": "1.%d.0" % (i % 7)},
        }
        tokens = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "cost": round((prompt_tokens * 3 + completion * 15) / 1_000_000, 6),
        }
        yield (
            0 if i % 50 == 0 else 1,
            i - 1 if i > 1 else None,
            before,
            sha,
            json.dumps(config),
            t0.isoformat().replace("+00:00", "Z"),
            (t0 + timedelta(milliseconds=duration)).isoformat().replace("+00:00", "Z"),
            duration,
            json.dumps(tokens),
            1 if i % 17 == 0 else 0,
            "bench-project",
            t0.strftime("%Y-%m-%d %H:%M:%S"),
        )


if __name__ == "__main__":
    main()
