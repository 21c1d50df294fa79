#!/bin/sh
# What `cmake --build <dir> --target bench` runs: the training and loader benchmarks, the
# compile cost (per TU, and the edit-run rebuild), and the Python baseline. Exits nonzero when a benchmark fails (e.g. volt and
# the hand-written loop ended with different weights).
# Usage: run.sh <training bench> <loader bench> <compile_commands.json or ""> <work dir> [args]
set -u
training=$1 loader=$2 commands=$3 work=$4
args=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
status=0
# shellcheck disable=SC2086
"$training" $args > training.out 2>&1 || status=1
cat training.out
# shellcheck disable=SC2086
"$loader" $args || status=1
# Precision policies (bf16-mixed against fp32), built beside the training bench.
# shellcheck disable=SC2086
"$(dirname "$training")/volt_bench_precision" $args || status=1
# volt::DDP: 2 processes x 1 thread against 1 process x 2 threads (Gloo, this machine's cores).
# shellcheck disable=SC2086
"$(dirname "$training")/volt_bench_ddp" $args || status=1
if [ "${VOLT_BENCH_SKIP_COMPILE:-0}" = 1 ]; then
  echo "bench compile skipped: VOLT_BENCH_SKIP_COMPILE=1"
else
  sh "$here/compile_cost.sh" "$commands" "$work" || status=1
  sh "$here/compile_cost_rebuild.sh" "$work/rebuild" || status=1
fi
# Debian's python3-torch is the same libtorch 1.13.1; another python3 on PATH may lack torch.
py=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch' > /dev/null 2>&1; then py=$candidate; break; fi
done
if [ -n "$py" ]; then
  hand=$(sed -n 's/^bench mlp\/hand us_per_step=\([0-9.]*\).*/\1/p' training.out)
  "$py" "$here/python_baseline.py" "$hand" || status=1
else
  echo "bench mlp/python skipped: no python3 with torch (apt-get install python3-torch)"
fi
exit $status
