#!/usr/bin/env bash
# Makes a small ledger with the caseledger binary, prints its key,
# checkpoints at several sizes, its entries and every inclusion and
# consistency proof between those sizes, and a bundle, then has note_tlog_check.go (Go's
# sumdb/note and tlog) check them all.
# Usage: go_interop_test.sh CASELEDGER GO SHARED_DIR GOCACHE
set -euo pipefail
caseledger=$1 go=$2 shared=$3
export GOCACHE=$4 GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS=
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/db out=$work/out
mkdir "$out"

cl() { "$caseledger" "$@" --db "$db"; }

# A name with the characters a C2SP key name may hold that a host name
# would not.
"$caseledger" init --db "$db" --name "example.org/ledger-é_1" > /dev/null
cl key > "$out/key.txt"
# The seed is the last 32 bytes of the PKCS#8 form of an Ed25519 key.
openssl pkey -in "$db/signing-key.pem" -outform DER | tail -c 32 > "$out/seed.bin"

sizes=()
checkpoint() {
  local n
  cl checkpoint > "$work/cp.txt"
  n=$(sed -n 2p "$work/cp.txt")
  mv "$work/cp.txt" "$out/cp-$n.txt"
  sizes+=("$n")
}
# Sizes 1, then one example case, then the other: a tree of one leaf,
# trees that are and are not powers of two.
head -n 1 "$shared/examples/bounce-handled.jsonl" | cl append - > /dev/null
checkpoint
tail -n +2 "$shared/examples/bounce-handled.jsonl" | cl append - > /dev/null
checkpoint
head -n 5 "$shared/examples/transfer-then-refusal.jsonl" | cl append - > /dev/null
checkpoint
tail -n +6 "$shared/examples/transfer-then-refusal.jsonl" | cl append - > /dev/null
checkpoint
cl read --format json > "$out/entries.jsonl"

for n in "${sizes[@]}"; do
  for ((p = 1; p <= n; p++)); do
    cl prove --position "$p" --size "$n" > "$out/incl-$p-$n.json"
  done
  for a in "${sizes[@]}"; do
    if ((a < n)); then
      cl prove --from-size "$a" --size "$n" > "$out/cons-$a-$n.json"
    fi
  done
done

# After the proofs: the export appends an event of its own.
cl export --case E2012-000417 --purpose investigation --out "$out/bundle.zip" > /dev/null

"$go" build -o "$work/note_tlog_check" "$here/note_tlog_check.go"
"$work/note_tlog_check" "$out"
