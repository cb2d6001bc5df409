#!/usr/bin/env bash
# Causeway's task worker: a small long-lived bash process that runs one task at a time, so the
# runner's large Node process never forks (its fork() costs grow with its memory and block the
# event loop). A task is a subshell forked from this shell that sources the task script: no
# exec of a new bash, which on a virtual machine costs more than the task itself (X requests,
# below, are the exception).
# The worker is started with an empty environment and defines no functions, so the task's
# shell holds nothing but what the task is given.
#
# Requests on stdin, one per line, tab-separated (paths hold no tab or newline):
#   T <id> <cwd> <prefix>   run <prefix>.sh in <cwd> (the script exports the task's environment
#                           first), stdin /dev/null, stdout and stderr appended to <prefix>.out,
#                           in its own process group
#   X <id> <cwd> <prefix>   the same, the script run by a fresh bash (exec) instead of sourced
#   D <id> <path>           delete the tree <path> (rm -rf)
#   V <id> <name> <value>   export <name> into the next task's shell before its script runs:
#                           <value> is an argument of `printf %b` (\xHH escapes); the values
#                           of secret parameters come this way, so that no file holds them
# Replies on stdout: "S <id> <pid>" once a task started (pid = its process group id) and
# "E <id> <status> [<left>]" when a request is over (128+N for a task killed by signal N;
# <left> is 1 when processes the task left in its group were sent SIGTERM). End of stdin ends
# the worker; a running task is not waited for.
set -m
# In a sourced task, $$ is this worker's pid and $PPID its parent's (a subshell keeps them;
# $BASHPID is the task's own); the runner sends tasks whose script text uses them as X. A task
# that signals $$ to end itself (from a file it sources, say) reaches the worker: the signal is
# passed on to the task's process group. A handled signal is reset to its default in the task.
__cw_p=
__cw_v=()
for __cw_k in TERM INT HUP QUIT; do
  trap "__cw_t=1; [ -z \"\$__cw_p\" ] || kill -$__cw_k -- \"-\$__cw_p\" 2>/dev/null" "$__cw_k"
done
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
        unset __cw_k __cw_i __cw_a __cw_b __cw_p __cw_s __cw_l __cw_t
        . "$0"
      ) </dev/null >>"$__cw_b.out" 2>&1 &
      __cw_p=$!
      __cw_v=()
      printf 'S %s %s\n' "$__cw_i" "$__cw_p"
      # A trapped signal interrupts wait (the trap sets __cw_t): wait again until the task is
      # over (a wait on a task already over returns its status).
      while __cw_t=; wait "$__cw_p"; __cw_s=$?; [ -n "$__cw_t" ]; do :; done
      # Processes the task left behind in its group get SIGTERM now; "1" asks the runner to
      # SIGKILL the group after its grace period.
      if kill -TERM -- "-$__cw_p" 2>/dev/null; then __cw_l=1; else __cw_l=0; fi
      __cw_p=
      printf 'E %s %s %s\n' "$__cw_i" "$__cw_s" "$__cw_l"
      ;;
    V) __cw_v+=("$__cw_a" "$__cw_b") ;;
    D)
      [ "${__cw_a:0:1}" = / ] && rm -rf -- "$__cw_a"
      printf 'E %s %s\n' "$__cw_i" "$?"
      ;;
  esac
done
