/**
 * The login path: the Post-Login Action's signed `POST /auth0/upsert-user`, the `POST /auth0/ping`
 * that proves a request signed the same way would be accepted, and `auth0.upsertFromAuth0`, which
 * writes the user (through the users' door) and the login's organization and roles (through the
 * organizations') in one transaction.
 */
export { PING_PATH, pingRoute } from "./pingRoute";
export { upsertFromAuth0 } from "./upsertFromAuth0";
export { upsertUserRoute } from "./upsertUserRoute";
