#!/usr/bin/env bash
# Builds the test guests in test/fixtures/src into test/fixtures/build/<variant>/<name>.
#
#   glibc-pie/       gcc -O2 -static-pie            every *.c and *.cc (except bench-*, debug*)
#   glibc-static/    gcc -O2 -static -no-pie        same set (ET_EXEC)
#   musl/            musl-gcc -O2 -static           every *.c (except bench-*, debug)
#   debug-glibc-pie/ gcc -O0 -g -static-pie         debug.c, debug-*.c (for the gdb tests)
#   debug-musl/      musl-gcc -O0 -g -static        debug.c, debug-*.c
#   debug-glibc-dynamic/ gcc -O0 -g                 debug.c, debug-*.c (dynamically linked, for the gdb tests)
#   glibc-dynamic/   gcc -O2 -pthread / g++ -O2     every *.c and *.cc (except bench-*, debug), dynamically linked
#   bench/           musl-gcc -O2 -static           bench-*.c (scripts/bench.mjs)
#   tools/lockstep-tracer  gcc -O2                  src/lockstep/tracer/*.c (scripts/lockstep --fast)
#
# Incremental: an output newer than its source and this script is skipped.
# Quiet: prints nothing on success unless --verbose; compiler output only on failure.
#
# Usage: scripts/build-fixtures.sh [--force] [--verbose]
#        scripts/build-fixtures.sh --demo   rebuild test/fixtures/prebuilt/hello-demo and cache-warm only
#                                           (committed binaries; need only gcc)
set -euo pipefail

script=$(readlink -f "${BASH_SOURCE[0]}")
root=$(cd "$(dirname "$script")/.." && pwd)
src=$root/test/fixtures/src
out=$root/test/fixtures/build
prebuilt=$root/test/fixtures/prebuilt

force=0 verbose=0 demo=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --verbose) verbose=1 ;;
    --demo) demo=1 ;;
    -h|--help) sed -n '2,18p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-fixtures.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

require() {  # require TOOL PACKAGE
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "build-fixtures.sh: compiler '$1' not found — install it (Debian: apt-get install $2)" >&2
    exit 3
  fi
}

if (( demo )); then
  require gcc gcc
  mkdir -p "$prebuilt"
  # Static, no libc, stripped, no build-id, one RX segment: ~550 bytes, byte-reproducible.
  for g in hello-demo cache-warm; do
    gcc -nostdlib -static -s -Wl,--build-id=none -Wl,-z,noseparate-code \
      -o "$prebuilt/$g" "$src/$g.S"
    echo "built $prebuilt/$g ($(stat -c %s "$prebuilt/$g") bytes)"
  done
  exit 0
fi

require gcc gcc
require g++ g++
require musl-gcc musl-tools

# One line per output: VARIANT NAME SOURCE COMPILER FLAGS...
plan() {
  local file name
  for file in "$src"/*.c "$src"/*.cc; do
    name=$(basename "$file"); name=${name%.*}
    case $file in
      */bench-*.c) echo "bench $name $file musl-gcc -O2 -static" ;;
      */debug.c|*/debug-*.c)
        echo "debug-glibc-pie $name $file gcc -O0 -g -static-pie"
        echo "debug-musl $name $file musl-gcc -O0 -g -static"
        echo "debug-glibc-dynamic $name $file gcc -O0 -g" ;;
      *.cc)
        echo "glibc-pie $name $file g++ -O2 -static-pie"
        echo "glibc-static $name $file g++ -O2 -static -no-pie"
        echo "glibc-dynamic $name $file g++ -O2" ;;
      *.c)
        echo "glibc-pie $name $file gcc -O2 -static-pie"
        echo "glibc-static $name $file gcc -O2 -static -no-pie"
        echo "musl $name $file musl-gcc -O2 -static"
        echo "glibc-dynamic $name $file gcc -O2 -pthread" ;;
    esac
  done
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
jobs_max=$(nproc 2>/dev/null || echo 2)
built=0 fresh=0

build_one() {  # build_one VARIANT NAME SOURCE COMPILER FLAGS...
  local variant=$1 name=$2 file=$3; shift 3
  local target=$out/$variant/$name log=$logs/$variant.$name.log
  local libs=(-lm)
  [[ $file == *.cc ]] && libs=()
  mkdir -p "$out/$variant"
  # Write to a temporary name so an interrupted build never looks up to date.
  if "$@" -Wall -o "$target.tmp" "$file" "${libs[@]}" >"$log" 2>&1; then
    mv -f "$target.tmp" "$target"
    rm -f "$log"
  else
    rm -f "$target.tmp"
    echo "FAILED: $* -o $target $file" >>"$log"
  fi
}

while read -r variant name file compiler_and_flags; do
  target=$out/$variant/$name
  if (( !force )) && [[ -x $target && $target -nt $file && $target -nt $script ]]; then
    fresh=$((fresh + 1))
    continue
  fi
  (( verbose )) && echo "build $variant/$name"
  # shellcheck disable=SC2086  # the flags are meant to split
  build_one "$variant" "$name" "$file" $compiler_and_flags &
  built=$((built + 1))
  while (( $(jobs -rp | wc -l) >= jobs_max )); do wait -n || true; done
done < <(plan)
wait

# The native side of the fast lockstep transport (a tool, not a guest). turbo-handler.c is code the tracer copies
# into the traced program: compiled so that it is position-independent and self-contained (see its header).
tracer_dir=$root/src/lockstep/tracer tracer=$out/tools/lockstep-tracer
tracer_stale=0
for f in "$tracer_dir"/*.c "$tracer_dir"/*.h "$script"; do [[ -x $tracer && $tracer -nt $f ]] || tracer_stale=1; done
if (( force || tracer_stale )); then
  mkdir -p "$out/tools"
  tlog=$logs/tools.lockstep-tracer.log
  if gcc -O2 -Wall -c -fno-stack-protector -fno-jump-tables -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fcf-protection=none \
       -o "$tracer.handler.o" "$tracer_dir/turbo-handler.c" >"$tlog" 2>&1 &&
     # the copied code refers to nothing outside its section (a relocation against another would break the copy)
     ! objdump -r -j turbo_text "$tracer.handler.o" | grep R_X86_64 | grep -v -w turbo_decode >>"$tlog" &&
     gcc -O2 -Wall -o "$tracer.tmp" "$tracer_dir/lockstep-tracer.c" "$tracer_dir/turbo.c" "$tracer.handler.o" >>"$tlog" 2>&1; then
    mv -f "$tracer.tmp" "$tracer"
    rm -f "$tlog" "$tracer.handler.o"
  else
    rm -f "$tracer.tmp" "$tracer.handler.o"
    echo "FAILED: building $tracer from $tracer_dir" >>"$tlog"
  fi
fi

failed=$(find "$logs" -name '*.log' | sort)
if [[ -n $failed ]]; then
  for log in $failed; do cat "$log" >&2; done
  echo "build-fixtures.sh: $(echo "$failed" | wc -l) fixture build(s) failed (see above)" >&2
  exit 1
fi
(( verbose )) && echo "fixtures: $built built, $fresh up to date in $out"
exit 0
