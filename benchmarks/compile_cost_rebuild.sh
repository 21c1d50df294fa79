#!/bin/sh
# The edit-run cycle: the wall time of a whole `cmake --build` after touching only the user's
# model file, in a small CMake project that uses volt through add_subdirectory, as a user's does:
#   hand_written   compile_cost/hand_fashion_mnist.cpp, <torch/torch.h> precompiled
#   volt_header_only compile_cost/volt_fashion_mnist.cpp with volt::volt, volt_target_precompile_headers
#   volt_fast      the same file with volt::compiled, volt_target_precompile_headers
# Each is its own project (own build tree, Release), built once first; then, alternating the order,
# each round touches the one source file of each project and times `cmake --build` of it.
# Prints the median wall and CPU seconds and the medians of the per-round ratios to hand_written.
# Usage: compile_cost_rebuild.sh <work dir>    (VOLT_REBUILD_REPS, default 3; CMAKE_PREFIX_PATH passes through)
set -eu
work=${1:-compile_cost_rebuild}
here=$(cd "$(dirname "$0")" && pwd)
volt_src=$(cd "$here/.." && pwd)
py=$(command -v python3 || true)
if [ -z "$py" ]; then
  echo "bench rebuild skipped: python3 is needed"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench rebuild skipped: /usr/bin/time is missing (apt-get install time)"
  exit 0
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

# project <name> <source> <how it links>: writes <work>/<name>/{CMakeLists.txt,model.cpp}
project() {
  mkdir -p "$work/$1"
  cp "$2" "$work/$1/model.cpp"
  cat > "$work/$1/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(rebuild_$1 LANGUAGES CXX)
$3
EOF
}
project hand_written "$here/compile_cost/hand_fashion_mnist.cpp" '
find_package(Torch REQUIRED)
add_executable(train model.cpp)
target_compile_features(train PRIVATE cxx_std_20)
target_link_libraries(train PRIVATE ${TORCH_LIBRARIES})
target_precompile_headers(train PRIVATE <torch/torch.h>)'
for mode in header_only fast; do
  target=volt::volt
  [ "$mode" = fast ] && target=volt::compiled
  project "volt_$mode" "$here/compile_cost/volt_fashion_mnist.cpp" "
add_subdirectory(\"$volt_src\" volt)
add_executable(train model.cpp)
target_link_libraries(train PRIVATE $target)
volt_target_precompile_headers(train)"
done

names="hand_written volt_header_only volt_fast"
for n in $names; do
  if [ ! -f "$work/$n/build/CMakeCache.txt" ]; then
    cmake -S "$work/$n" -B "$work/$n/build" -DCMAKE_BUILD_TYPE=Release > "$work/$n/configure.log" 2>&1 ||
      { echo "bench rebuild FAIL: configuring $n (see $work/$n/configure.log)" >&2; exit 1; }
  fi
  cmake --build "$work/$n/build" > "$work/$n/build.log" 2>&1 ||
    { echo "bench rebuild FAIL: building $n (see $work/$n/build.log)" >&2; exit 1; }
done

# rebuild <name>: touch the model file, time the whole build; prints wall and CPU seconds (user +
# system of cmake, make, the compiler and the linker: steadier than wall time on a shared machine)
rebuild() {
  touch "$work/$1/model.cpp"
  /usr/bin/time -f "%e %U %S" -o "$work/$1/rebuild.time" cmake --build "$work/$1/build" > "$work/$1/rebuild.log" 2>&1 ||
    { echo "bench rebuild FAIL: rebuilding $1 (see $work/$1/rebuild.log)" >&2; exit 1; }
  awk '{ print $1, $2 + $3 }' "$work/$1/rebuild.time"
}

reps=${VOLT_REBUILD_REPS:-3}
i=0
: > "$work/results"
while [ "$i" -lt "$reps" ]; do
  if [ $((i % 2)) -eq 0 ]; then
    h=$(rebuild hand_written); o=$(rebuild volt_header_only); f=$(rebuild volt_fast)
  else
    f=$(rebuild volt_fast); o=$(rebuild volt_header_only); h=$(rebuild hand_written)
  fi
  echo "$h $o $f" >> "$work/results"
  i=$((i + 1))
done
"$py" - "$work/results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
for k, name in enumerate(("hand_written", "volt_header_only", "volt_fast")):
    w, c = 2 * k, 2 * k + 1
    print(f"bench rebuild/{name} wall_s={statistics.median(r[w] for r in rows):.1f} "
          f"cpu_s={statistics.median(r[c] for r in rows):.1f} "
          f"ratio={statistics.median(r[w] / r[0] for r in rows):.2f} "
          f"cpu_ratio={statistics.median(r[c] / r[1] for r in rows):.2f}")
PY
