#!/bin/sh
# Start a Celery worker once PostgreSQL and Redis answer (Dockerfile.railway-worker).
#
# WORKER_CONCURRENCY   pool processes (default 2)
# WORKER_EMBED_BEAT=1  also run the maintenance beat in this worker; only for a single
#                      worker replica, else run one separate `celery beat` service
# WAIT_FOR_SERVICES_SECONDS  how long to wait for the database and Redis (default 60)
set -eu

python -m scripts.wait_for_services --timeout "${WAIT_FOR_SERVICES_SECONDS:-60}"

# SIGTERM becomes Celery's soft shutdown: running chunks get WORKER_SOFT_SHUTDOWN_SECONDS,
# then go back to the queue (README, "What survives what").
export REMAP_SIGTERM=SIGQUIT

set -- celery -A celery_worker.celery worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}"
if [ "${WORKER_EMBED_BEAT:-0}" = "1" ]; then
    set -- "$@" --beat --schedule "${INSTANCE_DIR:-/tmp}/celerybeat-schedule"
fi
# exec: Celery becomes PID 1 and receives the platform's SIGTERM itself.
exec "$@"
