"""The durable background jobs: the queue worker (:mod:`~aimtrack.jobs.worker`), what every
job needs (:mod:`~aimtrack.jobs.services`) and one module per job kind, listed in
:mod:`~aimtrack.jobs.registry`. A job's state lives in the ``jobs`` table; a timer only
triggers the worker."""
