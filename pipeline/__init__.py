"""Iceberg: find the recurring problems hiding beneath one-off support tickets.

The Python API, for notebooks and scripts::

    from pipeline.config import load_config
    from pipeline.run import run
    from pipeline.store import load_run

    result = run("tickets.csv", "out", load_config("iceberg.toml"))
    icebergs = load_run("out").icebergs

Every stage is a function of its own module (``pipeline.sources.ingest``, ``pipeline.text.prepare``,
``pipeline.embed``, ``pipeline.groups.cluster``, ``pipeline.groups.identity``, ``pipeline.analysis.profile``);
``pipeline.run`` only sequences them.
"""
