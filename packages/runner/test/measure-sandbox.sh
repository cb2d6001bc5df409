#!/usr/bin/env bash
# Where the sandbox's cost goes: N rounds, each running every variant below once (interleaved,
# so that the load of other processes weighs on all of them alike), each timed alone with
# $EPOCHREALTIME (no fork to read the clock). Prints per variant the median and p90 wall time
# of one task and its mean CPU (user + system of the waited-for processes, from `times`).
# Not a test and not the bench suite: performance is measured, never asserted.
#   bash packages/runner/test/measure-sandbox.sh [N=200] [variant...]
# Variants (default: all) build up the sandbox of sandbox.ts one flag at a time:
#   fork        ( : )               the subshell a task worker forks per task (sourced tasks)
#   exec        /usr/bin/true       fork + exec
#   bash        bash -c true        fork + exec of a fresh bash (what a sandboxed task execs)
#   bwrap       bwrap --bind / /    bwrap with only the namespaces it always makes (mount, and
#                                   user unless run as root)
#   user pid ipc uts net cgroup     the mount namespace plus --unshare-<that one>
#   mounts      the system directories read-only, /proc, /dev, tmpfs: no namespace but mount
#   full        the arguments of sandboxArgs today (--unshare-all --share-net --die-with-parent,
#               the mounts) + a workspace's binds + env --default-signal + bash -c true
#   lean        full with --unshare-pid alone (no IPC, UTS, cgroup namespace): what dropping the
#               namespaces that buy least would save (nothing measurable: docs/performance.md)
#   noproc, nodie, nodev  full without --proc (/proc bound instead), --die-with-parent, --dev
#   worker      a task `true` through a running task worker (task-worker.sh, without a lifeline):
#               a request on its stdin until its "E" reply, no sandbox (the sourced subshell)
#   worker-slot the same through the worker of a runner slot, started once in its sandbox as
#               slotWorkerCommand (sandbox.ts) starts it (full's arguments without
#               --die-with-parent, the slot bound, /build a link): what a task costs in the
#               sandbox with task workers (`causeway up --sandbox auto`)
#   worker-slot-r  the same with the R the runner sends the worker when a run ends (end what it
#               left, empty /tmp...) just before the task: a run's end and the next's first task
#               back to back, with nothing in between to hide the R
#               Workers' CPU is not counted (the worker is not waited for).
set -u
n=${1:-200}
shift || true
bwrap=$(command -v bwrap) || { echo "bwrap not found" >&2; exit 1; }
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT

# The mounts of sandboxArgs on this machine: system directories (links as links), /proc, /dev,
# /tmp; HOME and TMPDIR as tmpfs; a workspace at its path and at /build.
mounts=()
for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc /opt; do
  if [ -L "$d" ] && [ -d "$d" ]; then
    mounts+=(--symlink "$(readlink "$d")" "$d")
  elif [ -d "$d" ] && [ ! -L "$d" ]; then
    mounts+=(--ro-bind "$d" "$d")
  fi
done
mounts+=(--proc /proc --dev /dev --tmpfs /tmp --tmpfs "${HOME:-/root}")
work=(--bind "$ws" "$ws" --bind "$ws" /build --chdir "$ws")
entry=(/usr/bin/env --default-signal=TERM,INT,HUP,QUIT bash -c true)
without() {
  # $1: the word to drop (with its argument count $2) from the full argument list.
  local skip=0 a out=()
  for a in "${full[@]}"; do
    if [ "$skip" -gt 0 ]; then
      skip=$((skip - 1))
      continue
    fi
    if [ "$a" = "$1" ]; then
      skip=$2
      continue
    fi
    out+=("$a")
  done
  printf '%s\n' "${out[@]}"
}
full=(--unshare-all --share-net --die-with-parent "${mounts[@]}" "${work[@]}")
lean=(--unshare-pid --die-with-parent "${mounts[@]}" "${work[@]}")
mapfile -t noproc < <(without --proc 1)
noproc+=(--ro-bind /proc /proc)
mapfile -t nodie < <(without --die-with-parent 0)
mapfile -t nodev < <(without --dev 1)
nodev+=(--dev-bind /dev /dev)

# The task workers: started once, each behind two FIFOs.
worker=$(cd "$(dirname "$0")/../libexec" && pwd)/task-worker.sh
printf 'true\n' >"$ws/task.sh"
declare -A win wout
worker_start() {
  local name=$1 i o libexec
  libexec=$(dirname "$worker")
  mkfifo "$ws/$name.in" "$ws/$name.out"
  if [ "$name" = worker-slot ]; then
    mapfile -t slot < <(without --die-with-parent 0)
    # full's arguments end with the workspace's binds: the slot's replace them.
    bash -c "trap '' TERM INT HUP QUIT; exec \"\$@\"" bash "$bwrap" "${slot[@]:0:${#slot[@]}-${#work[@]}}" \
      --bind "$ws" "$ws" --ro-bind "$libexec" "$libexec" --symlink "$ws/.build" /build --chdir "$ws" \
      -- "${entry[@]:0:2}" bash "$worker" 10000 slot 2 /tmp "${HOME:-/root}" "$ws" <"$ws/$name.in" >"$ws/$name.out" 2>/dev/null &
  else
    bash "$worker" 10000 <"$ws/$name.in" >"$ws/$name.out" 2>/dev/null &
  fi
  exec {i}>"$ws/$name.in" {o}<"$ws/$name.out"
  win[$name]=$i wout[$name]=$o
}
worker_start worker
worker_start worker-slot
task=0
through() {
  local reply fresh=
  local w=${1%-r}
  [ "$1" != worker-slot-r ] || fresh=$'R\t0\n'
  printf '%sT\t%s\t%s\t%s\n' "$fresh" $((++task)) "$ws" "$ws/task" >&"${win[$w]}"
  read -r -u "${wout[$w]}" reply
  read -r -u "${wout[$w]}" reply
  [ "${reply#E * }" = "0 0" ] || [ "${reply#E * }" = "0 1" ] || { echo "$1: $reply" >&2; cat "$ws/task.out" >&2; return 1; }
}

run() {
  case $1 in
    worker | worker-slot | worker-slot-r) through "$1" ;;
    fork) (:) ;;
    exec) /usr/bin/true ;;
    bash) bash -c true ;;
    bwrap) "$bwrap" --bind / / /usr/bin/true ;;
    user | pid | ipc | uts | net | cgroup) "$bwrap" --bind / / "--unshare-$1" /usr/bin/true ;;
    mounts) "$bwrap" "${mounts[@]}" /usr/bin/true ;;
    full) "$bwrap" "${full[@]}" -- "${entry[@]}" ;;
    lean) "$bwrap" "${lean[@]}" -- "${entry[@]}" ;;
    noproc) "$bwrap" "${noproc[@]}" -- "${entry[@]}" ;;
    nodie) "$bwrap" "${nodie[@]}" -- "${entry[@]}" ;;
    nodev) "$bwrap" "${nodev[@]}" -- "${entry[@]}" ;;
    *)
      echo "unknown variant $1" >&2
      exit 2
      ;;
  esac
}

variants=("$@")
[ ${#variants[@]} -gt 0 ] ||
  variants=(fork exec bash bwrap user pid ipc uts net cgroup mounts full lean noproc nodie nodev worker worker-slot worker-slot-r)
for v in "${variants[@]}"; do
  run "$v" || { echo "variant $v fails here: status $?" >&2; exit 1; }
done

# CPU of the waited-for children so far, in microseconds (the second line of `times`, through a
# file: a command substitution would fork, and its subshell has no children).
cpu() {
  local u s
  times >"$ws/times"
  { read -r u s && read -r u s; } <"$ws/times"
  us_of "$u"
  local a=$REPLY
  us_of "$s"
  REPLY=$((a + REPLY))
}
us_of() {
  # 0m0.123s -> 123000
  local m=${1%%m*} r=${1#*m}
  r=${r%s}
  local sec=${r%.*} frac=${r#*.}
  REPLY=$(((10#$m * 60 + 10#$sec) * 1000000 + 10#${frac}000))
}
declare -A walls cpus
for ((i = 0; i < n; i++)); do
  for v in "${variants[@]}"; do
    cpu
    c0=$REPLY
    t0=$EPOCHREALTIME
    run "$v"
    t1=$EPOCHREALTIME
    cpu
    walls[$v]+="$((${t1/./} - ${t0/./})) "
    cpus[$v]=$((${cpus[$v]:-0} + REPLY - c0))
  done
done
printf '%-13s %9s %9s %9s   (N=%d, %s, %s)\n' variant p50_ms p90_ms cpu_ms "$n" "$("$bwrap" --version)" "$(uname -r)"
for v in "${variants[@]}"; do
  mapfile -t s < <(printf '%s\n' ${walls[$v]} | sort -n)
  p50=${s[$((n / 2))]}
  p90=${s[$((n * 9 / 10))]}
  c=$(bc <<<"scale=3; ${cpus[$v]}/$n/1000")
  [ "${v#worker}" = "$v" ] || c=-
  printf '%-13s %9.2f %9.2f %9s\n' "$v" "$(bc <<<"scale=3; $p50/1000")" "$(bc <<<"scale=3; $p90/1000")" "$c"
done
