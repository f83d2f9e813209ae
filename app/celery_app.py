"""Celery wired to Flask: the official pattern, tasks run inside the app context."""

from __future__ import annotations

import os
import sys

from celery import Celery, Task
from celery.signals import worker_process_init, worker_ready, worker_shutdown, worker_shutting_down
from celery.worker import state as worker_state
from flask import Flask

from app.broker_fixes import keep_consuming_after_broker_outages
from app.extensions import db
from app.jobs.maintenance_schedule import MaintenanceTimer
from app.jobs.open_documents import pdf_sandbox


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from the Flask config and store it on the Flask app."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    keep_consuming_after_broker_outages()
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    @worker_process_init.connect(weak=False)
    def dispose_inherited_connections(**_: object) -> None:
        # A forked pool child must not reuse the parent's sockets: open its own.
        with app.app_context():
            db.engine.dispose(close=False)

    @worker_process_init.connect(weak=False)
    def start_pdf_sandbox(**_: object) -> None:
        # Each pool process reads PDFs in a helper of its own (app/pdf/sandbox.py); started
        # now, the first chunk does not wait for it.
        with app.app_context():
            pdf_sandbox().start()

    timers: list[MaintenanceTimer] = []
    consumers: list[object] = []

    @worker_ready.connect(weak=False)
    def start_maintenance(sender: object = None, **_: object) -> None:
        # Every worker looks; one runs each interval. The first look is at once, so
        # uploads accepted while no worker or broker was up are enqueued right away.
        holder = f"{getattr(sender, 'hostname', 'worker')} pid {os.getpid()}"
        timers.append(MaintenanceTimer(app, holder))
        timers[-1].start()
        consumers.append(sender)

    @worker_shutdown.connect(weak=False)
    def stop_maintenance(**_: object) -> None:
        for timer in timers:
            timer.stop()

    @worker_shutting_down.connect(weak=False)
    def exit_at_once_when_idle(**_: object) -> None:
        # With no task running (none left after a soft shutdown either), there is nothing
        # to finish; Celery's orderly stop would still take seconds (its loop, timer and
        # pool each wait), 6 s on the embedded broker. What the broker handed over and
        # nobody runs (a task stopped by the soft shutdown) goes back first, as Celery's
        # own close would do.
        task_consumer = getattr(consumers[-1], "task_consumer", None) if consumers else None
        if worker_state.active_requests or worker_state.reserved_requests or task_consumer is None:
            return  # running chunks get their soft-shutdown grace
        task_consumer.channel.qos.restore_unacked_once()
        print("worker: idle, exiting now", file=sys.__stdout__, flush=True)
        sys.stderr.flush()
        os._exit(0)

    return celery_app
