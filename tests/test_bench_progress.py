"""Benchmark progress lines carry an ETA (issue 13: 'bench shows an ETA')."""

import io

from neurosim.bench._report import Progress, _clock


def test_eta_is_the_mean_item_time_times_the_items_left():
    now = [0.0]
    out = io.StringIO()
    p = Progress(5, stream=out)
    p._time = lambda: now[0]
    p.t0 = 0.0
    p.tick("first")
    now[0] = 10.0  # the first item took 10 s
    p.tick("second")
    now[0] = 20.0
    p.tick("third")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/5] first · 0s elapsed"
    assert lines[1] == "[2/5] second · 10s elapsed, ETA ~40s"  # 4 items left (this one included) × 10 s
    assert lines[2] == "[3/5] third · 20s elapsed, ETA ~30s"


def test_clock_format():
    assert _clock(59) == "59s" and _clock(61) == "1m01s" and _clock(3725) == "1h02m"
