/**
 * The roles of API tokens (design §6, docs/api.md "Roles"): what each may do is a rank, so a
 * route names the least role it needs and every higher role may call it too. Pure: the server
 * declares a role on each route it mounts and asks `roleAllows`.
 */

/** The roles of an API token, least first: each may do what the ones before it may. */
export const ROLES = ["viewer", "operator", "admin"] as const;
/** A role: `viewer` reads, `operator` also acts on runs and jobs, `admin` also changes the line and the tokens. */
export type Role = (typeof ROLES)[number];

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** True when a token of role `held` may call a route that needs `needed`. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/**
 * The roles an identity of role `role` holds, itself and every lower one (`admin` is also an
 * operator and a viewer), as approval gates match them against `approvers`.
 */
export function impliedRoles(role: Role): Role[] {
  return ROLES.slice(0, ROLES.indexOf(role) + 1).reverse();
}
