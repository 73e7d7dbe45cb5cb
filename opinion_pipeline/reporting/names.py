"""Names shared by every dataset's assets and checks: groups, owners, common check names."""

INGEST = "ingest"
ANALYTICS = "analytics"
MAINTENANCE = "maintenance"

OWNERS = ["team:data-platform"]

PAYLOAD_CHECK = "payload_valid"
