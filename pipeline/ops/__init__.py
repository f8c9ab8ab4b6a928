"""Ops: what operators see around runs — changes and alerts, history, dry runs, logs, text summaries."""
