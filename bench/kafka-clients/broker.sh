#!/usr/bin/env bash
# A throw-away single-node Kafka broker (KRaft, combined broker+controller) on loopback ports,
# from the jars that scripts/install-kafka.sh put into ~/.cache/sluice/kafka/<version>.
#
#   broker.sh start DIR      format DIR (first time only), start, wait until it answers; prints the port
#   broker.sh kill DIR       SIGKILL the broker (crash; data dir kept)
#   broker.sh restart DIR    start again on the same ports and data (after kill)
#   broker.sh stop DIR       SIGTERM, wait, and remove nothing (rm -rf DIR yourself)
set -euo pipefail
cmd="${1:?start|kill|restart|stop}"; dir="${2:?data dir}"
CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
ver="$(cat "$CACHE/kafka/current")"; home="$CACHE/kafka/$ver"
JAVA_OPTS=(-Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$home/log4j2.xml" "-Dkafka.logs.dir=$dir")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

launch() {
  local port; port="$(cat "$dir/port")"
  nohup java "${JAVA_OPTS[@]}" -cp "$home/libs/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 1 120); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$dir/server.log" 2>/dev/null; then
      echo "$port"; return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "broker died; see $dir/server.log $dir/stdout.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "broker did not start in 60 s" >&2; exit 1
}

case "$cmd" in
  start)
    mkdir -p "$dir/data"
    if [ ! -f "$dir/server.properties" ]; then
      port="$(free_port)"; cport="$(free_port)"
      while [ "$cport" = "$port" ]; do cport="$(free_port)"; done
      echo "$port" > "$dir/port"
      cat > "$dir/server.properties" <<P
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
P
      cid="$(java -cp "$home/libs/*" "-Dlog4j2.configurationFile=$home/log4j2-tools.xml" kafka.tools.StorageTool random-uuid)"
      java -Xmx256m -cp "$home/libs/*" "-Dlog4j2.configurationFile=$home/log4j2-tools.xml" kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" >"$dir/format.log" 2>&1
    fi
    launch ;;
  restart) launch ;;
  kill) kill -KILL "$(cat "$dir/pid")"; while kill -0 "$(cat "$dir/pid")" 2>/dev/null; do sleep 0.1; done ;;
  stop)
    pid="$(cat "$dir/pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
      kill -KILL "$pid"
    fi ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
