#!/usr/bin/env bash
# `make bench` (issue 7 items 1, 2, 3, 9; issue 12 items 6, 7) and `make soak` (item 8):
# builds the benchmark programs, generates the payloads, runs the server on CPU 0 and the load on
# CPU 1 over TLS with keep-alive, and prints every figure against the issues' targets. A program,
# not a test: it fails only when it cannot measure, never because a target is missed.
#
# usage: bench/bench.sh [--soak] [--no-build]
#   --soak       run only the soak (1,000,000 requests with the payload mix; minutes)
#   --no-build   use the programs already built in $BENCH_DIR
#
# Settings (environment):
#   BENCH_DIR=build-bench     build folder; payloads, certificates and results go below it
#   BENCH_DURATION=10         seconds of each wrk run and of each open-loop run
#   BENCH_REPEAT=1            measure each payload's server figures this many times (medians)
#   BENCH_RATE=1000           open-loop rate (req/s) for every payload but se1m
#   BENCH_RATE_SE1M=20        open-loop rate for the ~1 MiB ServiceEntry (1,000/s is 10x its
#                             100 req/s target capacity: latency would only measure the queue)
#   BENCH_OPEN_CONNS=8        connections of the open-loop client
#   BENCH_PORT=auto           TLS port on 127.0.0.1 (auto: a free one in 20000-29999)
#   BENCH_PAYLOADS="service federation se100 se1m"
#   BENCH_PARTS="wrk open floor syscalls conns ready startup callgrind micro cluster audit"
#                             which parts
#   BENCH_CLUSTER_ARGS="20 0 1000 10000"   cluster: rounds, then member counts
#   BENCH_AUDIT_ARGS="10000 2000"   audit: members (and as many Services), admission requests
#   BENCH_MICRO_ARGS="--benchmark_min_time=0.2 --benchmark_repetitions=3"
#   BENCH_SOAK_REQUESTS=1000000  BENCH_SOAK_CONNS=16  BENCH_SOAK_MAX_SECONDS=1800
#   BENCH_SERVER_CPU=0  BENCH_LOAD_CPU=1
set -euo pipefail
cd "$(dirname "$0")/.."

soak_only=0 build=1
for arg in "$@"; do
  case "$arg" in
    --soak) soak_only=1 ;;
    --no-build) build=0 ;;
    -h | --help) sed -n 2,27p "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

BENCH_DIR=${BENCH_DIR:-build-bench}
DURATION=${BENCH_DURATION:-10}
REPEAT=${BENCH_REPEAT:-1}
RATE=${BENCH_RATE:-1000}
RATE_SE1M=${BENCH_RATE_SE1M:-20}
OPEN_CONNS=${BENCH_OPEN_CONNS:-8}
PORT=${BENCH_PORT:-auto}
PAYLOADS=${BENCH_PAYLOADS:-service federation se100 se1m}
PARTS=${BENCH_PARTS:-wrk open floor syscalls conns ready startup callgrind micro cluster audit}
CLUSTER_ARGS=${BENCH_CLUSTER_ARGS:-20 0 1000 10000}
AUDIT_ARGS=${BENCH_AUDIT_ARGS:-10000 2000}
MICRO_ARGS=${BENCH_MICRO_ARGS:---benchmark_min_time=0.2 --benchmark_repetitions=3}
SOAK_REQUESTS=${BENCH_SOAK_REQUESTS:-1000000}
SOAK_CONNS=${BENCH_SOAK_CONNS:-16}
SOAK_MAX_SECONDS=${BENCH_SOAK_MAX_SECONDS:-1800}
SCPU=${BENCH_SERVER_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
CONFIG=examples/config.yaml

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ "$PORT" = auto ]; then
  for _ in $(seq 50); do
    PORT=$((20000 + RANDOM % 10000))
    port_in_use "$PORT" || break
  done
fi

out=$BENCH_DIR/results
payload_dir=$BENCH_DIR/payloads
cert_dir=$BENCH_DIR/certs
bin=$BENCH_DIR/alliance-webhook
client=$BENCH_DIR/bench/aw_bench_client
results=$out/results.kv
has_part() { [[ " $PARTS " == *" $1 "* ]]; }
say() { printf '%s\n' "$*"; }
kv() { printf '%s %s\n' "$1" "$2" >>"$results"; }

# ---- build, payloads, certificates ----------------------------------------------------------
if [ "$build" = 1 ]; then
  scripts/ensure-packages.sh scripts/build-packages.txt bench/packages.txt
  # Release as in the image (make build BUILD_TYPE=Release), plus -g for the profile's symbols.
  cmake -S . -B "$BENCH_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -g" \
    -DAW_BENCH=ON -DBUILD_TESTING=ON >/dev/null  # testing: the cluster part uses the fake API server
  cmake --build "$BENCH_DIR" -j"$(nproc)" --target aw_bench
fi
mkdir -p "$out" "$payload_dir"
"$BENCH_DIR/bench/aw_bench_gen" "$payload_dir"
certs/make-certs.sh --out "$cert_dir" --namespace alliance-webhook 2>/dev/null
: >"$results"
rm -f "$out"/micro.json "$out"/callgrind.*.out "$out"/profile.*.txt "$out"/*.wrk.txt

payload_field() {  # NAME FIELD(2=path 3=file 4=bytes 5=description)
  awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$payload_dir/payloads.tsv"
}

serve_args=(serve --config "$CONFIG" --listen "127.0.0.1:$PORT" --tls-cert "$cert_dir/tls.crt"
  --tls-key "$cert_dir/tls.key")

# ---- machine state ---------------------------------------------------------------------------
# Busy share of each CPU over one second, and the processes that used the most CPU meanwhile.
cpu_busy() {  # prints "cpu0 N% cpu1 N%"
  local a b
  a=$(grep '^cpu[0-9]' /proc/stat)
  sleep 1
  b=$(grep '^cpu[0-9]' /proc/stat)
  paste <(echo "$a") <(echo "$b") | awk '{
    n = (NF / 2); busy0 = 0; tot0 = 0; busy1 = 0; tot1 = 0
    for (i = 2; i <= n; i++) { tot0 += $i; tot1 += $(i + n); if (i != 5 && i != 6) { busy0 += $i; busy1 += $(i + n) } }
    printf "%s %.0f%% ", $1, 100 * (busy1 - busy0) / ((tot1 - tot0) > 0 ? (tot1 - tot0) : 1) }'
  echo
}
others() {
  top -b -n2 -d1 -w 200 2>/dev/null | awk '/^top -/ { frame++ } frame == 2 && /^ *[0-9]+ / && $9 + 0 >= 2 { printf "  %5s%% %s (pid %s)\n", $9, $12, $1 }' | head -8
}
machine_state() {
  say "load average: $(cut -d' ' -f1-3 /proc/loadavg); busy over 1 s: $(cpu_busy)"
  local o
  o=$(others)
  if [ -n "$o" ]; then say "processes using >= 2% CPU meanwhile:"; say "$o"; else say "no other process used >= 2% CPU"; fi
}

# /proc/stat CPU counters of one CPU: "busy total" in ticks.
cpu_ticks() { awk -v c="cpu$1" '$1 == c { b = 0; t = 0; for (i = 2; i <= NF; i++) { t += $i; if (i != 5 && i != 6) b += $i } print b, t }' /proc/stat; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
proc_sys_ticks() { awk '{ print $15 }' "/proc/$1/stat"; }
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# Resets VmHWM to the current RSS, so each phase gets its own peak (Linux >= 4.0).
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
clk_tck=$(getconf CLK_TCK)


# ---- the server ---------------------------------------------------------------------------
server_pid=""
start_server() {  # extra serve flags...
  if port_in_use "$PORT"; then
    echo "bench.sh: port $PORT is in use; set BENCH_PORT" >&2
    exit 1
  fi
  taskset -c "$SCPU" "$bin" "${serve_args[@]}" "$@" >/dev/null 2>&1 &
  server_pid=$!
  if ! "$client" wait-ready --port "$PORT" --ca "$cert_dir/ca.crt" --timeout-ms 10000 >/dev/null; then
    echo "bench.sh: the server did not get ready; its output:" >&2
    stop_server
    timeout 2 "$bin" "${serve_args[@]}" "$@" >&2 || true
    exit 1
  fi
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

# One wrk run against the running server; records rps, errors, CPU per request and utilisation.
run_wrk() {  # KEY CONNS PATH FILE
  local key=$1 conns=$2 path=$3 file=$4 cpu0 sys0 c0 b0 t0 l0 cpu1 sys1 b1 t1 l1 wrk_out
  cpu0=$(proc_ticks "$server_pid")
  sys0=$(proc_sys_ticks "$server_pid")
  read -r b0 t0 <<<"$(cpu_ticks "$SCPU")"
  read -r l0 _ <<<"$(cpu_ticks "$LCPU")"
  wrk_out=$(taskset -c "$LCPU" wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s -s bench/post.lua \
    "https://127.0.0.1:$PORT$path" -- ${file:+"$file"})
  cpu1=$(proc_ticks "$server_pid")
  sys1=$(proc_sys_ticks "$server_pid")
  read -r b1 t1 <<<"$(cpu_ticks "$SCPU")"
  read -r l1 _ <<<"$(cpu_ticks "$LCPU")"
  c0=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }')
  echo "$wrk_out" >"$out/$key.wrk.txt"
  awk -v k="$key" -v s0="$cpu0" -v s1="$cpu1" -v hz="$clk_tck" -v b0="$b0" -v b1="$b1" -v span="$c0" \
    -v l0="$l0" -v l1="$l1" -v y0="$sys0" -v y1="$sys1" '
    $1 == "AWBENCH" { v[$2] = $3 }
    END {
      rps = v["requests"] / (v["duration_us"] / 1e6)
      printf "%s.rps %.1f\n%s.errors %d\n%s.timeouts %d\n", k, rps, k, v["errors"], k, v["timeouts"]
      printf "%s.closed_p50_ms %s\n%s.closed_p99_ms %s\n", k, v["p50_ms"], k, v["p99_ms"]
      if (v["requests"] > 0) {
        printf "%s.cpu_us %.2f\n", k, (s1 - s0) / hz * 1e6 / v["requests"]
        printf "%s.sys_us %.2f\n", k, (y1 - y0) / hz * 1e6 / v["requests"]
      }
      if (span > 0) {
        printf "%s.server_cpu_pct %.1f\n", k, 100 * (s1 - s0) / span
        printf "%s.cpu%s_busy_pct %.1f\n", k, "S", 100 * (b1 - b0) / span
        printf "%s.cpu%s_busy_pct %.1f\n", k, "L", 100 * (l1 - l0) / span
      }
    }' <<<"$wrk_out" >>"$results"
}

# Top entries of a callgrind_annotate listing: the stack roots above main (100%) dropped, template
# arguments and the nlohmann namespace shortened, each function once.
shorten_profile() {  # FILE COUNT
  perl -ne '
    next unless /^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$/;
    my ($ir, $pct, $fn) = ($1, $2, $3);
    next if $fn =~ /PROGRAM TOTALS/;
    my $root = $pct >= 99.95;
    $fn =~ s/ \[[^\]]*\]$//;                      # the object file
    $fn =~ s/^[^:]*?:(?=[^:])//;                     # the source file
    1 while $fn =~ s/<[^<>]*>//g;                    # template arguments
    $fn =~ s/nlohmann::json_abi_v3_11_2::/nlohmann::/g;
    $fn =~ s/\(anonymous namespace\)::/~::/g;
    $fn =~ s/\((?:[^()]|\([^()]*\))*\)( const)?(\x272)?$//;  # parameters
    next if $seen{$fn}++ || $root;
    printf "    %15s %6.2f%%  %s\n", $ir, $pct, substr($fn, 0, 130);
    exit if ++$n >= '"$2"';
  ' "$1"
}

last() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$results"; }

# ---- soak --------------------------------------------------------------------------------------
run_soak() {
  say ""
  say "== soak: $SOAK_REQUESTS requests, $SOAK_CONNS keep-alive connections, mix service 50% /"
  say "   federation 30% / se100 19.9% / se1m 0.1% (server CPU $SCPU, load CPU $LCPU)"
  start_server
  local specs=()
  specs+=(--payload "service=/validate=$payload_dir/service.json=500")
  specs+=(--payload "federation=/validate=$payload_dir/federation.json=300")
  specs+=(--payload "se100=/mutate=$payload_dir/se100.json=199")
  specs+=(--payload "se1m=/mutate=$payload_dir/se1m.json=1")
  local cmd=(taskset -c "$LCPU" "$client" soak --port "$PORT" --ca "$cert_dir/ca.crt" "${specs[@]}"
    --requests "$SOAK_REQUESTS" --checkpoint 10000 --connections "$SOAK_CONNS" --pid "$server_pid"
    --max-seconds "$SOAK_MAX_SECONDS")
  say "\$ ${cmd[*]}"
  "${cmd[@]}" | sed 's/^/soak./' | tee -a "$results" || true
  stop_server
}

say "alliance-webhook bench  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git status --porcelain -- webhook rules 2>/dev/null)" ] && echo ' (+ uncommitted changes in webhook/ rules/)')"
say "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(uname -r)"
say "build: $BENCH_DIR, Release (-O3 -g), $(c++ --version | head -1)"
say "server: taskset -c $SCPU $bin ${serve_args[*]} (log: info, one line per admission, to /dev/null)"
say "load:   taskset -c $LCPU; wrk 1 thread; open loop $OPEN_CONNS connections; ${DURATION}s runs; repeat $REPEAT"
machine_state

if [ "$soak_only" = 1 ]; then
  run_soak
  "$BENCH_DIR/bench/aw_bench_report" "$results"
  exit 0
fi

# ---- payloads ----------------------------------------------------------------------------------
say ""
say "== payloads ($payload_dir)"
for p in $PAYLOADS; do
  printf '  %-11s %-9s %9s bytes  %s\n' "$p" "$(payload_field "$p" 2)" "$(payload_field "$p" 4)" "$(payload_field "$p" 5)"
  kv "$p.bytes" "$(payload_field "$p" 4)"
done

# ---- per payload: server figures -------------------------------------------------------------
if has_part wrk || has_part open; then
  for p in $PAYLOADS; do
    path=$(payload_field "$p" 2)
    file=$(payload_field "$p" 3)
    rate=$RATE
    [ "$p" = se1m ] && rate=$RATE_SE1M
    say ""
    say "== $p -> $path"
    for r in $(seq "$REPEAT"); do
      start_server
      sleep 0.5
      kv "$p.idle_rss_kib" "$(status_kib "$server_pid" VmRSS)"
      kv "$p.idle_rss_anon_kib" "$(status_kib "$server_pid" RssAnon)"
      if [ "$r" = 1 ]; then
        answer=$("$client" once --port "$PORT" --ca "$cert_dir/ca.crt" --path "$path" --body "$file" | tail -1)
        say "  answer: $(echo "$answer" | head -c 300)$([ ${#answer} -gt 300 ] && echo ' ...')"
      fi
      if has_part wrk; then
        for c in 16 64; do
          reset_peak "$server_pid"
          run_wrk "$p.wrk$c" "$c" "$path" "$file"
          kv "$p.wrk$c.peak_rss_kib" "$(status_kib "$server_pid" VmHWM)"
          say "  run $r: wrk -c$c: $(last "$p.wrk$c.rps") req/s, $(last "$p.wrk$c.cpu_us") us CPU/req ($(last "$p.wrk$c.sys_us") us system), errors $(last "$p.wrk$c.errors") (timeouts $(last "$p.wrk$c.timeouts")), server had $(last "$p.wrk$c.server_cpu_pct")% of CPU $SCPU (CPU $SCPU busy $(last "$p.wrk$c.cpuS_busy_pct")%, CPU $LCPU busy $(last "$p.wrk$c.cpuL_busy_pct")%)"
        done
      fi
      if has_part open; then
        reset_peak "$server_pid"
        open_out=$(taskset -c "$LCPU" "$client" open --port "$PORT" --ca "$cert_dir/ca.crt" --path "$path" \
          --body "$file" --rate "$rate" --duration "$DURATION" --warmup 1 --connections "$OPEN_CONNS" \
          --pid "$server_pid" || true)
        awk -v k="$p.open." '{ print k $0 }' <<<"$open_out" >>"$results"
        # errors + late-unsent requests in one figure
        kv "$p.open.failed" "$(echo "$open_out" | awk '$1 == "errors" || $1 == "missed" { s += $2 } END { print s + 0 }')"
        say "  run $r: open loop $rate req/s: p50 $(last "$p.open.p50_ms") ms, p99 $(last "$p.open.p99_ms") ms, p99.9 $(last "$p.open.p999_ms") ms, max $(last "$p.open.max_ms") ms, $(last "$p.open.server_cpu_us_per_req") us CPU/req, errors+unsent $(last "$p.open.failed")"
      fi
      kv "$p.open.peak_rss_kib" "$(status_kib "$server_pid" VmHWM)"
      sleep 1
      kv "$p.after_rss_kib" "$(status_kib "$server_pid" VmRSS)"
      say "  run $r: RSS idle $(last "$p.idle_rss_kib") KiB (anonymous $(last "$p.idle_rss_anon_kib") KiB, the rest shared-library pages); peak (VmHWM) wrk -c16 $(last "$p.wrk16.peak_rss_kib") KiB, wrk -c64 $(last "$p.wrk64.peak_rss_kib") KiB, open loop $(last "$p.open.peak_rss_kib") KiB; RSS 1 s after the load $(last "$p.after_rss_kib") KiB"
      stop_server
    done
  done

  # The per-admission log line: the Service payload again with --log-level warn.
  if has_part wrk && [[ " $PAYLOADS " == *" service "* ]]; then
    say ""
    say "== service -> /validate with --log-level warn (no per-admission log line)"
    for r in $(seq "$REPEAT"); do
      start_server --log-level warn
      run_wrk service_warnlog.wrk16 16 /validate "$payload_dir/service.json"
      say "  run $r: wrk -c16: $(last service_warnlog.wrk16.rps) req/s, $(last service_warnlog.wrk16.cpu_us) us CPU/req (info: $(last service.wrk16.rps) req/s, $(last service.wrk16.cpu_us) us)"
      stop_server
    done
  fi
fi

# ---- the floor: TLS + HTTP alone (GET /healthz, no JSON) -----------------------------------------
# With the payloads' wrk runs always: the report divides each payload's CPU per request by it, so
# both come from this run, with the same server flags, wrk settings, duration and repeats.
if has_part floor || has_part wrk; then
  say ""
  say "== floor: GET /healthz over TLS keep-alive (cpp-httplib + OpenSSL, no JSON, no log line)"
  for r in $(seq "$REPEAT"); do
    start_server
    run_wrk floor.wrk16 16 /healthz ""
    say "  run $r: wrk -c16: $(last floor.wrk16.rps) req/s, $(last floor.wrk16.cpu_us) us CPU/req ($(last floor.wrk16.sys_us) us system), server had $(last floor.wrk16.server_cpu_pct)% of CPU $SCPU"
    stop_server
  done
  # The same request to cpp-httplib's own SSLServer (what the connection layer replaced).
  say "== floor: GET /healthz to cpp-httplib 0.11.4's own SSLServer (thread per connection), same certificate"
  for r in $(seq "$REPEAT"); do
    taskset -c "$SCPU" "$BENCH_DIR/bench/aw_bench_httplib_floor" "$PORT" "$cert_dir/tls.crt" "$cert_dir/tls.key" &
    server_pid=$!
    sleep 0.5
    run_wrk floor_httplib.wrk16 16 /healthz ""
    say "  run $r: wrk -c16: $(last floor_httplib.wrk16.rps) req/s, $(last floor_httplib.wrk16.cpu_us) us CPU/req ($(last floor_httplib.wrk16.sys_us) us system), server had $(last floor_httplib.wrk16.server_cpu_pct)% of CPU $SCPU"
    stop_server
  done
fi

# ---- system calls per request (strace -c on the server while wrk runs) -------------------------
if has_part syscalls; then
  say ""
  say "== system calls per request: strace -c -f on the server, wrk -c16 for 3 s (strace slows it: counts only)"
  for what in floor service; do
    path=/healthz file=""
    [ "$what" = service ] && path=/validate file=$(payload_field service 3)
    start_server
    strace -c -f -q -o "$out/strace.$what.txt" -p "$server_pid" &
    strace_pid=$!
    sleep 0.5
    wrk_out=$(taskset -c "$LCPU" wrk -t1 -c16 -d3s --timeout 5s -s bench/post.lua \
      "https://127.0.0.1:$PORT$path" -- ${file:+"$file"})
    kill -INT "$strace_pid" 2>/dev/null || true
    wait "$strace_pid" 2>/dev/null || true
    requests=$(awk '$1 == "AWBENCH" && $2 == "requests" { print $3 }' <<<"$wrk_out")
    calls=$(awk '$NF == "total" { print $4 }' "$out/strace.$what.txt")
    per=$(awk -v c="${calls:-0}" -v n="${requests:-0}" 'BEGIN { if (n > 0) printf "%.1f", c / n; else print "?" }')
    kv "$what.syscalls_per_req" "$per"
    say "  $what ($path): $per system calls per request ($calls in $requests requests); by call:"
    awk 'NR > 2 && $NF != "total" && $1 !~ /^-/ && NF >= 5 { printf "    %-14s %.2f\n", $NF, $4 / n }' n="${requests:-1}" "$out/strace.$what.txt" | head -8
    stop_server
  done
fi

# ---- more connections than workers -----------------------------------------------------------------
if has_part conns; then
  say ""
  say "== 64 keep-alive connections at 10 req/s each (federation, open loop, 5 s): does every one get answers?"
  start_server
  conns_out=$(taskset -c "$LCPU" "$client" open --port "$PORT" --ca "$cert_dir/ca.crt" --path /validate \
    --body "$payload_dir/federation.json" --rate 640 --duration 5 --warmup 1 --connections 64 || true)
  awk '{ print "conns64.open." $0 }' <<<"$conns_out" >>"$results"
  say "  p50 $(last conns64.open.p50_ms) ms, p99 $(last conns64.open.p99_ms) ms, max $(last conns64.open.max_ms) ms; connections with an answer over 1 s (or none): $(last conns64.open.connections_over_1s) of 64"
  stop_server
fi

# ---- start to ready ------------------------------------------------------------------------------
if has_part ready; then
  say ""
  say "== start to ready: exec on CPU $SCPU -> first 200 from GET /readyz over TLS, 5 runs"
  "$client" ready --runs 5 --cpu "$SCPU" --port "$PORT" --ca "$cert_dir/ca.crt" -- "$bin" "${serve_args[@]}" |
    sed 's/^/ready./' | tee -a "$results" | sed 's/^/  /'
fi

# ---- the binary and its start-up (issue 12 item 6) ------------------------------------------------
# Size on disk (as built, and stripped as in the image), the shared libraries it names and those
# mapped at idle, idle RSS, and exec -> first 200 from GET /readyz (median of 5).
if has_part startup; then
  say ""
  say "== binary and start-up: $bin"
  stripped=$out/alliance-webhook.stripped
  strip --strip-unneeded -o "$stripped" "$bin"
  kv startup.bytes "$(stat -c %s "$bin")"
  kv startup.stripped_bytes "$(stat -c %s "$stripped")"
  read -r text data bss _ < <(size "$stripped" | tail -1)
  kv startup.text_bytes "$text"
  needed=$(readelf -d "$bin" | awk '$2 == "(NEEDED)" { gsub(/[][]/, "", $5); print $5 }' | tr '\n' ' ')
  kv startup.needed "$(wc -w <<<"$needed")"
  kv startup.ldd "$(ldd "$bin" | grep -c '=>')"
  say "  size $(last startup.bytes) bytes, stripped $(last startup.stripped_bytes) (text $text, data $data, bss $bss)"
  say "  NEEDED ($(last startup.needed)): $needed"
  say "  ldd: $(last startup.ldd) libraries: $(ldd "$bin" | awk '$2 == "=>" { print $1 }' | tr '\n' ' ')"
  rss=() anon=() libs=()
  for _ in 1 2 3 4 5; do
    start_server
    sleep 0.5
    rss+=("$(status_kib "$server_pid" VmRSS)")
    anon+=("$(status_kib "$server_pid" RssAnon)")
    libs+=("$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$server_pid/maps" | sort -u | wc -l)")
    stop_server
  done
  for v in "${rss[@]}"; do kv startup.idle_rss_kib "$v"; done
  for v in "${anon[@]}"; do kv startup.idle_rss_anon_kib "$v"; done
  for v in "${libs[@]}"; do kv startup.libs_mapped "$v"; done
  say "  at idle, 5 starts: VmRSS ${rss[*]} KiB (anonymous ${anon[*]} KiB); shared objects mapped ${libs[*]}"
  "$client" ready --runs 5 --cpu "$SCPU" --port "$PORT" --ca "$cert_dir/ca.crt" -- "$bin" "${serve_args[@]}" |
    sed 's/^/startup.ready./' | tee -a "$results" | sed 's/^/  /'
fi

# ---- callgrind: instructions per request ------------------------------------------------------
if has_part callgrind; then
  say ""
  say "== callgrind: instructions per AdmissionHandler::handle (in-process, log level warn)"
  for p in $PAYLOADS; do
    endpoint=$(payload_field "$p" 2 | tr -d /)
    case "$p" in se1m) n=3 ;; se100) n=50 ;; *) n=200 ;; esac
    for level in warn info; do
      [ "$level" = info ] && [ "$p" != service ] && continue
      cg=$out/callgrind.$p.$level.out
      taskset -c "$LCPU" valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$cg" \
        "$BENCH_DIR/bench/aw_bench_driver" --config "$CONFIG" --body "$(payload_field "$p" 3)" \
        --endpoint "$endpoint" --n "$n" --log-level "$level" >"$out/driver.$p.$level.txt" 2>/dev/null
      total=$(awk '$1 == "totals:" || $1 == "summary:" { print $2; exit }' "$cg")
      ir=$((total / n))
      if [ "$level" = warn ]; then kv "$p.ir_per_req" "$ir"; else kv "$p.ir_per_req_log" "$ir"; fi
      printf '  %-11s %-5s %'"'"'15d instructions/request  (n=%d; %s)\n' "$p" "$level" "$ir" "$n" \
        "$(tr '\n' ' ' <"$out/driver.$p.$level.txt" | sed 's/wall_us_per_req [0-9.]* //')"
    done
  done
  # Linear growth, in instructions: the same ServiceEntry family at 100 / 1,000 / 10,000 endpoints.
  say ""
  say "  growth with object size (ServiceEntry, N endpoints, N/20 hosts, 4 ports -> /mutate):"
  while IFS=$'\t' read -r name _ file bytes _; do
    n=${name#se_n}
    reps=$((n >= 10000 ? 2 : n >= 1000 ? 5 : 20))
    cg=$out/callgrind.$name.out
    taskset -c "$LCPU" valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$cg" \
      "$BENCH_DIR/bench/aw_bench_driver" --config "$CONFIG" --body "$file" --endpoint mutate \
      --n "$reps" >/dev/null 2>&1
    total=$(awk '$1 == "totals:" || $1 == "summary:" { print $2; exit }' "$cg")
    kv "growth.ir.$n" "$((total / reps))"
    kv "growth.bytes.$n" "$bytes"
    printf '    N=%-6s %9s bytes %'"'"'15d instructions/request  %6.1f instructions/byte\n' "$n" "$bytes" \
      "$((total / reps))" "$(awk -v a="$total" -v r="$reps" -v b="$bytes" 'BEGIN { print a / r / b }')"
  done <"$payload_dir/growth.tsv"
  for p in service se1m; do
    cg=$out/callgrind.$p.warn.out
    [ -f "$cg" ] || continue
    for mode in inclusive self; do
      inclusive=no top=15
      [ $mode = inclusive ] && inclusive=yes top=18
      callgrind_annotate --inclusive=$inclusive --threshold=100 "$cg" \
        2>/dev/null >"$out/profile.$p.$mode.txt" || true
      say ""
      if [ $mode = inclusive ]; then
        say "  $p: where the instructions go, inclusive of callees (full: $out/profile.$p.$mode.txt)"
      else
        say "  $p: top functions by own instructions (full: $out/profile.$p.$mode.txt)"
      fi
      shorten_profile "$out/profile.$p.$mode.txt" "$top"
    done
  done
fi

# ---- micro-benchmarks -----------------------------------------------------------------------------
if has_part micro; then
  say ""
  say "== micro-benchmarks: taskset -c $LCPU aw_bench_micro $MICRO_ARGS"
  # shellcheck disable=SC2086
  taskset -c "$LCPU" "$BENCH_DIR/bench/aw_bench_micro" $MICRO_ARGS --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/micro.json" --benchmark_out_format=json 2>&1 | grep -v '^\*\*\*WARNING' |
    grep -Ev '_(mean|stddev|cv)( |$)' || true
fi

# ---- cluster state (issue 6) ---------------------------------------------------------------------
if has_part cluster; then
  say ""
  say "== cluster state: aw_bench_cluster $CLUSTER_ARGS (the server against the tests' fake API server)"
  # shellcheck disable=SC2086
  "$BENCH_DIR/bench/aw_bench_cluster" $CLUSTER_ARGS 2>&1 | tee "$out/cluster.txt"
fi

# ---- background audit (issue 13) ----------------------------------------------------------------
if has_part audit; then
  say ""
  say "== background audit: aw_bench_audit $AUDIT_ARGS (in process: scan time, memory, admission p99)"
  # shellcheck disable=SC2086
  "$BENCH_DIR/bench/aw_bench_audit" $AUDIT_ARGS 2>&1 | tee "$out/audit.txt"
fi

say ""
say "== machine state at the end"
machine_state
"$BENCH_DIR/bench/aw_bench_report" "$results" "$out/micro.json"
say "raw figures: $results"
