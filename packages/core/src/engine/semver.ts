/** How a release bumps a semantic version (shippable.md §5.8, §9.3). */
export type BumpKind = "major" | "minor" | "patch" | "alpha" | "beta" | "rc" | "final";

/** The bump kinds. */
export const BUMP_KINDS: readonly BumpKind[] = ["major", "minor", "patch", "alpha", "beta", "rc", "final"];

const SEMVER = /^(v?)(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+)(?:\.(\d+))?)?$/;

/**
 * Bumps a version: keeps a leading `v`; major/minor/patch drop any pre-release; `alpha|beta|rc` add the pre-release tag or increment
 * its counter (`1.0.0-rc` -> `1.0.0-rc.1`); `final` drops the pre-release. Returns undefined for
 * an invalid version.
 */
export function bumpVersion(version: string, kind: BumpKind): string | undefined {
  const m = SEMVER.exec(version.trim());
  if (m === null) return undefined;
  const [, v = "", a = "0", b = "0", c = "0", tag, counter] = m;
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
    default:
      if (tag === kind)
        return `${v}${major}.${minor}.${patch}-${kind}.${counter === undefined ? 1 : Number(counter) + 1}`;
      return `${v}${major}.${minor}.${patch}-${kind}`;
  }
}
