"""The RQ worker classes of `flask --app wsgi worker`.

The default worker forks a work horse per job (RQ's ``Worker``): right for long jobs (statements,
exports), whose memory and connections go away with the horse. Batched short jobs
(``queue.enqueue_batched``) have a queue of their own and ``ShortJobWorker``, which runs them in its
own process without forking — a fork costs more than such a job. Each job gets a fresh application
context (its own ``g`` and database session), and its session is removed afterwards, so nothing one
job left behind (an open transaction, objects in the identity map) reaches the next; the connection
pool is the process's own and is kept (``queue.run_job`` disposes it only in a forked horse).
"""
from flask import current_app
from rq import SimpleWorker, Worker

from portal.extensions import db
from portal.jobs.queue import short_queue_name


class ShortJobWorker(SimpleWorker):
    """A non-forking worker that runs each job in an application context of its own."""

    def execute_job(self, job, queue):
        app = current_app._get_current_object()
        with app.app_context():
            try:
                super().execute_job(job, queue)
            finally:
                db.session.remove()


def queues_served(config, short):
    """The queues a worker takes jobs from, first first: the short queue alone for ``--short``;
    otherwise the short queue, then JOB_QUEUE, so a deployment with one worker still runs batches."""
    if short:
        return [short_queue_name(config)]
    return [short_queue_name(config), config["JOB_QUEUE"]]


def make_worker(config, connection, short=False):
    """The worker for ``flask --app wsgi worker [--short]``."""
    worker_class = ShortJobWorker if short else Worker
    return worker_class(queues_served(config, short), connection=connection)
