"""app/concurrency.py under gevent, as the web processes run it (each case in a gevent-patched subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support import ADMIN_DATABASE_URL, REPO_ROOT


def run_patched(code: str) -> str:
    """Run code in a fresh interpreter that gevent has patched, as gunicorn's worker does; its output."""
    program = "from gevent import monkey\nmonkey.patch_all()\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_cpu_bound_work_in_a_thread_leaves_the_event_loop_running():
    ticks = run_patched(
        """
        import gevent, time
        from werkzeug.security import generate_password_hash
        from app.concurrency import run_in_thread

        ticks = []
        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.01)
        ticker = gevent.spawn(tick)
        gevent.sleep(0.05)
        def four_hashes():  # about 0.1 s of scrypt each: 4 sign-ins' worth
            return [generate_password_hash("correct-horse-battery") for _ in range(4)]
        run_in_thread(four_hashes)
        ticker.kill()
        print(max(later - earlier for earlier, later in zip(ticks, ticks[1:])))
        """
    )
    assert float(ticks) < 0.15, ticks  # the loop came round while the hashes ran (inline: 0.35 s or more)


def test_a_postgres_connection_attempt_gives_up_after_its_connect_timeout():
    outcome = run_patched(
        f"""
        import socket, time
        import psycopg2
        from psycopg2.extensions import set_wait_callback
        from app.concurrency import wait_cooperatively

        set_wait_callback(wait_cooperatively)
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # takes connections, never answers: a server that hangs
        started = time.monotonic()
        try:
            psycopg2.connect(host="127.0.0.1", port=silent.getsockname()[1], user="x", connect_timeout=1)
        except psycopg2.OperationalError as error:
            print(round(time.monotonic() - started, 1), error)
        connection = psycopg2.connect({ADMIN_DATABASE_URL!r}, connect_timeout=1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 41 + 1")
            print(cursor.fetchone()[0])
        """
    )
    gave_up, answered = outcome.splitlines()
    assert float(gave_up.split()[0]) < 5, gave_up  # blocking libpq's 1 s, with slack; not TCP's minutes
    assert "DB_CONNECT_TIMEOUT" in gave_up
    assert answered == "42"
