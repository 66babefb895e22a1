#!/usr/bin/env bash
# Kafka client comparison for Sluice (issue 6): @platformatic/kafka vs @confluentinc/kafka-javascript
# (librdkafka) vs kafkajs, on a real Kafka broker started here. See README.md beside this file.
#
#   bash bench/kafka-clients/run.sh             # everything: installs, broker, 3 interleaved runs, checks
#   RUNS=1 N=200000 bash bench/kafka-clients/run.sh   # quick
#   SKIP_INSTALL=1 ...                          # reuse the installs in $WORK
#   PHASES="throughput window keys outage leave lz4 ckjsbatch" ...   # choose phases (default: all of them)
#
# Installs go to $WORK (default /tmp/kafka-client-compare), never into the project.
# Needs: Node 20+, Java 17+, the broker jars from scripts/install-kafka.sh; root for apt-get
# (librdkafka-dev, for the confluent client's source build).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/kafka-client-compare}"
RUNS="${RUNS:-3}"
N="${N:-1000000}"
PHASES="${PHASES:-throughput window keys outage leave lz4 ckjsbatch}"
CLIENTS=(platformatic confluent kafkajs)
PT=1.35.0; CK=1.10.1; KJ=2.2.4
mkdir -p "$WORK"
OUT="$WORK/results.jsonl"
log() { printf '[kafka-clients %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
rec() { printf '%s\n' "$1" >> "$OUT"; printf '%s\n' "$1" | cut -c1-400 >&2; }

bash "$ROOT/scripts/install-kafka.sh"
KHOME="${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka/$(cat "${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka/current")"

# ─── installs (each timed in its own folder; plain `npm install`, no environment) ─────────────
timed_install() { # dir, env-prefix, packages...
  local dir="$1" envs="$2"; shift 2
  rm -rf "$dir"; mkdir -p "$dir"; (cd "$dir" && npm init -y >/dev/null)
  local t0 rc; t0=$(date +%s.%N)
  set +e
  (cd "$dir" && env $envs timeout 900 npm install -E --foreground-scripts "$@" >install.log 2>&1); rc=$?
  set -e
  rec "$(printf '{"op":"install","dir":"%s","env":"%s","packages":"%s","rc":%d,"secs":%.1f,"node":"%s","npm":"%s"}' \
    "$(basename "$dir")" "$envs" "$*" "$rc" "$(echo "$(date +%s.%N) - $t0" | bc)" "$(node -v)" "$(npm -v)")"
}
if [ -z "${SKIP_INSTALL:-}" ]; then
  : > "$OUT"
  log "plain installs (no environment) ..."
  timed_install "$WORK/i-pt" "" "@platformatic/kafka@$PT"
  timed_install "$WORK/i-kjs" "" "kafkajs@$KJ"
  timed_install "$WORK/i-ckjs-plain" "" "@confluentinc/kafka-javascript@$CK"   # expected to fail offline
  log "apt-get install librdkafka-dev (brings the -dev libraries the librdkafka source build needs) ..."
  if ! dpkg -s librdkafka-dev >/dev/null 2>&1; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q librdkafka-dev libzstd-dev >/dev/null; fi
  log "CKJS_LINKING=dynamic install of all three (the bench runs from here) ..."
  timed_install "$WORK/all" "CKJS_LINKING=dynamic" "@confluentinc/kafka-javascript@$CK" "@platformatic/kafka@$PT" "kafkajs@$KJ"
fi
export CLIENTS_DIR="$WORK/all"
node -e 'const k=require(process.env.CLIENTS_DIR+"/node_modules/@confluentinc/kafka-javascript"); console.log(JSON.stringify({op:"ckjs-build",librdkafka:k.librdkafkaVersion,features:k.features}))' | while read -r l; do rec "$l"; done

# ─── broker ───────────────────────────────────────────────────────────────────────────────
BDIR="$WORK/broker-$$"
rm -rf "$BDIR"
PORT="$(bash "$HERE/broker.sh" start "$BDIR")"
B="127.0.0.1:$PORT"
trap 'bash "$HERE/broker.sh" stop "$BDIR" || true' EXIT
log "broker up on $B (data in $BDIR)"
bench() { node "$HERE/bench.mjs" "$@"; }
topic() { bench topic "$B" "$@"; }
# Produce N messages to topic T (made with 6 partitions, deleted after) and read them back as a
# group member, recording both with round R (none when empty) under the given op names. WINDOW
# or COMPRESSION set on the call reach the producer only.
roundtrip() {
  local r="$1" produce_op="$2" consume_op="$3" c="$4" t="$5" n="$6" run=""
  [ -n "$r" ] && run="s/^{/{\"run\":$r,/; "
  topic create "$t" 6
  rec "$(timeout 300 node "$HERE/bench.mjs" produce "$c" "$B" "$t" "$n" | sed "${run}s/\"op\":\"produce\"/\"op\":\"$produce_op\"/")"
  rec "$(env -u WINDOW -u COMPRESSION timeout 300 node "$HERE/bench.mjs" consume "$c" "$B" "$t" "g-$t" "$n" | sed "${run}s/\"op\":\"consume\"/\"op\":\"$consume_op\"/")"
  topic delete "$t"
}

# ─── throughput + exactly-once-count: RUNS rounds, client order rotated each round ──────────
if [[ " $PHASES " == *" throughput "* ]]; then
  for r in $(seq 1 "$RUNS"); do
    order=("${CLIENTS[@]:$(( (r-1) % 3 ))}" "${CLIENTS[@]:0:$(( (r-1) % 3 ))}")
    for c in "${order[@]}"; do
      log "round $r: $c produce and consume $N"
      roundtrip "$r" produce consume "$c" "tp-$c-$r-$$" "$N"
    done
  done
fi

# ─── 4 send() calls in flight instead of 1 (what a pipelining sink would do) ────────────────
if [[ " $PHASES " == *" window "* ]]; then
  log "window 4: platformatic, 100000 messages (idempotent producer with concurrent sends)"
  WINDOW=4 roundtrip "" produce-w4 readback-w4 platformatic "w4-platformatic-$$" 100000
  for r in $(seq 1 "$RUNS"); do
    for c in $([ $((r % 2)) = 1 ] && echo confluent kafkajs || echo kafkajs confluent); do
      log "window 4, round $r: $c produce $N"
      WINDOW=4 roundtrip "$r" produce-w4 readback-w4 "$c" "w4-$c-$r-$$" "$N"
    done
  done
fi

# ─── keyed partitioning against the Java client (ConsoleProducer, parse.key=true) ───────────
if [[ " $PHASES " == *" keys "* ]]; then
  K=1000
  topic create "keys-java-$$" 6
  for i in $(seq 0 $((K-1))); do printf 'key-%d|{"id":%d}\n' "$i" "$i"; done |
    java -Xmx256m -cp "$KHOME/libs/*" "-Dlog4j2.configurationFile=$KHOME/log4j2-tools.xml" org.apache.kafka.tools.ConsoleProducer \
      --bootstrap-server "$B" --topic "keys-java-$$" --property parse.key=true --property 'key.separator=|'
  bench keymap "$B" "keys-java-$$" "$K" > "$WORK/keymap-java.json"
  for v in platformatic:default platformatic:java confluent:default kafkajs:default; do
    c="${v%%:*}"; p="${v##*:}"; t="keys-$c-$p-$$"
    topic create "$t" 6
    bench keys "$c" "$B" "$t" "$K" "$([ "$p" = java ] && echo java)" >/dev/null
    bench keymap "$B" "$t" "$K" > "$WORK/keymap-$c-$p.json"
    rec "$(node -e '
      const [a, b] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")))
      const keys = Object.keys(a); let same = 0, diff = []
      for (const k of keys) if (a[k] === b[k]) same++; else diff.push(k)
      console.log(JSON.stringify({ op: "keys", client: process.argv[2].match(/keymap-(.*)\.json/)[1], keys: keys.length, read: Object.keys(b).length, sameAsJava: same, differ: diff.length, example: diff.slice(0, 3).map((k) => [k, a[k], b[k]]) }))
    ' "$WORK/keymap-java.json" "$WORK/keymap-$c-$p.json")"
  done
fi

# ─── broker SIGKILL for 10 s in the middle of a produce, restart; then read everything back ──
if [[ " $PHASES " == *" outage "* ]]; then
  ON="${OUTAGE_N:-1000000}"
  for c in "${CLIENTS[@]}"; do
    t="outage-$c-$$"
    topic create "$t" 6
    log "outage: $c produce $ON, broker killed at ~3 s for 10 s"
    rec "$(timeout 300 node "$HERE/bench.mjs" outage "$c" "$B" "$t" "$ON" "$BDIR")"
    kill -0 "$(cat "$BDIR/pid")" 2>/dev/null || bash "$HERE/broker.sh" restart "$BDIR" >/dev/null
    rec "$(timeout 300 node "$HERE/bench.mjs" consume "$c" "$B" "$t" "g-$t" "$ON" | sed 's/"op":"consume"/"op":"outage-readback"/')"
    topic delete "$t"
  done
  for c in confluent kafkajs; do   # the same with 4 send() calls in flight (platformatic cannot)
    t="outage-w4-$c-$$"
    topic create "$t" 6
    log "outage, window 4: $c produce $ON, broker killed at ~3 s for 10 s"
    rec "$(WINDOW=4 timeout 300 node "$HERE/bench.mjs" outage "$c" "$B" "$t" "$ON" "$BDIR" | sed 's/"op":"outage-produce"/"op":"outage-produce","window":4/')"
    kill -0 "$(cat "$BDIR/pid")" 2>/dev/null || bash "$HERE/broker.sh" restart "$BDIR" >/dev/null
    rec "$(timeout 300 node "$HERE/bench.mjs" consume "$c" "$B" "$t" "g-$t" "$ON" | sed 's/"op":"consume"/"op":"outage-readback","window":4/')"
    topic delete "$t"
  done
fi

# ─── lz4 compression (kafkajs has no built-in lz4 codec), produce + consume ─────────────────
if [[ " $PHASES " == *" lz4 "* ]]; then
  for r in $(seq 1 "$RUNS"); do
    for c in $([ $((r % 2)) = 1 ] && echo platformatic confluent || echo confluent platformatic); do
      log "lz4, round $r: $c"
      COMPRESSION=lz4 roundtrip "$r" produce-lz4 consume-lz4 "$c" "lz4-$c-$r-$$" "$N"
    done
  done
fi

# ─── confluent consumer with a capped JS batch (js.consumer.max.batch.size 32 = its default, 1000) ──
if [[ " $PHASES " == *" ckjsbatch "* ]]; then
  t="ckjsbatch-$$"; topic create "$t" 6
  bench produce platformatic "$B" "$t" "$N" >/dev/null
  for r in $(seq 1 "$RUNS"); do
    for mb in 32 1000; do
      log "confluent consume, js.consumer.max.batch.size=$mb, round $r"
      rec "$(CKJS_MAX_BATCH=$mb timeout 300 node "$HERE/bench.mjs" consume confluent "$B" "$t" "g-$t-$mb-$r" "$N" | sed "s/^{/{\"run\":$r,/; s/\"op\":\"consume\"/\"op\":\"consume-ckjs$mb\"/")"
    done
  done
  topic delete "$t"
fi

# ─── leaving the group on close: does the other member get all partitions at once? ─────────
if [[ " $PHASES " == *" leave "* ]]; then
  topic create "leave-$$" 6
  for c in "${CLIENTS[@]}"; do rec "$(timeout 300 node "$HERE/bench.mjs" leave "$c" "$B" "leave-$$")"; done
fi

node "$HERE/summarize.mjs" "$OUT" | tee "$WORK/summary.md"
