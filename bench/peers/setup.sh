#!/usr/bin/env bash
# Installs the benchmark's peer engines. Idempotent: each step is skipped when its result is
# already there. Never run by `npm install`; `npm run bench` calls it (or run it by hand).
#   pandas, Polars, DuckDB  -> bench/.venv (PyPI)
#   Miller, jq, kcat        -> Debian packages (apt-get)
#   Benthos                 -> bench/peers/bin/benthos (go install from the Go module proxy)
# A peer that cannot be installed is written to bench/peers/status.json as missing, with the
# reason; the harness reports it as missing instead of faking it.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(dirname "$here")"
venv="$bench/.venv"
bin="$here/bin"
status="$here/status.json"
log="$here/setup.log"
mkdir -p "$bin"
: > "$log"

PANDAS_VERSION="${PANDAS_VERSION:-3.1.1}"
POLARS_VERSION="${POLARS_VERSION:-1.44.2}"
DUCKDB_VERSION="${DUCKDB_VERSION:-1.5.6}"
BENTHOS_VERSION="${BENTHOS_VERSION:-v4.60.0}"

declare -A st
note() { st[$1]="$2"; echo "[peers] $1: $2" >&2; }

# --- Python peers -----------------------------------------------------------------------
py_ok=1
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >>"$log" 2>&1 || py_ok=0
fi
if [ "$py_ok" = 1 ]; then
  for spec in "pandas==$PANDAS_VERSION:pandas" "polars==$POLARS_VERSION:polars" "duckdb==$DUCKDB_VERSION:duckdb"; do
    pkg="${spec%%:*}"; mod="${spec##*:}"
    if "$venv/bin/python" -c "import $mod" >/dev/null 2>&1; then
      note "$mod" "ok $("$venv/bin/python" -c "import $mod; print($mod.__version__)")"
      continue
    fi
    if "$venv/bin/pip" install --disable-pip-version-check -q "$pkg" >>"$log" 2>&1 \
       || "$venv/bin/pip" install --disable-pip-version-check -q "$mod" >>"$log" 2>&1; then
      note "$mod" "ok $("$venv/bin/python" -c "import $mod; print($mod.__version__)")"
    else
      note "$mod" "missing: pip install $pkg failed ($(tail -1 "$log" | tr -d '"'))"
    fi
  done
else
  for m in pandas polars duckdb; do note "$m" "missing: could not create a Python venv"; done
fi

# --- Debian peers -------------------------------------------------------------------------
need_apt=""
command -v mlr >/dev/null 2>&1 || need_apt="$need_apt miller"
command -v jq  >/dev/null 2>&1 || need_apt="$need_apt jq"
command -v kcat >/dev/null 2>&1 || need_apt="$need_apt kcat"
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $need_apt) >>"$log" 2>&1
  else
    (sudo -n apt-get update && sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y $need_apt) >>"$log" 2>&1
  fi
fi
if command -v mlr >/dev/null 2>&1; then note miller "ok $(mlr --version 2>&1 | head -1)"; else note miller "missing: apt-get install miller failed"; fi
if command -v jq  >/dev/null 2>&1; then note jq "ok $(jq --version 2>&1)"; else note jq "missing: apt-get install jq failed"; fi
# kcat: C, librdkafka; the physical floor of the Kafka workloads (K1, K2).
if command -v kcat >/dev/null 2>&1; then
  note kcat "ok $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\).*/kcat \1 (librdkafka \2)/p' | head -1)"
else
  note kcat "missing: apt-get install kcat failed"
fi

# --- Benthos ------------------------------------------------------------------------------
if [ ! -x "$bin/benthos" ]; then
  if command -v go >/dev/null 2>&1; then
    # `go install …/cmd/benthos@v4.60.0` asks the proxy for the module's version list (to look for
    # a deprecation notice), which this proxy refuses (403). Building the same main package from a
    # tiny module that requires the exact version (bench/peers/benthos/build) avoids that request.
    GOBIN="$bin" go install "github.com/redpanda-data/benthos/v4/cmd/benthos@$BENTHOS_VERSION" >>"$log" 2>&1 \
      || (cd "$here/benthos/build" && go build -o "$bin/benthos" .) >>"$log" 2>&1
  fi
fi
if [ -x "$bin/benthos" ]; then
  note benthos "ok $("$bin/benthos" --version 2>&1 | head -1)"
elif ! command -v go >/dev/null 2>&1; then
  note benthos "missing: no Go toolchain to build it"
else
  note benthos "missing: go install github.com/redpanda-data/benthos/v4/cmd/benthos@$BENTHOS_VERSION failed ($(grep -i error "$log" | tail -1 | tr -d '"'))"
fi

# --- status.json --------------------------------------------------------------------------
{
  echo "{"
  first=1
  for k in pandas polars duckdb miller jq kcat benthos; do
    [ $first = 1 ] || echo ","
    first=0
    printf '  "%s": "%s"' "$k" "$(echo "${st[$k]:-missing: not attempted}" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  done
  echo
  echo "}"
} > "$status"
cat "$status"
