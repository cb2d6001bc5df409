/** How a release bumps a semantic version (shippable.md §5.8, §9.3). */
export type BumpKind = "major" | "minor" | "patch" | "alpha" | "beta" | "rc" | "final";

/** The bump kinds. */
export const BUMP_KINDS: readonly BumpKind[] = ["major", "minor", "patch", "alpha", "beta", "rc", "final"];

// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] with an optional leading `v`: the grammar of
// shipctl's bump_version, which documents the same bump (shipctl.md "Utilities").
const SEMVER = /^(v?)(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
// A pre-release that is a tag and its counter: `rc`, `rc.1`, `rc1`.
const COUNTED = /^([A-Za-z]+)\.?(\d+)?$/;

/**
 * Bumps a version: keeps a leading `v` and drops build metadata (`+...`); major/minor/patch drop
 * any pre-release; `alpha|beta|rc` add the pre-release tag, or count it up when the version
 * already has it (`1.0.0-rc` -> `1.0.0-rc.1`, `-rc.1` or `-rc1` -> `-rc.2`), replacing any other
 * pre-release; `final` drops the pre-release. Returns undefined for an invalid version.
 */
export function bumpVersion(version: string, kind: BumpKind): string | undefined {
  const m = SEMVER.exec(version.trim());
  if (m === null) return undefined;
  const [, v = "", a = "0", b = "0", c = "0", pre = ""] = m;
  const [major, minor, patch] = [Number(a), Number(b), Number(c)];
  switch (kind) {
    case "major":
      return `${v}${major + 1}.0.0`;
    case "minor":
      return `${v}${major}.${minor + 1}.0`;
    case "patch":
      return `${v}${major}.${minor}.${patch + 1}`;
    case "final":
      return `${v}${major}.${minor}.${patch}`;
    default: {
      const counted = COUNTED.exec(pre);
      if (counted?.[1] !== kind) return `${v}${major}.${minor}.${patch}-${kind}`;
      return `${v}${major}.${minor}.${patch}-${kind}.${Number(counted[2] ?? "0") + 1}`;
    }
  }
}
