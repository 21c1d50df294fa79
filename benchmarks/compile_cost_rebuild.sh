#!/bin/sh
# The edit-run cycle: the wall time of a whole `cmake --build` after touching only the user's
# model file, in small CMake projects that use volt through add_subdirectory, as a user's do.
# Two layouts, each in three projects:
#   one file (compile_cost/*_fashion_mnist.cpp is model.cpp: the model, the loop or Trainer, main)
#     hand_written      compile_cost/hand_fashion_mnist.cpp, <torch/torch.h> precompiled
#     volt_header_only  compile_cost/volt_fashion_mnist.cpp with volt::volt, volt_target_precompile_headers
#     volt_fast         the same file with volt::compiled, volt_target_precompile_headers
#   two files (compile_cost/split/: model.hpp declares the model, model.cpp defines it, train.cpp
#   holds the loop or the Trainer and main; touching model.cpp recompiles model.cpp only)
#     hand_written_split, volt_header_only_split, volt_fast_split: the same three, so split
# Each is its own project (own build tree, Release), built once first; then, alternating the order,
# each round touches model.cpp of each project and times `cmake --build` of it.
# Prints the median wall and CPU seconds and the medians of the per-round ratios to the
# hand-written project of the same layout.
# Usage: compile_cost_rebuild.sh <work dir>    (VOLT_REBUILD_REPS, default 3;
#   VOLT_REBUILD_LAYOUTS, default "one_file two_files"; CMAKE_PREFIX_PATH passes through)
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

# project <name> <how it links> <source:destination>...: writes <work>/<name>/CMakeLists.txt and
# copies the sources in (model.cpp is the file each round touches)
project() {
  name=$1 link=$2
  shift 2
  mkdir -p "$work/$name"
  for pair in "$@"; do cp "${pair%%:*}" "$work/$name/${pair##*:}"; done
  cat > "$work/$name/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(rebuild_$name LANGUAGES CXX)
$link
EOF
}
hand_link() {  # <sources>
  printf '%s\n' "find_package(Torch REQUIRED)" "add_executable(train $1)" \
    "target_compile_features(train PRIVATE cxx_std_20)" "target_link_libraries(train PRIVATE \${TORCH_LIBRARIES})" \
    "target_precompile_headers(train PRIVATE <torch/torch.h>)"
}
volt_link() {  # <sources> <target>
  printf '%s\n' "add_subdirectory(\"$volt_src\" volt)" "add_executable(train $1)" \
    "target_link_libraries(train PRIVATE $2)" "volt_target_precompile_headers(train)"
}
split="$here/compile_cost/split"
layouts=${VOLT_REBUILD_LAYOUTS:-one_file two_files}
names=
for layout in $layouts; do
  case $layout in
    one_file)
      project hand_written "$(hand_link model.cpp)" "$here/compile_cost/hand_fashion_mnist.cpp:model.cpp"
      project volt_header_only "$(volt_link model.cpp volt::volt)" "$here/compile_cost/volt_fashion_mnist.cpp:model.cpp"
      project volt_fast "$(volt_link model.cpp volt::compiled)" "$here/compile_cost/volt_fashion_mnist.cpp:model.cpp"
      names="$names hand_written volt_header_only volt_fast" ;;
    two_files)
      project hand_written_split "$(hand_link 'model.cpp train.cpp')" "$split/hand_model.hpp:model.hpp" \
        "$split/hand_model.cpp:model.cpp" "$split/hand_train.cpp:train.cpp"
      for mode in header_only fast; do
        target=volt::volt
        [ "$mode" = fast ] && target=volt::compiled
        project "volt_${mode}_split" "$(volt_link 'model.cpp train.cpp' $target)" "$split/volt_model.hpp:model.hpp" \
          "$split/volt_model.cpp:model.cpp" "$split/volt_train.cpp:train.cpp"
      done
      names="$names hand_written_split volt_header_only_split volt_fast_split" ;;
    *) echo "bench rebuild FAIL: unknown layout $layout (one_file, two_files)" >&2; exit 1 ;;
  esac
done

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
reversed=$(for n in $names; do echo "$n"; done | tac | tr '\n' ' ')
i=0
: > "$work/results"
while [ "$i" -lt "$reps" ]; do
  order=$names
  [ $((i % 2)) -eq 1 ] && order=$reversed
  for n in $order; do echo "$i $n $(rebuild "$n")" >> "$work/results"; done
  i=$((i + 1))
done
"$py" - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}  # (round, name) -> (wall, cpu)
for r, name, wall, cpu in rows:
    by[(r, name)] = (float(wall), float(cpu))
names = list(dict.fromkeys(name for _, name, _, _ in rows))
rounds = sorted({r for r, _, _, _ in rows})
for name in names:
    base = "hand_written_split" if name.endswith("_split") else "hand_written"
    walls = [by[(r, name)][0] for r in rounds]
    cpus = [by[(r, name)][1] for r in rounds]
    ratio = [by[(r, name)][0] / by[(r, base)][0] for r in rounds]
    cpu_ratio = [by[(r, name)][1] / by[(r, base)][1] for r in rounds]
    print(f"bench rebuild/{name} wall_s={statistics.median(walls):.1f} cpu_s={statistics.median(cpus):.1f} "
          f"ratio={statistics.median(ratio):.2f} cpu_ratio={statistics.median(cpu_ratio):.2f}")
PY
