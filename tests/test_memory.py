"""``pipeline.ops.memory``: a block's peak resident memory."""

import time

import numpy as np

from pipeline.ops.memory import current_rss_mb, high_water_mb, peak_rss


def test_a_block_that_allocates_reports_a_peak_that_covers_it():
    record = {}
    before = current_rss_mb()
    with peak_rss(record):
        block = np.ones(64 * 1024 * 1024 // 8)       # 64 MiB, touched
        time.sleep(0.1)      # held across samples, even when an earlier peak was higher
        del block
    assert record["peak_rss_mb"] >= before + 60
    assert record["peak_rss_mb"] <= high_water_mb() + 0.1


def test_a_quiet_block_after_a_big_one_reports_its_own_lower_peak():
    with peak_rss({}):
        block = np.ones(96 * 1024 * 1024 // 8)
        del block
    quiet = {}
    with peak_rss(quiet):
        sum(range(1000))
    assert 0 < quiet["peak_rss_mb"] < high_water_mb() - 60


def test_the_peak_is_recorded_even_when_the_block_fails():
    record = {}
    try:
        with peak_rss(record):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert record["peak_rss_mb"] > 0
