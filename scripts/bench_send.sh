#!/usr/bin/env bash
# Send benchmark for issue 2: `missive send` of a message with a 25 MB attachment to a
# loopback SMTP sink, side by side in one run with Python's email + smtplib sending the
# same files and msmtp sending the same message already built (the transport floor).
# Prints median wall time and peak RSS of N runs each, and `missive --help` startup.
# Needs: python3 with aiosmtpd, msmtp, GNU time (apt-get install msmtp time).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-7}
cargo build --release --quiet
BIN=$PWD/target/release/missive
WORK=$(mktemp -d)
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill $SINK_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
export XDG_CONFIG_HOME=$WORK/cfg XDG_DATA_HOME=$WORK/data

head -c $((25 * 1024 * 1024)) /dev/urandom > "$WORK/report.pdf"
for _ in $(seq 100); do echo "see the attached report"; done > "$WORK/note.txt"

# The sink: readiness is its READY line, read through a fifo.
mkfifo "$WORK/ready"
python3 scripts/bench_sink.py < <(sleep infinity) > "$WORK/ready" &
SINK_PID=$!
read -r _ PORT < "$WORK/ready"

mkdir -p "$XDG_CONFIG_HOME/missive"
cat > "$XDG_CONFIG_HOME/missive/config.toml" <<CFG
default = "bench"
from = "Ada <ada@example.com>"
[transport.bench]
kind = "smtp"
host = "127.0.0.1"
port = $PORT
security = "none"
CFG

"$BIN" preview --raw --to bob@example.net --subject "25 MB" --text "$WORK/note.txt" --attach "$WORK/report.pdf" > "$WORK/built.eml"
SIZE=$(stat -c %s "$WORK/built.eml")

# measure NAME CMD...: N runs, prints "NAME median_wall_s median_peak_rss_kb"
measure() {
  local name=$1; shift
  local walls=() rss=()
  for _ in $(seq "$N"); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" > /dev/null
    read -r w m < "$WORK/t"
    walls+=("$w"); rss+=("$m")
  done
  local mw mr
  mw=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mr=$(printf '%s\n' "${rss[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$name $mw $mr"
}

{
  measure missive "$BIN" send --to bob@example.net --subject "25 MB" --text "$WORK/note.txt" --attach "$WORK/report.pdf"
  measure python python3 scripts/bench_python_send.py "$PORT" "$WORK/note.txt" "$WORK/report.pdf"
  measure msmtp sh -c "msmtp --host=127.0.0.1 --port=$PORT --auth=off --tls=off -f ada@example.com bob@example.net < '$WORK/built.eml'"
} > "$WORK/results"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); $N runs each, medians"
echo "encoded message: $SIZE bytes"
printf '%-8s %10s %14s %12s\n' tool wall_s peak_rss_MiB rss/message
while read -r name w m; do
  awk -v n="$name" -v w="$w" -v m="$m" -v s="$SIZE" 'BEGIN {printf "%-8s %10.3f %14.1f %12.2f\n", n, w, m/1024, m*1024/s}'
done < "$WORK/results"
awk '
  $1=="missive" {mi=$2} $1=="python" {py=$2} $1=="msmtp" {ms=$2}
  END {printf "missive/msmtp wall: %.2f   missive/python wall: %.2f\n", mi/ms, mi/py}' "$WORK/results"

if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/h.json" "$BIN --help" > /dev/null
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('startup (missive --help): median %.1f ms' % (r['median']*1000))" "$WORK/h.json"
fi
