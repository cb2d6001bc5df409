import { API_ROUTES, type ApiRoute, type RouteName, type SessionJson } from "@causeway/protocol";

// What the session may do, read from the route table's roles (docs/api.md): viewer < operator
// < admin; an anonymous reader of a public server may only read.

const RANK = { none: 0, viewer: 1, operator: 2, admin: 3 } as const;

/** Whether the session's role may call route `name`. */
export function can(session: SessionJson | null, name: RouteName): boolean {
  const needed = API_ROUTES[name].role;
  if (needed === "none") return true;
  // An anonymous reader of a public server reads only the routes open to it.
  const route: ApiRoute = API_ROUTES[name];
  if (session === null || session.role === null) return needed === "viewer" && route.publicRead === true;
  return RANK[session.role] >= RANK[needed];
}
