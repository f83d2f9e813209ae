#!/bin/sh
# Start a Celery worker once PostgreSQL and Redis answer (Dockerfile.railway-worker).
#
# WORKER_CONCURRENCY   pool processes (default 2)
# WAIT_FOR_SERVICES_SECONDS  how long to wait for the database and Redis (default 60)
#
# Every worker also runs maintenance (sweeper, reapers, lost-message republisher) on a
# timer, one worker per interval under a lease: there is no beat service to deploy.
set -eu

python -m scripts.wait_for_services --timeout "${WAIT_FOR_SERVICES_SECONDS:-60}"

# SIGTERM becomes Celery's soft shutdown: running chunks get WORKER_SOFT_SHUTDOWN_SECONDS,
# then go back to the queue (README, "What survives what"); an idle worker stops at once.
export REMAP_SIGTERM=SIGQUIT

# exec: Celery becomes PID 1 and receives the platform's SIGTERM itself.
exec celery -A celery_worker.celery worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}"
