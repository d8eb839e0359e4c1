"""``neurosim bench NAME``: benchmarks that regenerate docs/benchmarks.md.

Each entry maps a benchmark name to the module implementing it. A module defines
``add_arguments(parser)`` and ``main(args) -> dict`` and records its results with
:func:`neurosim.bench._report.record_section`.
"""

BENCHES: dict[str, str] = {
    "throughput": "neurosim.bench._throughput",
    "suite": "neurosim.bench._suite",
    "qscore": "neurosim.bench._qscore",
    "neurosa": "neurosim.bench._neurosa",
    "sparse-coding": "neurosim.bench._sparse_coding",
    "maxcut": "neurosim.bench._maxcut",
    "mis": "neurosim.bench._mis",
    "precision": "neurosim.bench._precision",
    "latency": "neurosim.bench._latency",
    "neurobench": "neurosim.bench._neurobench",
    "bqp": "neurosim.bench._bqp",
    "neurosa-threshold": "neurosim.bench._neurosa_threshold",
    "chip": "neurosim.bench._chip",
}
