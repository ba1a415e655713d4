"""The simulated world: actors as real HTTP services, the wire, crypto and the trace.

Never imports Qt: the CLI, the benchmarks and the tests run it with no display.
"""
