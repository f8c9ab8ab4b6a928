"""Benchmarks and the seeded generators they (and the bundled sample data) are built from."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    """``../shared/data`` beside the checkout (or beside a worktree's parent folder); the
    benchmarks say clearly when it is absent."""
    for root in (REPO.parent, REPO.parent.parent):
        if (root / "shared" / "data" / "banking77").is_dir():
            return root / "shared" / "data"
    return REPO.parent / "shared" / "data"
