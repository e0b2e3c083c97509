"""Reading and writing the repository's files: mapping files (YAML with positions, validation,
the canonical form), statusync.yaml, the state file and its journal, saved plans, the state
lock and atomic writes.

It may import statusync.core, statusync.errors, statusync.text, statusync.environment, ruamel,
pydantic and the disk; never httpx, click or the API client (a plan runs offline). It reads URLs'
rules from statusync.sendcloud.urls and the key variables from statusync.sendcloud.credentials,
which import neither.
"""

# The settings file's name, here so that the mapping scan can name it without importing the
# settings (which import the scan).
SETTINGS_FILE = "statusync.yaml"

# The status catalog's name, beside the state: here so that the settings can keep the state off
# it without importing the catalog's reader.
CATALOG_NAME = "statuses.json"
