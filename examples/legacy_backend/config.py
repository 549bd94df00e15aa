"""Settings of the legacy backend (unchanged by the migration)."""

import os

BASE_URL = os.environ.get("LEGACY_BASE_URL", "http://127.0.0.1:8000")
SESSION_FILE = os.environ.get("LEGACY_SESSION_FILE", "session.json")
USERNAME = os.environ.get("LEGACY_USERNAME", "alice")
PASSWORD = os.environ.get("LEGACY_PASSWORD", "secret")
CHROME_BINARY = os.environ.get("LEGACY_CHROME_BINARY", "/usr/lib/chromium/chromium-headless-shell")
WAIT_SECONDS = float(os.environ.get("LEGACY_WAIT_SECONDS", "10"))
DOWNLOAD_EXTENSIONS = (".zip", ".apk", ".pdf", ".mp4", ".mp3")
