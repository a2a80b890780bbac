"""benchlib.py: what the Python benchmarks of test/bench share.

Connections go to the throwaway cluster of the checkout (bin/cluster): when
PGHOST is not set, the environment printed by `bin/cluster env` is used, so
the scripts run as they are or through test/bench/run.  The benchmarks work
in a database of their own (default trackly_bench), created on first use with
the extension installed, never in the `trackly` database of the tests.

The client is psycopg 3 (Debian's python3-psycopg): `cursor.execute` with
parameters binds them server-side (the extended protocol, values in the Bind
message), as PostgREST and other modern drivers do, so a request body never
goes through PostgreSQL's SQL lexer.  Every connection has
prepare_threshold=None: psycopg never turns a statement into a named
prepared statement: every statement with parameters goes as an unnamed
Parse/Bind/Execute, every time, and no way gains a cached plan the others
lack.  Statements without parameters (DDL, COPY) use the simple protocol.
"""

import os
import platform
import re
import shlex
import statistics
import subprocess
import threading
import time

try:
    import psycopg
except ImportError:
    raise SystemExit("psycopg 3 is missing: apt-get install python3-psycopg (test/bench/run installs it)") from None

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DB = "trackly_bench"
# psycopg prepares a statement after this many executions; None: never, for every way alike.
PREPARE_THRESHOLD = None


def cluster_environment():
    """Fills PGHOST, PGPORT and PGUSER from bin/cluster env when unset."""
    if os.environ.get("PGHOST"):
        return
    out = subprocess.run([os.path.join(ROOT, "bin", "cluster"), "env"],
                         check=True, capture_output=True, text=True).stdout
    for word in shlex.split(out.replace("export ", "", 1)):
        key, _, value = word.partition("=")
        if key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSFILE"):
            os.environ[key] = value


def connect(dbname, autocommit=True):
    """A connection to dbname of the cluster, in autocommit mode by default, that
    binds parameters server-side and never prepares statements."""
    cluster_environment()
    return psycopg.connect(dbname=dbname, application_name="trackly_bench", autocommit=autocommit,
                           prepare_threshold=PREPARE_THRESHOLD)


def ensure_database(dbname, fresh=False, extension="trackly_history"):
    """Creates dbname (again, when fresh) with the extension at its newest version."""
    admin = connect("postgres")
    with admin.cursor() as cur:
        if fresh:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % quote_ident(dbname))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE %s" % quote_ident(dbname))
    admin.close()
    conn = connect(dbname)
    with conn.cursor() as cur:
        cur.execute("SELECT default_version, installed_version FROM pg_available_extensions"
                    " WHERE name = %s", (extension,))
        row = cur.fetchone()
        if row is None:
            raise SystemExit("the extension %s is not installed in this PostgreSQL; run bin/test or"
                             " make install first (test/bench/run import --baseline REV for a baseline)"
                             % extension)
        if row[1] is None:
            cur.execute("CREATE EXTENSION %s" % quote_ident(extension))
        elif row[1] != row[0]:
            cur.execute("ALTER EXTENSION %s UPDATE" % quote_ident(extension))
        cur.execute("CREATE SCHEMA IF NOT EXISTS bench")
    return conn


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def median(values):
    return statistics.median(values) if values else float("nan")


def timed(fn, *args, **kwargs):
    """Runs fn and returns (seconds elapsed, what fn returned)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts(conn):
    """Markdown lines describing the machine and the server's key settings."""
    with conn.cursor() as cur:
        cur.execute("SELECT version()")
        version = cur.fetchone()[0]
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'trackly_history'")
        row = cur.fetchone()
        extversion = row[0] if row else "not installed"
        cur.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name IN"
                    " ('shared_buffers', 'fsync', 'synchronous_commit', 'full_page_writes',"
                    "  'wal_level', 'max_wal_size', 'work_mem', 'jit',"
                    "  'max_parallel_workers_per_gather', 'huge_pages') ORDER BY name")
        settings = cur.fetchall()
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "unknown"
    lines = [
        "- nproc: %d; CPU: %s; kernel %s; load average at the end: %s"
        % (os.cpu_count() or 0, cpu_model(), platform.release(), load),
        "- %s" % version,
        "- trackly_history %s (library %s)" % (extversion, library_fingerprint()),
        "- settings: " + ", ".join("%s=%s" % (name, value) for name, value in settings),
        "- client: Python %s, psycopg %s (%s implementation, libpq %s), parameters bound server-side,"
        " prepare_threshold=%s, over the Unix socket %s"
        % (platform.python_version(), psycopg.__version__, psycopg.pq.__impl__, libpq_version(),
           PREPARE_THRESHOLD, os.environ.get("PGHOST", "?")),
    ]
    return lines


def libpq_version():
    """The version of the libpq psycopg uses, e.g. 15.20."""
    v = psycopg.pq.version()
    return "%d.%d" % (v // 10000, v % 10000)


def library_fingerprint():
    """Modification time and size of the installed trackly_history.so."""
    try:
        libdir = subprocess.run(["pg_config", "--pkglibdir"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        libdir = "/usr/lib/postgresql/15/lib"
    path = os.path.join(libdir, "trackly_history.so")
    try:
        st = os.stat(path)
    except OSError:
        return "not found"
    return "%s, %d bytes, built %s" % (path, st.st_size,
                                       time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime)))


def proc_memory(pid):
    """The memory of a process in kB: VmRSS, RssAnon, RssShmem, Pss, Pss_Anon."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            m = re.match(r"(VmRSS|RssAnon|RssShmem):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                m = re.match(r"(Pss|Pss_Anon):\s+(\d+) kB", line)
                if m:
                    out[m.group(1)] = int(m.group(2))
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid):
    """User and system CPU seconds a process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_at_once(work):
    """Runs each (function, args) of work in a thread of its own, all released at
    once; returns the seconds until the last one ends.  A thread's exception
    stops the benchmark."""
    barrier = threading.Barrier(len(work) + 1)
    errors = []

    def client(fn, args):
        barrier.wait()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 -- raised below, in the caller's thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=w) for w in work]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("a client failed: %s" % errors[0])
    return time.perf_counter() - start


def markdown_table(header, rows, align=None):
    """A markdown table; align is a string of 'l'/'r', one per column."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)
