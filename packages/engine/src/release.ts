import { bumpVersion, BUMP_KINDS, resourceKind, type BumpKind, type RunResult, type RunSpec } from "@causeway/core";

/**
 * Executes a `release` job in-process (it runs no script): bumps the semantic version of its
 * `version` input, or continues its own counter while that input is unchanged (editing the
 * seed resets it, as in Shippable). The new version name becomes the job's version.
 */
export function runRelease(
  spec: RunSpec,
  ownLatest: { versionName: string; propertyBag: Record<string, unknown> } | undefined,
): RunResult {
  const bump = (spec.job.options.bump ?? "minor") as string;
  const fail = (reason: string): RunResult => ({
    status: "failure",
    reason,
    exitCode: 1,
    stateSha: null,
    outputs: {},
    outStateShas: {},
  });
  if (!(BUMP_KINDS as readonly string[]).includes(bump))
    return fail(`bump must be one of ${BUMP_KINDS.join(", ")}, got ${bump}`);
  // The base: a resource whose kind a release bumps (version), or an upstream release job.
  const base = spec.dependencies.find(
    (d) => d.operation === "IN" && (d.kind === "job" ? d.type === "release" : resourceKind(d.type).releaseBase),
  );
  if (base?.version === undefined)
    return fail("a release job needs an IN of type version (or an upstream release) with a version");
  const sameBase =
    ownLatest !== undefined &&
    ownLatest.propertyBag.baseVersionId === String(base.version.id) &&
    ownLatest.versionName !== "";
  const from = sameBase ? ownLatest.versionName : base.version.versionName;
  const next = bumpVersion(from, bump as BumpKind);
  if (next === undefined) return fail(`${from} is not a semantic version`);
  return {
    status: "success",
    reason: null,
    exitCode: 0,
    stateSha: null,
    outputs: {
      [spec.job.name]: [
        ["versionName", next],
        ["baseVersionId", String(base.version.id)],
        ["bumpedFrom", from],
      ],
    },
    outStateShas: {},
  };
}
