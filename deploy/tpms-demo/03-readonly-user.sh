# Creates the app's read-only SQL user for the demo TPMS.
# Sourced (not executed) by the mariadb image's entrypoint on first start, which provides
# docker_process_sql; keep this file non-executable.
#
# The user comes from TPMS_READONLY_USER / TPMS_READONLY_PASSWORD, not MYSQL_USER /
# MYSQL_PASSWORD: the image would treat those as its own and grant them every privilege.

if [[ ! "${TPMS_READONLY_USER:-}" =~ ^[A-Za-z0-9_]{1,32}$ ]]; then
  echo "tpms-demo: TPMS_READONLY_USER must be 1-32 letters, digits or underscores (set MYSQL_USER in .env)" >&2
  exit 1
fi
if [ -z "${TPMS_READONLY_PASSWORD:-}" ]; then
  echo "tpms-demo: TPMS_READONLY_PASSWORD is empty (set MYSQL_PASSWORD in .env)" >&2
  exit 1
fi

tpms_password="${TPMS_READONLY_PASSWORD//\\/\\\\}"
tpms_password="${tpms_password//\'/\'\'}"
docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS '${TPMS_READONLY_USER}'@'%' IDENTIFIED BY '${tpms_password}';
GRANT SELECT ON \`tpms\`.* TO '${TPMS_READONLY_USER}'@'%';
EOSQL
unset tpms_password
