#!/usr/bin/env bash
# Soak of the network service: `caseledger serve` on a fresh ledger, driven
# for MINUTES by the load generator (several clients, singles and batches)
# while client-mode appenders and readers run beside it, and the load
# generator's subscriber mode follows the ledger with Subscribe streams and
# watches the health service. Every 10 s the server's resident memory, open
# file descriptors and threads are sampled and printed as a table. At the
# end: every subscriber must have received every entry, checked, up to the
# ledger's size; SIGTERM must stop the server with exit 0 and "stopped;
# ledger size N", and end every stream and the health Watch with UNAVAILABLE
# after NOT_SERVING; `verify` must pass, every append acknowledged to the
# client-mode writer must be in the ledger, serve must come up again on the
# same ledger, and the samples must stay inside bounds that a leak would
# cross (see "Bounds" below).
#
#   serve_soak.sh CASELEDGER_BINARY LOAD_GENERATOR_BINARY [MINUTES]  (default 10)
#
# Environment: SOAK_CLIENTS (load generator clients, default 8),
# SOAK_SUBSCRIBERS (Subscribe streams over every case, default 4: steady,
# reconnecting, slow, live; one more follows the writer's case),
# SOAK_KEEP=1 keeps the scratch folder (it holds GBs after 10 minutes).
#
# Client mode has no subscribe verb: the streams and the health checks are
# the load generator's (bench/load_generator.cc, "Subscriber mode", which
# lists what it checks). Only bash, awk, coreutils and /proc are used (no
# python).
set -u -o pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 CASELEDGER_BINARY LOAD_GENERATOR_BINARY [MINUTES]" >&2
  exit 2
fi
bin="$1"
loadgen="$2"
minutes="${3:-10}"
clients="${SOAK_CLIENTS:-8}"
subscribers="${SOAK_SUBSCRIBERS:-4}"
for f in "$bin" "$loadgen"; do
  [[ -x "$f" ]] || { echo "serve_soak: $f is not an executable" >&2; exit 2; }
done
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "serve_soak: MINUTES must be a whole number >= 1" >&2; exit 2; }
[[ "$subscribers" =~ ^[1-9][0-9]?$ ]] || { echo "serve_soak: SOAK_SUBSCRIBERS must be 1 to 99" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/serve-soak.XXXXXX")"
db="$work/db"
server=""        # pid of the running serve
loops=()         # pids of the background client loops
subscriber=""    # pid of the load generator in subscriber mode
cleanup() {
  touch "$work/stop"
  # The loops forward TERM to the client they are waiting for (see run_child).
  for p in "${loops[@]}"; do kill "$p" 2> /dev/null; done
  [[ -n "$subscriber" ]] && kill "$subscriber" 2> /dev/null
  [[ -n "$server" ]] && kill -KILL "$server" 2> /dev/null
  wait 2> /dev/null
  if [[ "${SOAK_KEEP:-0}" == 1 ]]; then
    echo "serve_soak: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "serve_soak: $*"; }
# A failure seen by a background loop: recorded in a file (loops are
# subshells) and printed, up to 20 of them; the run fails at the end.
failure() {
  echo "$(date -u +%H:%M:%S) $*" >> "$work/failures"
  if [[ "$(wc -l < "$work/failures")" -le 20 ]]; then echo "serve_soak: FAILURE: $*" >&2; fi
}
# A failure that ends the run at once.
die() {
  echo "serve_soak: FAILED: $*" >&2
  for f in serve.err load.err sub.err; do
    [[ -s "$work/$f" ]] && { echo "--- last lines of $f:" >&2; tail -n 20 "$work/$f" >&2; }
  done
  exit 1
}

# Runs a client in the background and waits for it, so that a TERM sent to
# the loop (cleanup) reaches the client too instead of orphaning it.
# `run_child cl ROLE ...` runs client mode (as cl below) as that child.
run_child() {
  if [[ "$1" == cl ]]; then
    set -- "$bin" --server "$addr" --token-file "$work/$2.token" "${@:3}"
  fi
  "$@" &
  local child=$!
  trap 'kill $child 2> /dev/null; exit 0' TERM
  wait "$child"
  local rc=$?
  trap - TERM
  return "$rc"
}

# ---- the ledger, its tokens, the server -----------------------------------

"$bin" init --db "$db" > /dev/null 2> "$work/init.err" || die "init: $(cat "$work/init.err")"
mkdir "$work/backups"
# One token per role the soak uses: `token` prints the token on line 1 (the
# client's token file) and the tokens-file line on line 2 (docs/service.md).
for role in appender reader exporter admin; do
  "$bin" token --role "$role" --name "soak-$role" > "$work/$role.t" || die "token --role $role"
  head -n 1 "$work/$role.t" > "$work/$role.token"
  sed -n 2p "$work/$role.t" >> "$work/tokens"
done

# Starts serve on a port the kernel picks (port 0) and waits for its one
# line on stdout, "listening on HOST:PORT" (never for a delay). Sets server
# and addr. $1 names its log files.
start_server() {
  local log="$1"
  "$bin" serve --db "$db" --tokens "$work/tokens" --listen 127.0.0.1:0 \
    --backup-dir "$work/backups" > "$work/$log.out" 2> "$work/$log.err" &
  server=$!
  addr=""
  for _ in $(seq 300); do
    addr="$(awk '/^listening on /{print $3; exit}' "$work/$log.out")"
    [[ -n "$addr" ]] && return 0
    kill -0 "$server" 2> /dev/null || die "serve exited before listening: $(cat "$work/$log.err")"
    sleep 0.1
  done
  die "serve did not print 'listening on' within 30 s"
}

# SIGTERM the server; it must exit 0 within its grace (30 s) plus margin
# and say "stopped; ledger size N". Sets stopped_n to N. (Not called in
# $(...): only this shell can wait for the server.)
stop_server() {
  local log="$1" t0=$SECONDS
  kill -TERM "$server"
  for _ in $(seq 600); do kill -0 "$server" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$server" 2> /dev/null; then
    kill -KILL "$server"
    die "serve still running 60 s after SIGTERM (hang on stop)"
  fi
  wait "$server"
  local rc=$?
  server=""
  [[ "$rc" -eq 0 ]] || die "serve exited $rc after SIGTERM: $(tail -n 5 "$work/$log.err")"
  local n
  n="$(sed -n 's/^caseledger serve: stopped; ledger size \([0-9][0-9]*\)$/\1/p' "$work/$log.err")"
  [[ -n "$n" ]] || die "serve's stderr lacks 'stopped; ledger size N': $(tail -n 5 "$work/$log.err")"
  say "serve stopped in $((SECONDS - t0)) s, exit 0, ledger size $n"
  stopped_n=$n
}

cl() {  # cl ROLE VERB ARGS...: client mode with that role's token
  local role="$1"
  shift
  "$bin" --server "$addr" --token-file "$work/$role.token" "$@"
}

# The ledger's size, through the server (a consistency proof to the current
# size signs nothing; 0 while the ledger holds fewer than 1 entry).
ledger_size() {
  cl reader prove --from-size 1 2> /dev/null | sed -n 's/.*"new_size": \([0-9]*\).*/\1/p' | grep . || echo 0
}

start_server serve
say "serve listening on $addr (pid $server); $minutes min, $clients load clients; scratch $work"

# ---- events ---------------------------------------------------------------

actor='"actor": {"kind": "OFFICER", "id": "soak"}, "source": "soak"'
opened() {  # opened CASE [EVENT_ID]
  printf '{%s"case_id": "%s", "occurred_at": "2011-01-10T10:00:00Z", %s, "case_opened": {"program": "SP", "office_id": "VO-DELHI", "office_mailbox": "visa-office@office.example", "applicant_country": "PH", "language": "en"}}\n' \
    "${2:+\"event_id\": \"$2\", }" "$1" "$actor"
}
note() {  # note CASE N [EVENT_ID]
  printf '{%s"case_id": "%s", "occurred_at": "2011-01-11T10:00:00Z", %s, "officer_note_added": {"text": "Soak note %d: called the applicant; no answer."}}\n' \
    "${3:+\"event_id\": \"$3\", }" "$1" "$actor" "$2"
}

# A small case to export once a minute (a bundle of a big case takes
# minutes and GBs, docs/cli.md).
{ opened SOAK-EXPORT; note SOAK-EXPORT 1; note SOAK-EXPORT 2; } > "$work/export-case.jsonl"
cl appender append "$work/export-case.jsonl" > /dev/null 2> "$work/x.err" || die "append of the export case: $(cat "$work/x.err")"
"$bin" key --db "$db" > "$work/pubkey" 2> "$work/x.err" || die "key: $(cat "$work/x.err")"

# ---- the subscribers --------------------------------------------------------

# The load generator in subscriber mode (reader token): $subscribers streams
# over every case and one over the writer's case, a health Watch and a health
# Check every 2 s, each message checked as it comes; it runs until the
# server stops. Once every client has finished, "SIZE CASE_EVENTS" goes to
# sub.target and it must print "subscribers: all at size SIZE" (see "stop,
# verify, restart"). It gives up after the soak's length plus 15 minutes.
wcase=SOAK-WRITER
"$loadgen" --server "$addr" --token-file "$work/reader.token" --subscribers "$subscribers" \
  --subscribe-case "$wcase" --pubkey "$work/pubkey" --target-file "$work/sub.target" \
  --seconds $((minutes * 60 + 900)) > "$work/sub.out" 2> "$work/sub.err" &
subscriber=$!

# ---- the background loops -------------------------------------------------

start=$SECONDS
end=$((start + minutes * 60))
# Each load generator run has three phases (1, 10 and 100 events per Append)
# of 20 s, with fresh connections each phase; the last run's phases are
# shortened to end with the soak.
load_loop() {
  local phase
  while [[ ! -e "$work/stop" ]]; do
    phase=$(((end - SECONDS) / 3))
    ((phase > 20)) && phase=20
    ((phase >= 2)) || break
    run_child "$loadgen" --server "$addr" --token-file "$work/appender.token" \
      --clients "$clients" --seconds "$phase" --batch 1,10,100 \
      >> "$work/load.out" 2>> "$work/load.err"
    local rc=$?
    [[ "$rc" -eq 0 ]] || failure "load generator exited $rc"
  done
}

# One case appended through client mode, one event per call with an event id
# of our own and --expected-version: each acknowledged id is kept, to be
# found in the ledger at the end; every 20th is read back at once (an
# acknowledged append is readable). Stops at its first failure, since its
# expected version is then unknown. (wcase is set above.)
: > "$work/acked"
writer_loop() {
  local v=0 n id ev
  while [[ ! -e "$work/stop" ]]; do
    n=$((v + 1))
    id="$(printf '5eed5eed-0000-4000-8000-%012x' "$n")"
    if ((v == 0)); then opened "$wcase" "$id"; ev=no-stream; else note "$wcase" "$n" "$id"; ev=$v; fi > "$work/w.jsonl"
    if ! run_child cl appender append --expected-version "$ev" "$work/w.jsonl" > "$work/w.out" 2> "$work/w.err"; then
      failure "writer: append of $id (expected version $ev) failed: $(head -c 400 "$work/w.err")"
      return
    fi
    echo "$id" >> "$work/acked"
    v=$n
    if ((n % 20 == 0)); then
      run_child cl reader read --case "$wcase" --from "$n" --limit 1 --format json > "$work/w.read" 2> "$work/w.err"
      grep -q "\"event_id\":\"$id\"" "$work/w.read" ||
        failure "writer: acknowledged $id (version $n) not read back: $(head -c 300 "$work/w.read" "$work/w.err")"
    fi
  done
}

# Runs a client-mode command for the reader loop; output in $work/r.out.
check() {
  local what="$1"
  shift
  run_child "$@" > "$work/r.out" 2> "$work/r.err"
  local rc=$?
  ((rc == 0)) || failure "reader: $what exited $rc: $(head -c 400 "$work/r.err")"
  return "$rc"
}

# Every read-side verb of client mode in turn, with checks of what they say;
# an export (and its offline verify) once a minute, one backup halfway.
reader_loop() {
  local size acked last_export=$SECONDS backed_up=0 loadcase lines
  while [[ ! -e "$work/stop" ]]; do
    size="$(ledger_size)"
    acked="$(wc -l < "$work/acked")"
    if ((size >= 100)); then
      if check "read --from $((size - 99)) --limit 100" cl reader read --from $((size - 99)) --limit 100; then
        lines="$(wc -l < "$work/r.out")"
        ((lines == 100)) || failure "reader: read --from $((size - 99)) --limit 100 of a ledger of $size gave $lines lines"
        # A case of the load generator, usually thousands of events long.
        loadcase="$(awk '$2 ~ /^LOAD-/ {c = $2} END {print c}' "$work/r.out")"
        [[ -n "$loadcase" ]] && check "state --case $loadcase" cl reader state --case "$loadcase"
      fi
      check "prove --position" cl reader prove --position $(((RANDOM * 32768 + RANDOM) % size + 1))
      check "prove --from-size" cl reader prove --from-size $(((RANDOM * 32768 + RANDOM) % size + 1))
    fi
    if ((acked > 0)); then
      if check "state --case $wcase" cl reader state --case "$wcase"; then
        v="$(awk '$1 == "version" {print $2}' "$work/r.out")"
        ((${v:-0} >= acked)) || failure "reader: state of $wcase says version ${v:-?}, after $acked acknowledged appends"
      fi
      check "timeline --case $wcase" cl reader timeline --case "$wcase"
      check "findings --case $wcase" cl reader findings --case "$wcase"
      check "deadlines --case $wcase" cl reader deadlines --case "$wcase"
    fi
    check "deadlines" cl reader deadlines --status OVERDUE
    check "checkpoint" cl reader checkpoint
    if ((SECONDS - last_export >= 60)); then
      last_export=$SECONDS
      rm -f "$work/bundle.zip"
      check "export" cl exporter export --case SOAK-EXPORT --purpose investigation --out "$work/bundle.zip" &&
        check "verify-bundle" "$bin" verify-bundle "$work/bundle.zip" --pubkey "$work/pubkey"
    fi
    if ((!backed_up && SECONDS >= start + (end - start) / 2)); then
      backed_up=1
      say "backup through the server (admin) at $((SECONDS - start)) s"
      check "backup --to mid" cl admin backup --to mid && say "$(cat "$work/r.out")"
      rm -rf "$work/backups/mid"
    fi
  done
}

load_loop & loops+=($!)
writer_loop & loops+=($!)
reader_loop & loops+=($!)

# ---- samples ----------------------------------------------------------------

# Prints one row: seconds since start, ledger size, events/s since the last
# sample, VmRSS (MiB), open fds (all; to .sst table files; to deleted files),
# threads. RocksDB keeps every table file open (max_open_files -1), so fds to
# .sst files grow with the ledger by design; the other fds are what a
# leaked connection, stream or file would add to.
prev_t=$SECONDS
prev_size=0
sample() {
  local t=$SECONDS size rss threads fds sst deleted
  size="$(ledger_size)"
  rss="$(awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$server/status")"
  threads="$(awk '/^Threads:/ {print $2}' "/proc/$server/status")"
  read -r fds sst deleted < <(find "/proc/$server/fd" -mindepth 1 -printf '%l\n' 2> /dev/null |
    awk '{n++} /\.sst$/ {s++} /\(deleted\)$/ {d++} END {print n + 0, s + 0, d + 0}')
  local rate=$(((size - prev_size) / (t - prev_t > 0 ? t - prev_t : 1)))
  prev_t=$t
  prev_size=$size
  printf '%6d %10d %8d %7d %5d %5d %5d %5d %7d\n' $((t - start)) "$size" "$rate" "$rss" "$fds" "$sst" \
    "$deleted" "$((fds - sst))" "$threads" | tee -a "$work/samples"
}
header() { printf '%6s %10s %8s %7s %5s %5s %5s %5s %7s\n' t_s size ev/s rss_MiB fds sst del other threads; }

header
sample > /dev/null   # the idle server, before the first sample counted
base=""
while ((SECONDS < end)); do
  sleep 10
  kill -0 "$server" 2> /dev/null || die "serve died during the soak: $(tail -n 20 "$work/serve.err")"
  kill -0 "$subscriber" 2> /dev/null || die "the subscribers' load generator exited during the soak"
  sample
  # The baseline: the first sample after the first minute of load (caches,
  # memtables, gRPC's thread pool warmed up).
  [[ -z "$base" ]] && ((SECONDS - start >= 60)) && base="$(tail -n 1 "$work/samples")"
done
touch "$work/stop"
say "load time over; waiting for the clients to finish"
for p in "${loops[@]}"; do
  for _ in $(seq 1200); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$p" 2> /dev/null && die "a client loop is still running 120 s after the end (a call hangs?)"
done
loops=()
sleep 5   # let the server close the connections and let idle threads exit
echo "after the load (idle):"
sample
idle="$(tail -n 1 "$work/samples")"
[[ -n "$base" ]] || base="$(head -n 1 "$work/samples")"

# ---- load generator results ------------------------------------------------

# Rows of its tables: | batch | clients | events/s | Appends/s | p50 | p99 | max | errors |
echo "load generator, per events per Append (mean over runs; worst p99 and max):"
awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {
    b = $2 + 0; runs[b]++; ev[b] += $4; ap[b] += $5; err[b] += $9
    p99 = $7 + 0; mx = $8 + 0
    if (p99 > wp99[b]) wp99[b] = p99; if (mx > wmax[b]) wmax[b] = mx
  } END {
    printf "  %6s %5s %10s %10s %12s %12s %7s\n", "batch", "runs", "events/s", "Appends/s", "worst p99", "worst max", "errors"
    for (b in runs) printf "  %6d %5d %10.0f %10.0f %9.1f ms %9.1f ms %7d\n", b, runs[b], ev[b] / runs[b], ap[b] / runs[b], wp99[b], wmax[b], err[b]
  }' "$work/load.out" | sort -n
load_errors="$(awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {e += $9} END {print e + 0}' "$work/load.out")"
((load_errors == 0)) || failure "the load generator counted $load_errors failed Appends ($(sort "$work/load.err" | uniq -c | sort -rn | head -n 3))"
[[ -s "$work/load.out" ]] || failure "the load generator never completed a run"
acked="$(wc -l < "$work/acked")"
say "client-mode writer: $acked acknowledged appends"
((acked > 0)) || failure "the client-mode writer got no append acknowledged"

# ---- stop, verify, restart --------------------------------------------------

size_before="$(ledger_size)"
# The subscribers must reach that size (and hold the writer's $acked events)
# before the stop, which must then end each stream and the Watch.
echo "$size_before $acked" > "$work/sub.target.tmp"
mv "$work/sub.target.tmp" "$work/sub.target"
t0=$SECONDS
for _ in $(seq 3600); do
  grep -q '^subscribers: .* at size' "$work/sub.out" && break
  kill -0 "$subscriber" 2> /dev/null || break
  sleep 0.1
done
say "$(grep -m 1 '^subscribers: .* at size' "$work/sub.out" || echo "subscribers: no answer") ($((SECONDS - t0)) s after the target)"
stop_server serve
stopped_size=$stopped_n
((stopped_size == size_before)) ||
  failure "serve stopped at ledger size $stopped_size, but the ledger had $size_before entries once every client had finished"
for _ in $(seq 600); do kill -0 "$subscriber" 2> /dev/null || break; sleep 0.1; done
kill -0 "$subscriber" 2> /dev/null && die "the subscribers' load generator still runs 60 s after the server stopped"
wait "$subscriber"
sub_rc=$?
subscriber=""
echo "subscribers (max lag: ledger size minus last position received, sampled every 2 s):"
sed -n '/^| subscriber/,$p' "$work/sub.out"
((sub_rc == 0)) ||
  failure "the subscribers' load generator exited $sub_rc: $(grep -c FAILED "$work/sub.err") failed checks, the first: $(grep -m 3 FAILED "$work/sub.err" | tr '\n' ' ')"
# Rows: | index | kind | from | streams | events | last position | ...: each
# stream over all cases ends at the size the server stopped at, the one of
# the writer's case holds each acknowledged append.
awk -F'|' -v size="$stopped_size" -v acked="$acked" '$2 ~ /^ *[0-9]+ *$/ {
    rows++; kind = $3; gsub(/ /, "", kind)
    if (kind == "case" && $6 + 0 != acked) print "subscriber " $2 + 0 " (case) received " $6 + 0 " events of " acked
    if (kind != "case" && $7 + 0 != size) print "subscriber " $2 + 0 " (" kind ") ended at position " $7 + 0 ", the ledger at " size
  } END { if (rows == 0) print "no subscriber rows in sub.out" }' "$work/sub.out" > "$work/x.out"
[[ -s "$work/x.out" ]] && failure "subscribers: $(tr '\n' ';' < "$work/x.out")"

"$bin" verify --db "$db" > "$work/verify.out" 2> "$work/verify.err" ||
  die "verify failed on the soaked ledger: $(cat "$work/verify.out") $(tail -n 3 "$work/verify.err")"
grep -q "^OK $stopped_size entries" "$work/verify.out" ||
  failure "verify does not report $stopped_size entries: $(head -n 1 "$work/verify.out")"
say "verify: $(head -n 1 "$work/verify.out")"

# Every acknowledged append of the writer, in order, and nothing else.
"$bin" read --db "$db" --case "$wcase" --format json 2> "$work/x.err" |
  sed -n 's/.*"event": *{"event_id":"\([0-9a-f-]*\)".*/\1/p' > "$work/stored" ||
  die "read of $wcase: $(cat "$work/x.err")"
cmp -s "$work/acked" "$work/stored" ||
  failure "$wcase holds $(wc -l < "$work/stored") events, $acked were acknowledged; first difference: $(diff "$work/acked" "$work/stored" | head -n 3 | tr '\n' ' ')"

# The access log: one record per line, `seq` dense from 1 (its hash chain
# is checked by tests/server/access_log_test.cc).
awk '{ if (!match($0, /"seq": [0-9]+/)) { print "line " NR " has no seq"; exit 1 }
       s = substr($0, RSTART + 7, RLENGTH - 7) + 0
       if (s != NR) { print "line " NR " has seq " s; exit 1 } }' "$db/access-log.jsonl" > "$work/x.out" ||
  failure "access log: $(cat "$work/x.out")"

start_server restart
v="$(cl reader state --case "$wcase" 2> "$work/x.err" | awk '$1 == "version" {print $2}')"
((${v:-0} == acked)) || failure "after the restart, $wcase is at version ${v:-?} ($(cat "$work/x.err")), expected $acked"
stop_server restart
restarted_size=$stopped_n
((restarted_size == stopped_size)) || failure "the restarted serve stopped at size $restarted_size, not $stopped_size"

# ---- bounds -----------------------------------------------------------------
#
# Compared with the baseline after the first minute of load (columns as
# printed: t_s size ev/s rss fds sst del other threads):
# - other fds (sockets, pipes, logs: not the .sst tables) once the clients
#   are gone: at most the baseline + 16. Measured: 17-20 throughout, idle
#   or loaded (the load generator's clients share one TCP connection, as
#   gRPC shares a subchannel between a process's channels of the same
#   arguments; each CLI call is a process and a connection of its own). A
#   10-minute soak makes thousands of connections (every CLI call, a new
#   load generator each minute), so a leak of even one fd per hundred
#   connections ends far above this.
# - fds to deleted files once idle: at most 8. RocksDB closes a table once
#   compaction drops it unless a reader (an iterator, a snapshot) still pins
#   it; only a few may be in flight.
# - threads once idle: at most the baseline + 8. gRPC's sync server grows its
#   pool with concurrent calls and lets idle threads go (measured: 13-14
#   idle at start, 16-26 under this load, 16-17 idle at the end); a stream
#   or call that never ends keeps its thread, which this catches.
# - RSS under load, the last sample before the load ended and every one
#   from the baseline on (so also while the slow subscriber lags by up to
#   ~200k entries, which the server must not buffer: it reads pages of 256
#   and blocks on flow control): at most the baseline + 256 MiB + 48 MiB per
#   million entries added since the baseline. RocksDB keeps each open
#   table's index and bloom filter in memory (no
#   cache_index_and_filter_blocks, max_open_files -1), which grows
#   with the ledger, not with time: an idle serve opened on 5.2 million
#   entries held 140 MiB against 40 MiB on an empty ledger (~19 MiB per
#   million). Over two 10-minute soaks (2 cores, ~0.6 to 4.5-5.2 million
#   entries) the highest sample of each minute (batch-100 phases) rose from
#   ~200-240 to 375 MiB (30-45 MiB per million), the lowest (singles phases)
#   by ~23 MiB per million: it tracks the tables, not time. Memtables (64 MiB
#   WAL limit) and the 64 MiB block cache are bounded. The 256 MiB covers
#   the phase-to-phase swing (~100 MiB), allocator fragmentation and what an
#   export or a backup leaves behind.
read -r _ b_size _ b_rss _ _ _ b_other b_threads <<< "$base"
last_loaded="$(tail -n 2 "$work/samples" | head -n 1)"
read -r _ l_size _ l_rss _ _ _ _ _ <<< "$last_loaded"
read -r _ _ _ _ _ _ i_del i_other i_threads <<< "$idle"
rss_limit=$((b_rss + 256 + 48 * (l_size - b_size) / 1000000))
say "baseline after 1 min: other fds $b_other, threads $b_threads, RSS $b_rss MiB at size $b_size"
say "end: idle other fds $i_other (limit $((b_other + 16))), idle deleted-file fds $i_del (limit 8)," \
  "idle threads $i_threads (limit $((b_threads + 8))), RSS under load $l_rss MiB at size $l_size (limit $rss_limit)"
((i_other <= b_other + 16)) || failure "fd leak? $i_other fds other than tables once idle, $b_other after the first minute"
((i_del <= 8)) || failure "$i_del fds still open on deleted files once idle"
((i_threads <= b_threads + 8)) || failure "thread leak? $i_threads threads once idle, $b_threads after the first minute"
((l_rss <= rss_limit)) || failure "memory growth: RSS $l_rss MiB at the end, $b_rss MiB after the first minute (limit $rss_limit)"
# Every loaded sample from the baseline on (the samples file ends with the
# idle one, which is left out).
awk -v bt="$(awk '{print $1}' <<< "$base")" -v bs="$b_size" -v br="$b_rss" '$1 >= bt {
    if (prev != "") {
      split(prev, f, " "); lim = br + 256 + int(48 * (f[2] - bs) / 1000000)
      if (f[4] + 0 > max) { max = f[4] + 0; at = f[1] }
      if (f[4] + 0 > lim && bad == "") bad = "RSS " f[4] " MiB at " f[1] " s, size " f[2] " (limit " lim ")"
    }
    prev = $0
  } END { print (bad != "" ? "BAD " bad : "max " max " MiB at " at " s") }' "$work/samples" > "$work/x.out"
say "RSS under load from the baseline on: $(sed 's/^BAD //' "$work/x.out")"
grep -q '^BAD' "$work/x.out" && failure "memory growth under load: $(sed 's/^BAD //' "$work/x.out")"

if [[ -s "$work/failures" ]]; then
  echo "serve_soak: FAILED: $(wc -l < "$work/failures") failure(s); the first ones:" >&2
  head -n 40 "$work/failures" >&2
  exit 1
fi
say "passed: $minutes min, $stopped_size entries"
