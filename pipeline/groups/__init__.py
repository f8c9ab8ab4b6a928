"""Groups: cluster tickets into icebergs, split emerging sub-problems, keep ids across runs."""
