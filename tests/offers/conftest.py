"""The offers' tests stand on the item changes' paid order of two hoodies."""

from tests.edits.conftest import ordered  # noqa: F401
