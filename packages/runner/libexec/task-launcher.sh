#!/usr/bin/env bash
# Causeway's task launcher. The runner lives in a large Node process, and fork() costs grow
# with the parent's memory and block its event loop; this small bash process does the forking
# instead. One request per line on stdin, tab-separated:
#   RUN <id> <cwd> <envfile> <outfile> <file> [args...]
#   RM <id> <absolute path>      (deletes a tree with rm -rf, replies "E <id> <status>")
# The task runs in its own process group (job control), with exactly the environment of
# <envfile> (NUL-separated NAME=value entries), stdin from /dev/null and stdout+stderr to
# <outfile>. Replies on stdout: "S <id> <pid>" when started (pid = process group id) and
# "E <id> <status>" when it ended (128+N for signal N). End of stdin ends the launcher; running
# tasks are not waited for.
set -u
while IFS=$'\t' read -r -a req; do
  if [ "${req[0]:-}" = RM ] && [ "${#req[@]}" -eq 3 ] && [ "${req[2]:0:1}" = / ]; then
    ( rm -rf -- "${req[2]}"; printf 'E %s %s\n' "${req[1]}" "$?" ) &
    continue
  fi
  [ "${req[0]:-}" = RUN ] && [ "${#req[@]}" -ge 6 ] || continue
  (
    set -m
    (
      # The task's shell: no nounset (an unreadable file must end the task, not print errors).
      set +u
      cd -- "${req[2]}" 2>/dev/null || exit 127
      [ -r "${req[3]}" ] || exit 126
      mapfile -d '' -t entries < "${req[3]}" || exit 126
      # env -i: exactly the given environment, with no fork (a $(compgen -e) cleanup forked).
      exec env -i "${entries[@]}" "${req[@]:5}" < /dev/null >> "${req[4]}" 2>&1
    ) &
    pid=$!
    printf 'S %s %s\n' "${req[1]}" "$pid"
    wait "$pid"
    printf 'E %s %s\n' "${req[1]}" "$?"
  ) &
done
