#!/bin/sh
# Compile cost of volt: wall time, CPU time and peak memory (GNU time -v) to compile three TUs:
#   hand_written         compile_cost/hand_fashion_mnist.cpp: the training with <torch/torch.h> alone
#   volt_same_work       compile_cost/volt_fashion_mnist.cpp: that same work written with volt
#   fashion_mnist_example examples/fashion_mnist/main.cpp: the full example (CLI, TensorBoard, ...)
# All use the example's exact compile command from the build's compile_commands.json, minus its
# precompiled header, so flags are the same.
# Usage: compile_cost.sh <compile_commands.json> <work dir>
set -eu
commands=${1:-}
work=${2:-compile_cost}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$commands" ] || [ ! -f "$commands" ]; then
  echo "bench compile skipped: no compile_commands.json with the example (configure with VOLT_BUILD_EXAMPLES=ON)"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench compile skipped: /usr/bin/time is missing (apt-get install time)"
  exit 0
fi
py=$(command -v python3 || true)
if [ -z "$py" ]; then
  echo "bench compile skipped: python3 is needed to read compile_commands.json"
  exit 0
fi
mkdir -p "$work"
# The example's command, without -include <pch> and -Winvalid-pch, as a shell word list.
cmd=$("$py" - "$commands" <<'PY'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith("examples/fashion_mnist/main.cpp"):
        args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
        out, skip = [], False
        for a in args:
            if skip: skip = False; continue
            if a == "-include": skip = True; continue
            if a in ("-Winvalid-pch",) or a.startswith("-include"): continue
            if a in ("-o", "-c"): skip = True; continue
            out.append(a)
        print(shlex.join(out))
        break
PY
)
if [ -z "$cmd" ]; then
  echo "bench compile skipped: the example is not in $commands"
  exit 0
fi
example=$(cd "$here/../examples/fashion_mnist" && pwd)/main.cpp
hand="$here/compile_cost/hand_fashion_mnist.cpp"
same="$here/compile_cost/volt_fashion_mnist.cpp"

# measure <name> <source>: prints wall seconds and peak RSS in MiB
measure() {
  log="$work/$1.time"
  # shellcheck disable=SC2086
  if ! /usr/bin/time -v -o "$log" sh -c "$cmd -c '$2' -o '$work/$1.o'"; then
    echo "bench compile FAIL: $1 did not compile" >&2
    exit 1
  fi
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
         awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  # CPU time (user + sys) as well: on a shared machine it varies far less than wall time.
  cpu=$(sed -n 's/.*User time (seconds): //p; s/.*System time (seconds): //p' "$log" | awk '{ s += $1 } END { print s }')
  echo "$wall $((rss / 1024)) $cpu"
}

# Alternate the order (the machine is shared); report the median of each and of the per-round
# ratios. Each results line: hand wall rss cpu, same-work wall rss cpu, example wall rss cpu.
reps=${VOLT_COMPILE_REPS:-3}
i=0
: > "$work/results"
while [ "$i" -lt "$reps" ]; do
  if [ $((i % 2)) -eq 0 ]; then
    h=$(measure hand "$hand"); s=$(measure same "$same"); e=$(measure example "$example")
  else
    e=$(measure example "$example"); s=$(measure same "$same"); h=$(measure hand "$hand")
  fi
  echo "$h $s $e" >> "$work/results"
  i=$((i + 1))
done
"$py" - "$work/results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in rows)
ratio = lambda a, b: statistics.median(r[a] / r[b] for r in rows)
print(f"bench compile/hand_written wall_s={med(0):.1f} cpu_s={med(2):.1f} peak_rss_mib={med(1):.0f} ratio=1.00")
for name, at in (("volt_same_work", 3), ("fashion_mnist_example", 6)):
    print(f"bench compile/{name} wall_s={med(at):.1f} cpu_s={med(at + 2):.1f} peak_rss_mib={med(at + 1):.0f} "
          f"ratio={ratio(at, 0):.2f} cpu_ratio={ratio(at + 2, 2):.2f} rss_ratio={ratio(at + 1, 1):.2f}")
PY
