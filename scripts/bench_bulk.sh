#!/usr/bin/env bash
# Bulk benchmark for issue 12: 1,000 small messages to a loopback SMTP sink, side by side
# in one run:
#   flush     `missive outbox flush` of 1,000 queued messages
#   smtplib1  Python's smtplib sending the same 1,000 files over one connection
#   smtplibN  the same with a connection each
#   relay     smtplib sending them over one connection through `missive relay` (which
#             answers once each is delivered upstream)
#   relayq    the same with the upstream down: each is durably queued (fsync'ed) first
#   send      one `missive send` of a small message (median of N)
# Needs: python3 with aiosmtpd. Prints medians of N runs (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5}
COUNT=${COUNT:-1000}
cargo build --release --quiet
BIN=$PWD/target/release/missive
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
export XDG_CONFIG_HOME=$WORK/cfg XDG_DATA_HOME=$WORK/data

mkfifo "$WORK/ready"
python3 scripts/bench_sink.py < <(sleep infinity) > "$WORK/ready" &
PIDS+=($!)
read -r _ PORT < "$WORK/ready"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

config() {
  mkdir -p "$XDG_CONFIG_HOME/missive"
  cat > "$XDG_CONFIG_HOME/missive/config.toml" <<CFG
default = "bench"
from = "Ada <ada@example.com>"
[transport.bench]
kind = "smtp"
host = "127.0.0.1"
port = $1
security = "none"
CFG
}

# Queue COUNT messages (the server is down), keep a copy of the data dir to restore.
config "$DEAD"
printf 'A short note, line one.\nLine two.\n' > "$WORK/note.txt"
for i in $(seq "$COUNT"); do
  "$BIN" send --to bob@example.net --subject "bulk $i" --text "$WORK/note.txt" > /dev/null 2>&1 || true
done
cp -a "$XDG_DATA_HOME" "$WORK/queued"
ls "$WORK/queued/missive/outbox/"*.eml > "$WORK/files"
QUEUED=$(wc -l < "$WORK/files")
config "$PORT"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
calc() { awk "BEGIN {printf \"%.4f\", $1}"; }

flush_once() {
  rm -rf "$XDG_DATA_HOME"; cp -a "$WORK/queued" "$XDG_DATA_HOME"
  local t0 t1; t0=$(now)
  "$BIN" outbox flush > /dev/null
  t1=$(now); calc "$t1 - $t0"
}

smtplib_once() {  # $1 = one|each, $2 = port
  python3 - "$1" "$2" "$WORK/files" <<'PY'
import smtplib, sys, time
mode, port, files = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read().split()
msgs = [open(f, "rb").read() for f in files]
t0 = time.perf_counter()
if mode == "one":
    with smtplib.SMTP("127.0.0.1", port) as s:
        for m in msgs:
            s.sendmail("ada@example.com", ["bob@example.net"], m)
else:
    for m in msgs:
        with smtplib.SMTP("127.0.0.1", port) as s:
            s.sendmail("ada@example.com", ["bob@example.net"], m)
print(time.perf_counter() - t0)
PY
}

# The relay, on a fresh data dir each run (the same messages again would rightly be
# refused as already delivered), started before the clock starts.
relay_once() {  # $1 = the upstream port
  local data=$WORK/relay.$RANDOM.$RANDOM rport=""
  mkdir -p "$data"
  config "$1"
  XDG_DATA_HOME=$data "$BIN" relay --listen 127.0.0.1:0 > "$data.out" 2> "$data.err" &
  local pid=$!
  for _ in $(seq 100); do
    rport=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$data.err" "$data.out" 2>/dev/null | head -1 | sed 's/.*://') || true
    [ -n "$rport" ] && break
    sleep 0.1
  done
  config "$PORT"
  smtplib_once one "$rport"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

declare -A R
for k in flush smtplib1 smtplibN relay relayq send; do R[$k]=""; done
for _ in $(seq "$N"); do
  R[flush]+="$(flush_once) "
  R[smtplib1]+="$(smtplib_once one "$PORT") "
  R[smtplibN]+="$(smtplib_once each "$PORT") "
  R[relay]+="$(relay_once "$PORT") "
  R[relayq]+="$(relay_once "$DEAD") "
  t0=$(now); "$BIN" send --to bob@example.net --subject one --text "$WORK/note.txt" > /dev/null; t1=$(now)
  R[send]+="$(calc "$t1 - $t0") "
done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); $QUEUED messages, $N runs each, medians"
printf '%-9s %9s %11s\n' what wall_s messages/s
for k in flush smtplib1 smtplibN relay relayq send; do
  m=$(printf '%s\n' ${R[$k]} | median)
  if [ "$k" = send ]; then
    printf '%-9s %9.4f %11s\n' "$k" "$m" "-"
  else
    printf '%-9s %9.3f %11.0f\n' "$k" "$m" "$(calc "$QUEUED / $m")"
  fi
  eval "M_$k=$m"
done
echo "flush/smtplib1: $(calc "$M_flush / $M_smtplib1")   relay rate / smtplib1 rate: $(calc "$M_smtplib1 / $M_relay")   queued: $(calc "$M_smtplib1 / $M_relayq")"
