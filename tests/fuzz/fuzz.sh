#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs each for SECONDS, one at a time (fuzzing wants whole cores), then
# merges the inputs that found new coverage into tests/fuzz/corpus/<target>/.
# Crashes are written to build-fuzz/artifacts/. Exits 1 when a target does
# not build or its fuzzer finds an input that fails it: a target that
# stops building with clang must not drop out of the campaign unseen.
# See docs/reliability.md.
#
#   tests/fuzz/fuzz.sh [SECONDS] [TARGET...]     default: 600 s, all targets
#
# Needs clang-14 and libclang-rt-14-dev (libFuzzer); .ci/install-deps has them.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(event_json_fuzz event_validation_fuzz checkpoint_fuzz proof_fuzz
           bundle_fuzz)
fi

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCASELEDGER_FUZZ=ON \
  -DCASELEDGER_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  >/dev/null

mkdir -p build-fuzz/artifacts

# Bytes of the inputs libFuzzer's merge added to a target's corpus: they are
# named by their SHA-1, the hand-written seeds by what they hold.
merged_bytes() {  # target
  find tests/fuzz/corpus/"$1" -type f -regextype posix-extended \
    -regex '.*/[0-9a-f]{40}' -printf '%s\n' | awk '{n += $1} END {print n + 0}'
}
failed=()
for t in "${targets[@]}"; do
  if ! ninja -C build-fuzz -j2 "$t" >build-fuzz/"$t".build.log 2>&1; then
    echo "== $t: does not build with clang (build-fuzz/$t.build.log)"
    failed+=("$t (does not build)")
    continue
  fi
  found=$(mktemp -d)
  max_len=4096
  budget=  # bytes its merged inputs may hold (empty: no limit)
  if [ "$t" = bundle_fuzz ]; then
    max_len=300000  # the seeds are whole bundles
    # Nearly every new input is a seed bundle with a small change (20-130 KB
    # each; a 600 s run finds 100-300 worth keeping, 2-13 MB). Keep the
    # smallest up to 1 MiB: from the seeds alone a run reaches 95% of its
    # 600 s coverage in its first minute. The named seeds (whole bundles,
    # each holding one property) do not count: counted, they filled the
    # budget alone, and every new input was dropped.
    budget=1048576
  fi
  echo "== $t: ${seconds}s"
  # Our corpus is read, new inputs go to $found; -merge keeps the useful ones.
  set +e
  UBSAN_OPTIONS=print_stacktrace=1 build-fuzz/tests/fuzz/"$t" \
    -max_total_time="$seconds" -print_final_stats=1 -max_len="$max_len" \
    -artifact_prefix=build-fuzz/artifacts/"$t"- \
    "$found" tests/fuzz/corpus/"$t" 2>&1 | tee build-fuzz/"$t".log |
    grep -E "^(#[0-9]+[[:space:]]+DONE|stat::|==[0-9]+==ERROR|FUZZ_CHECK)"
  fuzzed=${PIPESTATUS[0]}
  set -e
  if [ "$fuzzed" -ne 0 ]; then
    failed+=("$t (a failing input in build-fuzz/artifacts/)")
  fi
  kept_before=$(mktemp)
  ls tests/fuzz/corpus/"$t" | sort >"$kept_before"
  # Only inputs that reach new code (not new hit counts) join the kept corpus.
  build-fuzz/tests/fuzz/"$t" -merge=1 -use_counters=0 tests/fuzz/corpus/"$t" \
    "$found" >>build-fuzz/"$t".log 2>&1
  if [ -n "$budget" ]; then
    # The merge takes the smallest inputs first, so dropping the largest new
    # ones loses only their own coverage.
    added=$(mktemp)
    ls tests/fuzz/corpus/"$t" | sort | comm -13 "$kept_before" - |
      sed "s|^|tests/fuzz/corpus/$t/|" >"$added"
    if [ -s "$added" ]; then
      xargs ls -S <"$added" >"$added.by_size"
      while read -r f; do
        [ "$(merged_bytes "$t")" -le "$budget" ] && break
        rm -f "$f"
      done <"$added.by_size"
    fi
    rm -f "$added" "$added.by_size"
  fi
  echo "== $t: corpus of $(wc -l <"$kept_before") files before the run," \
    "$(ls tests/fuzz/corpus/"$t" | wc -l) after the merge" \
    "($(du -sh --apparent-size tests/fuzz/corpus/"$t" | cut -f1))"
  rm -f "$kept_before"
  rm -rf "$found"
done
du -sh --apparent-size tests/fuzz/corpus
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
