#!/usr/bin/env bash
# Causeway's task worker: a small long-lived bash process that runs one task at a time, so the
# runner's large Node process never forks (its fork() costs grow with its memory and block the
# event loop). A task is a subshell forked from this shell that sources the task script: no
# exec of a new bash, which on a virtual machine costs more than the task itself (X requests,
# below, are the exception).
# The worker is started with an empty environment (but for __CW_LANG, below) and leaves nothing
# of its own in the task's shell (its variables and functions are unset there, and a task's
# script unsets LANG when the task has none), so the task's shell holds nothing but what the
# task is given.
#
# Usage: task-worker.sh <grace ms> [slot <n> <dir>... <kept>...], with file descriptor 3 open on
# the lifeline (below). With "slot" the worker runs inside a runner slot's sandbox, started once
# by bwrap (slotWorkerCommand, runner/src/sandbox.ts), and sources its tasks there as outside
# one; each of the <n> <dir>s (the sandbox's private /tmp, HOME, TMPDIR) is emptied when a run
# in the slot is over (R below), but for each <kept> (scrubExceptions, sandbox.ts): a mount of
# the sandbox inside a <dir> (the slot directory when the work directory is under /tmp, a PATH
# directory under HOME) is left as it is, and a directory on the way to one, written +<path>,
# is emptied but for that way. Its process ids are of the sandbox's PID namespace: the runner
# signals this worker, which passes signals on to its task's group and SIGKILLs leftovers after
# their grace (below).
# Requests on stdin, one per line, tab-separated (paths hold no tab or newline):
#   T <id> <cwd> <prefix>   run <prefix>.sh in <cwd> (the script exports the task's environment
#                           first), stdin /dev/null, stdout and stderr appended to <prefix>.out,
#                           in its own process group
#   X <id> <cwd> <prefix>   the same, the script run by a fresh bash (exec) instead of sourced
#   D <id> <path>           delete the tree <path> (rm -rf)
#   V <id> <name> <value>   export <name> into the next task's shell before its script runs:
#                           <value> is an argument of `printf %b` (\xHH escapes); the values
#                           of secret parameters come this way, so that no file holds them
#   R <id>                  the slot's run is over: end every process of the sandbox but the
#                           worker's own and empty its private directories (no reply)
#   L <id>                  the next task is its run's last: once it is over (after its E
#                           reply), do what R does, so that no R request has to follow
# Signals: TERM, INT, HUP, QUIT to the worker are passed on to the running task's process group,
# USR1 sends that group SIGKILL; USR2 sends SIGKILL to the groups that tasks left behind (which had
# SIGTERM when their task ended) whose grace is over. In a slot's sandbox the runner cannot signal
# the groups itself (their ids are of the sandbox's PID namespace): it signals the worker.
# Replies on stdout: "S <id> <pid>" once a task started (pid = its process group id) and
# "E <id> <status> [<left>]" when a request is over (128+N for a task killed by signal N;
# <left> is 1 when processes the task left in its group were sent SIGTERM). End of stdin ends
# the worker; a running task is not waited for.
#
# No task outlives the server that started it. The lifeline (fd 3) is a pipe from the server
# that it never writes to: it reaches end of file when the server's process ends, however it
# ends (SIGKILL included). The worker then ends its task's process group, and the group of what
# the last task left behind if that is still in its grace: SIGTERM, SIGKILL when the group is
# still there after the grace; then it exits. Tasks never hold the lifeline.
__cw_g=$(((${1:-10000} + 99) / 100))
__cw_gm=${1:-10000}
__cw_sc=()
__cw_z=
declare -A __cw_m=()
if [ "${2-}" = slot ]; then
  __cw_z=1
  __cw_sc=("${@:4:$3}")
  for __cw_k in "${@:$((4 + $3))}"; do
    if [ "${__cw_k:0:1}" = + ]; then __cw_m[${__cw_k:1}]=2; else __cw_m[$__cw_k]=1; fi
  done
fi
# The watcher: blocked on the lifeline, then SIGTERM to the worker's process group (the worker
# and the watcher; tasks have groups of their own). Forked before job control is on, so that it
# stays in that group: a group id is not reused while the group has a member, so the signal
# never reaches another process. One fork per worker, none per task. (Without a lifeline, as
# when the script is run by hand, there is nothing to watch.)
if { : <&3; } 2>/dev/null; then
  { read -r -u 3 __cw_k; kill -TERM 0; } </dev/null >/dev/null 2>&1 &
  __cw_w=$!
fi
# The runner's LANG, which most tasks are given: loaded here once (a shell variable, not
# exported), so that a task's shell setting the same LANG finds its locale loaded, forked with
# this worker, instead of loading it again (about 0.4 ms of CPU per task).
if [ -n "${__CW_LANG-}" ]; then LANG=$__CW_LANG; fi
unset __CW_LANG
set -m
# In a sourced task, $$ is this worker's pid and $PPID its parent's (a subshell keeps them;
# $BASHPID is the task's own); the runner sends tasks whose script text uses them as X. A task
# that signals $$ to end itself (from a file it sources, say) reaches the worker: the signal is
# passed on to the task's process group. A handled signal is reset to its default in the task.
__cw_p=
__cw_v=()
__cw_l=
__cw_lt=0
__cw_after=
for __cw_k in TERM INT HUP QUIT; do
  trap "__cw_t=1; [ -z \"\$__cw_p\" ] || kill -$__cw_k -- \"-\$__cw_p\" 2>/dev/null" "$__cw_k"
done
trap '__cw_t=1; [ -z "$__cw_p" ] || kill -KILL -- "-$__cw_p" 2>/dev/null' USR1
# The groups tasks left behind, by id: when their grace ends (microseconds, $EPOCHREALTIME's).
declare -A __cw_lg=()
__cw_reap() {
  local p now=${EPOCHREALTIME/./}
  for p in "${!__cw_lg[@]}"; do
    if [ "${__cw_lg[$p]}" -le "$now" ]; then
      kill -KILL -- "-$p" 2>/dev/null
      unset "__cw_lg[$p]"
    fi
  done
}
trap '__cw_t=1; __cw_reap' USR2
# A reply to a server that is gone fails (EPIPE) instead of killing the worker before it ended
# its task (handled, not ignored: an ignored signal would stay ignored in the task).
trap : PIPE
# Waits up to $2 tenths of a second for the process group $1, which had SIGTERM, to be gone,
# then sends it SIGKILL. Polls: this runs once, after the server died.
__cw_end() {
  local n=0
  while kill -0 -- "-$1" 2>/dev/null; do
    if [ $((n++)) -ge "$2" ]; then
      kill -KILL -- "-$1" 2>/dev/null
      return 0
    fi
    sleep 0.1
  done
}
# The server is gone: the running task (which had SIGTERM from the trap) and the last task's
# leftovers (SIGTERM when it ended; the server was to send SIGKILL after the grace, unless the
# grace is over) are ended here, then the worker exits.
__cw_gone() {
  [ -z "$__cw_p" ] || __cw_end "$__cw_p" "$__cw_g"
  local left=$((__cw_g - (SECONDS - __cw_lt) * 10))
  [ -z "$__cw_l" ] || [ "$left" -lt 0 ] || __cw_end "$__cw_l" "$left"
  exit 0
}
# The slot's run is over: ends what it left running in the sandbox (a process that left its
# task's group, or is still in its grace), before the next run's tasks: every process of the sandbox's PID
# namespace but its init (1), this worker and its watcher. Then empties the slot's private
# directories (what a run left in /tmp, HOME, TMPDIR). No process when there is nothing to
# end or remove, as mostly. Never a mount nor across one: the slot directory, the worker's and
# shipctl's may be bound inside them (a work directory under /tmp).
__cw_scrub() {
  local d f=() p=()
  for d in /proc/[1-9]*; do
    d=${d#/proc/}
    [ "$d" = 1 ] || [ "$d" = $$ ] || [ "$d" = "${__cw_w-}" ] || p+=("$d")
  done
  [ ${#p[@]} -eq 0 ] || kill -KILL "${p[@]}" 2>/dev/null
  __cw_lg=()
  shopt -s nullglob dotglob
  for d in "${__cw_sc[@]}"; do __cw_empty "$d"; done
  shopt -u nullglob dotglob
  [ ${#f[@]} -eq 0 ] || rm -rf --one-file-system -- "${f[@]}" 3<&- 2>/dev/null
}
# Adds the entries of directory $1 to __cw_scrub's f, but the kept ones (a mount), going into
# those on the way to a mount.
__cw_empty() {
  local e
  for e in "$1"/*; do
    case ${__cw_m[$e]-} in
      1) ;;
      2) __cw_empty "$e" ;;
      *) f+=("$e") ;;
    esac
  done
}
while IFS=$'\t' read -r __cw_k __cw_i __cw_a __cw_b; do
  case $__cw_k in
    T | X)
      (
        # The task's shell: no job control (its background jobs stay in its process group).
        set +m
        cd -- "$__cw_a" 2>/dev/null || exit 127
        # cd set OLDPWD to this worker's directory, the server's: none of the task's business.
        unset OLDPWD
        for ((__cw_s = 0; __cw_s < ${#__cw_v[@]}; __cw_s += 2)); do
          printf -v "${__cw_v[__cw_s]}" %b "${__cw_v[__cw_s + 1]}" && export "${__cw_v[__cw_s]}"
        done
        unset __cw_v
        # X: a fresh bash, for a script that uses $$ or PPID (the script sets the environment).
        [ "$__cw_k" = T ] || { unset SHLVL; exec "$BASH" -- "$__cw_b.sh"; }
        BASH_ARGV0=$__cw_b.sh
        unset __cw_k __cw_i __cw_a __cw_b __cw_p __cw_s __cw_l __cw_lt __cw_e __cw_t __cw_g __cw_gm __cw_sc __cw_m __cw_w __cw_z __cw_lg __cw_after
        unset -f __cw_end __cw_gone __cw_scrub __cw_empty __cw_reap
        . "$0"
      ) </dev/null >>"$__cw_b.out" 2>&1 3<&- &
      __cw_p=$!
      __cw_v=()
      printf 'S %s %s\n' "$__cw_i" "$__cw_p"
      # A trapped signal interrupts wait (the trap sets __cw_t): wait again until the task is
      # over (a wait on a task already over returns its status). The signal came from the task,
      # or from the watcher: then the lifeline is at its end (readable at once).
      while __cw_t=; wait "$__cw_p"; __cw_s=$?; [ -n "$__cw_t" ]; do
        ! read -r -t 0 -u 3 2>/dev/null || __cw_gone
      done
      # Processes the task left behind in its group get SIGTERM now; "1" asks the runner to
      # SIGKILL the group after its grace period (in a slot's sandbox, through USR2).
      if kill -TERM -- "-$__cw_p" 2>/dev/null; then
        __cw_e=1 __cw_l=$__cw_p __cw_lt=$SECONDS
        [ -z "$__cw_z" ] || __cw_lg[$__cw_p]=$((${EPOCHREALTIME/./} + __cw_gm * 1000))
      else
        __cw_e=0 __cw_l=
      fi
      __cw_p=
      printf 'E %s %s %s\n' "$__cw_i" "$__cw_s" "$__cw_e"
      # The run's last task: its leftovers are ended while the server records the run's end.
      if [ -n "$__cw_after" ]; then
        __cw_after=
        [ -z "$__cw_z" ] || __cw_scrub
      fi
      ;;
    V) __cw_v+=("$__cw_a" "$__cw_b") ;;
    L) __cw_after=1 ;;
    # Only in a slot's sandbox, whose PID namespace holds nothing but the slot's processes.
    R) [ -z "$__cw_z" ] || __cw_scrub ;;
    D)
      [ "${__cw_a:0:1}" = / ] && rm -rf -- "$__cw_a" 3<&-
      printf 'E %s %s\n' "$__cw_i" "$?"
      ;;
  esac
done
# End of requests: the server ends the worker, or is gone (then the lifeline is at its end too).
! read -r -t 0 -u 3 2>/dev/null || __cw_gone
