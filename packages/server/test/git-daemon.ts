// A real `git daemon` on the loopback for the server's tests: the runner's, shared.
export * from "../../runner/test/git-daemon.js";
