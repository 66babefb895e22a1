#!/usr/bin/env bash
# Provision the jars of a real Apache Kafka broker (KRaft) for the tests, from Maven Central.
#
#   scripts/install-kafka.sh            # resolve once into the cache; later runs return at once
#   SLUICE_CACHE=/some/dir scripts/install-kafka.sh
#   SLUICE_KAFKA_VERSION=4.3.1 scripts/install-kafka.sh   # ask for one version only (no fallback)
#   SLUICE_MAVEN_REPO=/tmp/m2 scripts/install-kafka.sh    # use another Maven local repository
#
# Result: ${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka/<version>/
#   libs/          every runtime jar of org.apache.kafka:kafka_2.13 + kafka-tools + a log4j2 binding
#   log4j2.xml     logging config: everything goes to ${kafka.logs.dir}/server.log, nothing to stdout
#   .complete      marker written last; its presence means the folder is usable
# and ${SLUICE_CACHE}/kafka/current holds the version that the test helper should use.
#
# Needs Java 17+ and Maven 3.6+ on PATH. Clear the cache with: rm -rf "${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka"
set -euo pipefail

CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
KAFKA_ROOT="$CACHE/kafka"
SCALA=2.13
# Newest first: 4.4.0 is the one we test against; the others are fallbacks if it ever fails to resolve.
CANDIDATES="${SLUICE_KAFKA_VERSION:-4.4.0 4.3.1 4.3.0 4.2.2 4.2.1 4.1.2 4.0.2}"
SLF4J_VERSION=2.0.17
LOG4J_VERSION=2.25.3
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

log() { printf '[install-kafka] %s\n' "$*" >&2; }

# Fast path: already provisioned.
if [ -z "${SLUICE_KAFKA_VERSION:-}" ] && [ -f "$KAFKA_ROOT/current" ]; then
  v="$(cat "$KAFKA_ROOT/current")"
  if [ -f "$KAFKA_ROOT/$v/.complete" ]; then
    log "Kafka $v already installed in $KAFKA_ROOT/$v"
    exit 0
  fi
fi
if [ -n "${SLUICE_KAFKA_VERSION:-}" ] && [ -f "$KAFKA_ROOT/$SLUICE_KAFKA_VERSION/.complete" ]; then
  log "Kafka $SLUICE_KAFKA_VERSION already installed in $KAFKA_ROOT/$SLUICE_KAFKA_VERSION"
  printf '%s\n' "$SLUICE_KAFKA_VERSION" > "$KAFKA_ROOT/current"
  exit 0
fi

command -v mvn >/dev/null || { log "mvn not found: install Maven (apt-get install -y maven)"; exit 1; }
command -v java >/dev/null || { log "java not found: install a JDK 17+ (apt-get install -y openjdk-17-jdk-headless)"; exit 1; }
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
if [ "${java_major:-0}" -lt 17 ]; then log "Kafka 4.x needs Java 17+, found ${java_major:-unknown}"; exit 1; fi

# Two test files may provision at once on a fresh machine: one installs, the other waits.
mkdir -p "$KAFKA_ROOT"
if command -v flock >/dev/null; then
  exec 9>"$KAFKA_ROOT/.install.lock"
  if ! flock -n 9; then log "another install is running; waiting for it ..."; flock 9; fi
  if [ -z "${SLUICE_KAFKA_VERSION:-}" ] && [ -f "$KAFKA_ROOT/current" ] && [ -f "$KAFKA_ROOT/$(cat "$KAFKA_ROOT/current")/.complete" ]; then
    log "Kafka $(cat "$KAFKA_ROOT/current") was installed by the other run"; exit 0
  fi
fi

mvn_args=(-B -q)
if [ -n "${SLUICE_MAVEN_REPO:-}" ]; then mvn_args+=("-Dmaven.repo.local=$SLUICE_MAVEN_REPO"); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sluice-kafka-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

write_pom() { # $1 = kafka version
  cat > "$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice.test</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA</artifactId><version>$1</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$1</version></dependency>
    <!-- kafka_2.13's pom names slf4j-api 1.7.x; pin the 2.x API so exactly one binding (log4j2) is found -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
}

resolved=""
for v in $CANDIDATES; do
  dest="$KAFKA_ROOT/$v"
  log "resolving org.apache.kafka:kafka_$SCALA:$v + kafka-tools:$v and their runtime dependencies from Maven Central ..."
  write_pom "$v"
  rm -rf "$work/libs"
  start=$(date +%s)
  if (cd "$work" && mvn "${mvn_args[@]}" "$DEP_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1); then
    n=$(find "$work/libs" -name '*.jar' | wc -l)
    log "resolved $n jars for Kafka $v in $(( $(date +%s) - start ))s"
    rm -rf "$dest"
    mkdir -p "$dest"
    mv "$work/libs" "$dest/libs"
    resolved="$v"
    break
  else
    log "Kafka $v did not resolve (last lines of the Maven log follow); trying the next version"
    tail -n 15 "$work/mvn.log" >&2 || true
  fi
done

if [ -z "$resolved" ]; then
  log "no Kafka version in [$CANDIDATES] could be resolved; is Maven Central reachable?"
  exit 1
fi
if [ "$resolved" != "${CANDIDATES%% *}" ]; then
  log "NOTE: fell back to Kafka $resolved (${CANDIDATES%% *} did not resolve)"
fi

dest="$KAFKA_ROOT/$resolved"
for must in "kafka_$SCALA-$resolved.jar" "kafka-tools-$resolved.jar" "kafka-clients-$resolved.jar" log4j-slf4j2-impl-; do
  if ! ls "$dest/libs" | grep -q -- "$must"; then log "missing $must in $dest/libs"; exit 1; fi
done

# Quiet logging: the broker and the console tools log only to ${kafka.logs.dir}/server.log
# (the test helper sets -Dkafka.logs.dir to the broker's data dir; tools log WARN+ to stderr).
cat > "$dest/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Properties>
    <Property name="logDir">${sys:kafka.logs.dir:-${sys:java.io.tmpdir}}</Property>
  </Properties>
  <Appenders>
    <File name="file" fileName="${logDir}/server.log" append="true" immediateFlush="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.zookeeper" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
EOF
cat > "$dest/log4j2-tools.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="ERROR"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF

{
  printf 'kafka=%s\nscala=%s\njars=%s\ninstalled=%s\n' "$resolved" "$SCALA" \
    "$(find "$dest/libs" -name '*.jar' | wc -l)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$dest/.complete"
printf '%s\n' "$resolved" > "$KAFKA_ROOT/current"
log "Kafka $resolved installed in $dest ($(du -sh "$dest/libs" | cut -f1))"
