#!/usr/bin/env python3
"""What SQLite itself costs per stored statement on this machine, without the LMS around it.

Appends rows shaped like the LRS's (a ~700-byte JSON text each) in write transactions of G rows,
WAL mode, synchronous=FULL (one fsync per transaction, as the LRS), and prints rows per second:

  none    the statement rows only (INTEGER PRIMARY KEY, no index): the floor
  one     plus one relation index keyed (key, seq) over 1,000 keys (one per learner)
  lrs     the LRS's own layout of migrations/sqlite/0002_xapi.sql (text keys), LMS-assigned
          time-ordered ids
  ints    the same indexes with integer keys and 16-byte ids (the interned layout)

Usage: python3 benches/scripts/sqlite_floor.py [G] [N]   (defaults 400 and 400,000)
Python's own cost (about 3-5 us a row) is included, so the figures are a lower bound on speed.
"""
import os, sqlite3, sys, tempfile, time, uuid, random

G = int(sys.argv[1]) if len(sys.argv) > 1 else 400
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
JSON = "x" * 700

SCHEMAS = {
    "none": "CREATE TABLE st (seq INTEGER PRIMARY KEY, json TEXT NOT NULL);",
    "one": """CREATE TABLE st (seq INTEGER PRIMARY KEY, json TEXT NOT NULL);
        CREATE TABLE ag (k INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;""",
    "lrs": """CREATE TABLE st (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stored_ms INTEGER NOT NULL,
            verb_id TEXT NOT NULL, registration TEXT, voided INTEGER NOT NULL, client_key TEXT NOT NULL, json TEXT NOT NULL);
        CREATE INDEX st_verb ON st (verb_id, seq);
        CREATE INDEX st_reg ON st (registration, seq) WHERE registration IS NOT NULL;
        CREATE INDEX st_stored ON st (stored_ms);
        CREATE TABLE ag (k TEXT NOT NULL, seq INTEGER NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;
        CREATE TABLE ac (k TEXT NOT NULL, seq INTEGER NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;""",
    "ints": """CREATE TABLE st (seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, stored_ms INTEGER NOT NULL,
            verb_id INTEGER NOT NULL, registration INTEGER, voided INTEGER NOT NULL, client_key INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE INDEX st_verb ON st (verb_id, seq);
        CREATE INDEX st_reg ON st (registration, seq) WHERE registration IS NOT NULL;
        CREATE INDEX st_stored ON st (stored_ms);
        CREATE TABLE ag (k INTEGER NOT NULL, seq INTEGER NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;
        CREATE TABLE ac (k INTEGER NOT NULL, seq INTEGER NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;""",
}


def rows(layout, n):
    """The rows of statement n: 1,000 learners, 10 verbs, 500 activities in 50 courses, 5,000
    registrations (the distribution of benches/xapi.rs)."""
    a, v, o, r, c = n % 1000, n % 10, n % 500, n % 5000, n % 50
    sid = "%08x-%04x-7000-8000-%012x" % (n >> 16, n & 0xFFFF, random.getrandbits(48))
    if layout == "none":
        return [(n, JSON)], [], []
    if layout == "one":
        return [(n, JSON)], [(a, n)], []
    if layout == "lrs":
        return ([(n, sid, n // 10, f"http://adlnet.gov/expapi/verbs/v{v}", "%08x-0000-4000-8000-000000000000" % r, 0, "key", JSON)],
                [(f"account::https://lms.example::p{a:06}", n, 0), ("account::https://lms.invalid/xapi/clients::key", n, 1)],
                [(f"https://lms.example/activities/a{o}", n, 0), (f"https://lms.example/courses/c{c}", n, 1)])
    return ([(n, uuid.UUID(sid).bytes, n // 10, v, r, 0, 1, JSON)],
            [(10_000 + a, n, 0), (5, n, 1)], [(20_000 + o, n, 0), (30_000 + c, n, 1)])


def run(layout):
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", ".")) as d:
        db = sqlite3.connect(os.path.join(d, "floor.sqlite"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "cache_size=-8192"):
            db.execute("PRAGMA " + pragma)
        db.executescript(SCHEMAS[layout])
        n, started = 0, time.time()
        while n < N:
            st, ag, ac = [], [], []
            for _ in range(G):
                n += 1
                s, g, a = rows(layout, n)
                st += s; ag += g; ac += a
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO st VALUES (%s)" % ",".join("?" * len(st[0])), st)
            if ag:
                db.executemany("INSERT INTO ag VALUES (%s)" % ",".join("?" * len(ag[0])), ag)
            if ac:
                db.executemany("INSERT INTO ac VALUES (%s)" % ",".join("?" * len(ac[0])), ac)
            db.execute("COMMIT")
        print(f"{layout:5} {G:5} rows a transaction: {N / (time.time() - started):9,.0f} rows/s")


for layout in ("none", "one", "lrs", "ints"):
    run(layout)
