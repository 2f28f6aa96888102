# Sourced by dev/services.sh, dev/demo.sh and dev/test.sh: the one place where the documented
# port variables are read, so every service and every configuration agree on them.
PG_PORT=${STATREQUEST_PG_PORT:-5432}
REDIS_PORT=${STATREQUEST_REDIS_PORT:-6379}
SOLR_PORT=${STATREQUEST_SOLR_PORT:-8983}
DEMO_PORT=${STATREQUEST_DEMO_PORT:-5000}
SMTP_PORT=${STATREQUEST_SMTP_PORT:-8025}  # the demo's SMTP server (Mailpit)
MAILPIT_PORT=${STATREQUEST_MAILPIT_PORT:-8026}  # Mailpit's web inbox and API (the demo's mail)
PKI_PORT=${STATREQUEST_PKI_PORT:-9010}  # the demo's test PKI service (TSA, OCSP, CRL)

# The test run points CKAN at the same services through CKAN's own environment overrides
# (CKAN_SQLALCHEMY_URL, CKAN_SOLR_URL, CKAN_REDIS_URL win over test.ini), so test.ini keeps
# the default ports and a machine with other ports needs no edited copy of it.
# STATREQUEST_TEST_SET=2 points a second checkout at its own database, Solr core and Redis
# database (ckan_test2, db 2) and storage folder, so two suites can run at once without touching each other's data.
export_test_urls() {
  local set=${STATREQUEST_TEST_SET:-1} name=ckan_test
  [ "$set" = 1 ] || name="ckan_test$set"
  export CKAN_SQLALCHEMY_URL="postgresql://ckan:ckan@127.0.0.1:$PG_PORT/$name"
  export CKAN_SOLR_URL="http://127.0.0.1:$SOLR_PORT/solr/$name"
  export CKAN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/$set"
  if [ "$set" != 1 ]; then  # its own file storage too (test.ini's is .run/test-storage)
    export CKAN_STORAGE_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run/test-storage$set"
  fi
}
