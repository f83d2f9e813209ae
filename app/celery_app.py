"""Celery wired to Flask: the official pattern, tasks run inside the app context."""

from __future__ import annotations

from celery import Celery, Task
from celery.signals import worker_process_init, worker_ready
from flask import Flask

from app.extensions import db
from app.jobs.queue import MAINTAIN_TASK


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from the Flask config and store it on the Flask app."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    @worker_process_init.connect(weak=False)
    def dispose_inherited_connections(**_: object) -> None:
        # A forked pool child must not reuse the parent's sockets: open its own.
        with app.app_context():
            db.engine.dispose(close=False)

    @worker_ready.connect(weak=False)
    def maintain_at_start(**_: object) -> None:
        # Uploads accepted while no worker or broker was up are enqueued right away.
        celery_app.send_task(MAINTAIN_TASK)

    return celery_app
