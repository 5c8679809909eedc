"""gunicorn settings for `onewindow serve`: Prometheus multiprocess mode (each worker writes its own counters under
PROMETHEUS_MULTIPROC_DIR; a dead worker's live gauges are dropped)."""


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
