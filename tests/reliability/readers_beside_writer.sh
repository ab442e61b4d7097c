#!/usr/bin/env bash
# Soak: `verify` in a loop, read-only, beside an `import` of 200,000 events
# (50,000 cases) into the same ledger, for ROUNDS imports. Every verify
# must pass: the ledger is whole, and so must a reader's view of it be
# (docs/storage.md). Before the reader's open was made again on a moved
# MANIFEST and tables were checked file by file, about 1 verify in 60-90
# failed.
#
#   readers_beside_writer.sh CASELEDGER_BINARY [ROUNDS]   (default 3)
set -u
bin="$1"
rounds="${2:-3}"
work="$(mktemp -d)"
trap 'kill "$importer" 2>/dev/null; rm -rf "$work"' EXIT
importer=""

awk 'BEGIN {
  for (c = 0; c < 50000; c++) {
    id = sprintf("S-%06d", c)
    printf "{\"case_id\": \"%s\", \"occurred_at\": \"2020-01-01T00:00:00Z\", \"actor\": {\"kind\": \"OFFICER\", \"id\": \"o1\"}, \"source\": \"soak\", \"case_opened\": {\"program\": \"SP\", \"office_id\": \"VO-1\", \"office_mailbox\": \"o@office.example\", \"applicant_country\": \"PH\", \"language\": \"en\"}}\n", id
    for (i = 0; i < 3; i++)
      printf "{\"case_id\": \"%s\", \"occurred_at\": \"2020-01-0%dT00:00:00Z\", \"actor\": {\"kind\": \"OFFICER\", \"id\": \"o1\"}, \"source\": \"soak\", \"email_consent_recorded\": {\"party\": \"APPLICANT\", \"address\": \"a%d@mail.example\", \"basis\": \"APPLICATION_FORM\", \"evidence_ref\": \"form\"}}\n", id, i + 2, i
  }
}' > "$work/events.jsonl"

runs=0
failed=0
for round in $(seq "$rounds"); do
  rm -rf "$work/db"
  "$bin" init --db "$work/db" > /dev/null || exit 1
  "$bin" import --db "$work/db" "$work/events.jsonl" > "$work/import.log" 2>&1 &
  importer=$!
  while kill -0 "$importer" 2> /dev/null; do
    if ! "$bin" verify --db "$work/db" > "$work/out" 2> "$work/err"; then
      failed=$((failed + 1))
      echo "round $round: verify failed beside the import:"
      cat "$work/out" "$work/err"
    fi
    runs=$((runs + 1))
  done
  if ! wait "$importer"; then
    echo "round $round: the import failed:"
    cat "$work/import.log"
    exit 1
  fi
done
echo "$runs verifies beside $rounds imports, $failed failed"
[[ "$failed" -eq 0 ]]
