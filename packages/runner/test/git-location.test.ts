import { describe, expect, it } from "vitest";
import { displayUrl, gitAuth, repositoryLocation } from "../src/index.js";

describe("repositoryLocation", () => {
  it.each([
    ["/srv/repos/app", { kind: "local", path: "/srv/repos/app" }],
    ["file:///srv/repos/app", { kind: "local", path: "/srv/repos/app" }],
    ["https://github.com/acme/app.git", { kind: "remote", url: "https://github.com/acme/app.git" }],
    ["http://127.0.0.1:8080/app.git", { kind: "remote", url: "http://127.0.0.1:8080/app.git" }],
    [
      "ssh://git@gitlab.example.com:2222/acme/app.git",
      { kind: "remote", url: "ssh://git@gitlab.example.com:2222/acme/app.git" },
    ],
    ["git://127.0.0.1:9418/app.git", { kind: "remote", url: "git://127.0.0.1:9418/app.git" }],
    ["git@github.com:acme/app.git", { kind: "remote", url: "git@github.com:acme/app.git" }],
    ["acme/app", undefined],
    ["./app-repo", undefined],
    ["-uhttps://x/y", undefined],
    ["https://", undefined],
    ["git@github.com:acme/app .git", undefined],
    ["", undefined],
    [42, undefined],
  ])("%j is %j", (sourceName, location) => {
    expect(repositoryLocation(sourceName)).toEqual(location);
  });
});

describe("displayUrl", () => {
  it.each([
    ["https://user:token@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["https://github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["git@github.com:acme/app.git", "git@github.com:acme/app.git"],
  ])("%s is shown as %s", (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
  });
});

describe("gitAuth", () => {
  it("gives nothing without fields", async () => {
    const auth = await gitAuth(undefined);
    expect(auth.env).toEqual({});
    await auth.cleanup();
  });

  it("gives a token as a Basic header through git's environment, never on a command line", async () => {
    const auth = await gitAuth({ token: "t0k" });
    expect(auth.env).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from("x-access-token:t0k").toString("base64")}`,
    });
    await auth.cleanup();
  });

  it("pins the known hosts when the integration gives them", async () => {
    const auth = await gitAuth({ privateKey: "KEY", knownHosts: "host ssh-ed25519 AAAA\n" });
    expect(auth.env.GIT_SSH_COMMAND).toMatch(
      /^ssh -i \S+\/key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=\S+\/known_hosts -o StrictHostKeyChecking=yes$/,
    );
    await auth.cleanup();
  });
});
