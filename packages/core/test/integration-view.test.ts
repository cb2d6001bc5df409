import { describe, expect, it } from "vitest";
import { gitCredentialConfig, integrationView, runIntegrations, secretParamValues } from "../src/index.js";

// What a job sees of an integration (shippable.md §4.4): secret variables, raw key-value names,
// key files and the variables naming them.

describe("integrationView", () => {
  it("a git credential: a credential store file, user and password percent-encoded", () => {
    const fields = { host: "git.example.com", port: "8443", username: "ci bot", password: "p@ss:w/rd" };
    const view = integrationView("gitcred", fields, "/w/integrations/gitcred");
    expect(view.gitCredentials).toBe("/w/integrations/gitcred/gitcred_git-credentials");
    expect(view.files.find((f) => f.name === "gitcred_git-credentials")?.content).toBe(
      "https://ci%20bot:p%40ss%3Aw%2Frd@git.example.com:8443\n",
    );
    expect(view.pathEnv).toEqual({});
  });

  it.each([
    ["no password", { host: "h.example", username: "u" }],
    ["a host that is a URL", { host: "https://h.example/x", username: "u", password: "p" }],
    ["a port that is not a number", { host: "h.example", port: "x", username: "u", password: "p" }],
  ])("no git credential for %s", (_what, fields) => {
    const view = integrationView("c", fields, "/w");
    expect(view.gitCredentials).toBeUndefined();
    expect(view.files.map((f) => f.name)).toEqual(["integration.json", "integration.env"]);
  });

  it("gives git each credential file as a helper, through the environment only", () => {
    expect(gitCredentialConfig([])).toEqual({});
    expect(gitCredentialConfig(["/a/one", "/b/two"])).toEqual({
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "store --file=/a/one",
      GIT_CONFIG_KEY_1: "credential.helper",
      GIT_CONFIG_VALUE_1: "store --file=/b/two",
    });
  });

  it("an integration resource: <N>_INTEGRATION_<FIELD>, raw names, integration.json and .env", () => {
    const view = integrationView("aws-creds", { accessKey: "AK", "secret key": 'a"$b' }, "/w/IN/aws-creds");
    expect(view.secretEnv).toEqual({ AWSCREDS_INTEGRATION_ACCESSKEY: "AK", AWSCREDS_INTEGRATION_SECRETKEY: 'a"$b' });
    expect(view.rawEnv).toEqual({ accessKey: "AK" });
    expect(view.pathEnv).toEqual({});
    expect(view.files.map((f) => f.name)).toEqual(["integration.json", "integration.env"]);
    expect(view.files[1]?.content).toBe('accessKey="AK"\nSECRETKEY="a\\"\\$b"\n');
    expect(JSON.parse(view.files[0]!.content)).toEqual({ accessKey: "AK", "secret key": 'a"$b' });
  });

  it("a field named like a property every object has (__proto__) is a variable like any other", () => {
    const fields = JSON.parse(`{"__proto__": "P", "constructor": "C"}`) as Record<string, string>;
    const view = integrationView("odd", fields, "/w");
    expect(Object.entries(view.rawEnv)).toEqual([
      ["__proto__", "P"],
      ["constructor", "C"],
    ]);
    expect(Object.entries(view.secretEnv)).toEqual([
      ["ODD_INTEGRATION___PROTO__", "P"],
      ["ODD_INTEGRATION_CONSTRUCTOR", "C"],
    ]);
  });

  it.each([
    [
      "an SSH key",
      { privateKey: "PRIV", publicKey: "PUB" },
      {
        KEYS_PRIVATE_KEY_PATH: "/d/keys_key",
        KEYS_KEYPATH: "/d/keys_key",
        KEYS_PUBLIC_KEY_PATH: "/d/keys_key.pub",
      },
      [
        ["keys_key", "PRIV\n"],
        ["keys_key.pub", "PUB\n"],
      ],
    ],
    ["a PEM key", { pemKey: "PEM\n" }, { KEYS_KEYPATH: "/d/keys_key.pem" }, [["keys_key.pem", "PEM\n"]]],
  ])("%s: key files and the variables naming them", (_what, fields, paths, files) => {
    const view = integrationView("keys", fields, "/d");
    expect(view.pathEnv).toEqual(paths);
    expect(view.files.slice(2).map((f) => [f.name, f.content])).toEqual(files);
  });
});

describe("the secrets of a run", () => {
  it("its integrations: each IN's (an integration resource stands for its own name) and the job's", () => {
    const dep = (name: string, type: string, integration?: string) => ({
      name,
      type,
      operation: "IN" as const,
      ...(integration === undefined ? {} : { integration }),
    });
    const spec = {
      job: { integrations: ["slack"] },
      dependencies: [
        dep("aws", "integration", "aws-prod"),
        dep("kv", "integration"),
        dep("img", "image", "hub"),
        dep("p", "params"),
      ],
    } as unknown as Parameters<typeof runIntegrations>[0];
    expect(runIntegrations(spec)).toEqual(["aws-prod", "hub", "kv", "slack"]);
  });

  it("its secret parameters' values", () => {
    expect(secretParamValues({ params: { A: "1", B: "2" }, secretParams: ["B"] })).toEqual(["2"]);
  });
});
