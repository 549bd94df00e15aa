"""The only file that changes in the migration: browsers come from chromeguard, isolated and
cleaned up, with no lock, no retries and no sleep() here."""

import chromeguard


def get_browser() -> chromeguard.Browser:
    """A fresh headless browser for one job."""
    return chromeguard.create_browser()
