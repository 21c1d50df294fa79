#!/bin/sh
# Compile cost of volt: wall time, CPU time and peak memory (GNU time -v) to compile three TUs:
#   hand_written         compile_cost/hand_fashion_mnist.cpp: the training with <torch/torch.h> alone
#   volt_same_work       compile_cost/volt_fashion_mnist.cpp: that same work written with volt
#   fashion_mnist_example examples/fashion_mnist/main.cpp: the full example (CLI, TensorBoard, ...)
#   headers_torch, headers_volt_fast  a TU with only #include <torch/torch.h>, and one with
#                        <volt/volt.hpp> after it in fast mode: what including volt costs a TU that
#                        uses none of it (parsing, and the templates its inline code instantiates)
# the two volt TUs each in both modes: header-only (no VOLT_SEPARATE_COMPILATION) and, as *_fast,
# the separately compiled mode (-DVOLT_SEPARATE_COMPILATION, as volt::compiled gives), and once
# volt_compiled_library: src/*.cpp, the TUs a project in fast mode compiles once (their CPU times
# summed, the largest peak memory).
# All use the example's exact compile command from the build's compile_commands.json, minus its
# precompiled header and VOLT_SEPARATE_COMPILATION, so flags are the same.
# VOLT_COMPILE_BASELINE=<include dir of another volt> adds volt_same_work_baseline: the same-work
# TU header-only against those headers (e.g. `git archive <commit> include | tar -x -C /tmp/old`),
# to check that a change does not make header-only mode slower.
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
            if a in ("-Winvalid-pch", "-Werror=invalid-pch", "-DVOLT_SEPARATE_COMPILATION") or a.startswith("-include"): continue
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

# measure <name> <source> [extra flags]: prints wall seconds, peak RSS in MiB and CPU seconds
measure() {
  log="$work/$1.time"
  # shellcheck disable=SC2086
  if ! /usr/bin/time -v -o "$log" sh -c "$cmd ${3:-} -c '$2' -o '$work/$1.o'"; then
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

fast=-DVOLT_SEPARATE_COMPILATION
baseline=${VOLT_COMPILE_BASELINE:-}
# The baseline's include directory goes first, so its <volt/...> headers are found, not ours.
[ -n "$baseline" ] && baseline="-I$baseline"
measure_baseline() {
  if [ -n "$baseline" ]; then
    cmd_saved=$cmd; cmd=$(echo "$cmd" | sed "s|^\([^ ]*\) |\1 $baseline |"); measure same_baseline "$same"; cmd=$cmd_saved
  else
    echo "0 0 0"
  fi
}

# Alternate the order (the machine is shared and its speed drifts by 10-20% within minutes):
# each round measures the hand-written TU twice, right before and right after the two fast TUs
# (the targets), and the header-only TUs next to the second; odd rounds run in reverse order.
# A fast TU's ratio is to the mean of the two hand-written times around it, a header-only TU's
# to the one next to it; the medians of these per-round ratios are reported. Each results line:
# wall rss cpu of hand (the mean of both), same-work, same-work fast, example, example fast,
# baseline, then of the first and the second hand-written measurement.
reps=${VOLT_COMPILE_REPS:-3}
i=0
: > "$work/results"
while [ "$i" -lt "$reps" ]; do
  if [ $((i % 2)) -eq 0 ]; then
    h1=$(measure hand "$hand"); sf=$(measure same_fast "$same" "$fast"); ef=$(measure example_fast "$example" "$fast")
    h2=$(measure hand "$hand"); s=$(measure same "$same"); e=$(measure example "$example"); b=$(measure_baseline)
  else
    b=$(measure_baseline); e=$(measure example "$example"); s=$(measure same "$same"); h2=$(measure hand "$hand")
    ef=$(measure example_fast "$example" "$fast"); sf=$(measure same_fast "$same" "$fast"); h1=$(measure hand "$hand")
  fi
  h=$(echo "$h1 $h2" | awk '{ print ($1 + $4) / 2, ($2 + $5) / 2, ($3 + $6) / 2 }')
  echo "$h $s $sf $e $ef $b $h1 $h2" >> "$work/results"
  i=$((i + 1))
done
# Once: what the fast mode adds to a project (its TUs, rebuilt only when volt changes).
lib="0 0 0"
for library in "$here"/../src/*.cpp; do
  one=$(measure "library_$(basename "$library" .cpp)" "$library" "$fast")
  lib=$(echo "$lib $one" | awk '{ print $1 + $4, ($2 > $5 ? $2 : $5), $3 + $6 }')
done
# Once each, paired: the cost of including the headers alone.
printf '#include <torch/torch.h>\n' > "$work/headers_torch.cpp"
printf '#include <torch/torch.h>\n#include <volt/volt.hpp>\n' > "$work/headers_volt.cpp"
headers_torch=$(measure headers_torch "$work/headers_torch.cpp")
headers_volt=$(measure headers_volt_fast "$work/headers_volt.cpp" "$fast")
"$py" - "$work/results" "$lib" "$headers_torch" "$headers_volt" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in rows)
ratio = lambda a, b: statistics.median(r[a] / r[b] for r in rows)
# Fast TUs against the mean of the hand-written TU around them (columns 0-2), header-only TUs
# against the second hand-written measurement (columns 21-23), which they follow or precede.
print(f"bench compile/hand_written wall_s={med(0):.1f} cpu_s={med(2):.1f} peak_rss_mib={med(1):.0f} ratio=1.00 "
      f"(per round: " + ", ".join(f"{r[20]:.1f}+{r[23]:.1f}" for r in rows) + " CPU s before+after the fast TUs)")
for name, at, hand in (("volt_same_work", 3, 21), ("volt_same_work_fast", 6, 0), ("fashion_mnist_example", 9, 21),
                       ("fashion_mnist_example_fast", 12, 0)):
    print(f"bench compile/{name} wall_s={med(at):.1f} cpu_s={med(at + 2):.1f} peak_rss_mib={med(at + 1):.0f} "
          f"ratio={ratio(at, hand):.2f} cpu_ratio={ratio(at + 2, hand + 2):.2f} rss_ratio={ratio(at + 1, hand + 1):.2f} "
          f"(per round cpu: " + ", ".join(f"{r[at + 2] / r[hand + 2]:.2f}" for r in rows) + ")")
if rows[0][15] > 0:
    print(f"bench compile/volt_same_work_baseline wall_s={med(15):.1f} cpu_s={med(17):.1f} "
          f"peak_rss_mib={med(16):.0f} ratio={ratio(15, 21):.2f} cpu_ratio={ratio(17, 23):.2f} "
          f"rss_ratio={ratio(16, 22):.2f} header_only_cpu_vs_baseline={ratio(5, 17):.3f}")
wall, rss, cpu = map(float, sys.argv[2].split())
print(f"bench compile/volt_compiled_library wall_s={wall:.1f} cpu_s={cpu:.1f} peak_rss_mib={rss:.0f} "
      f"(once per project, fast mode; src/*.cpp summed, the largest peak)")
(tw, tr, tc), (vw, vr, vc) = (map(float, a.split()) for a in sys.argv[3:5])
print(f"bench compile/headers_torch wall_s={tw:.1f} cpu_s={tc:.1f} peak_rss_mib={tr:.0f} (only <torch/torch.h>)")
print(f"bench compile/headers_volt_fast wall_s={vw:.1f} cpu_s={vc:.1f} peak_rss_mib={vr:.0f} "
      f"cpu_over_torch_s={vc - tc:.1f} rss_over_torch_mib={vr - tr:.0f} (+ <volt/volt.hpp>, nothing used)")
PY
