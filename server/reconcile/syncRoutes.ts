/**
 * The reconcile's HTTP routes, all signed like the Action's upsert (server/http/signedRequest.ts) but
 * with their own secret, AUTH0_SYNC_SECRET: these routes read every user and delete users, which
 * the Action's secret must never be able to do.
 *
 * - `POST /auth0/sync/status`: the issuers this deployment trusts, the event stream's and the log
 *   sync's health, the app's field rules (which profile fields it owns, which metadata it maps)
 *   and where the move from the 0.1 table names stands.
 * - `POST /auth0/sync/users`: one page of `users` rows, `{ cursor, numItems }` in.
 * - `POST /auth0/sync/apply`: a batch of upserts and deletions (server/reconcile/sync.ts `applyBatch`).
 */
import { ConvexError, v } from "convex/values";
import { httpAction } from "../builders";
import { deploymentVariable, INVALID_CONFIGURATION } from "../deploymentVariables";
import { internal } from "../api";
import { jsonError, readSignedJson, validateBody, type SignedRouteOptions } from "../http";
import { applyBatchArgs, MAX_BATCH_ITEMS, MAX_PAGE_SIZE } from "./sync";
import { normalizeIssuer } from "../tokenIdentifier";
import { convexErrorCode, deploymentIssuers } from "../users";

export const SYNC_STATUS_PATH = "/auth0/sync/status";
export const SYNC_USERS_PATH = "/auth0/sync/users";
export const SYNC_APPLY_PATH = "/auth0/sync/apply";

/** Largest body a sync route accepts: a batch of MAX_BATCH_ITEMS profiles is well under it. */
export const MAX_SYNC_BODY_BYTES = 1024 * 1024;

/** How every sync route is signed: AUTH0_SYNC_SECRET, never the Action's secret. */
export const syncSigner = (route: string, path: string): SignedRouteOptions => ({
  route,
  path,
  secretVariable: "AUTH0_SYNC_SECRET",
  signerSecretPlace: "the sync scripts' environment (AUTH0_SYNC_SECRET)",
  signerUrlVariable: "CONVEX_SITE_URL in the sync scripts' environment",
  required: ["AUTH0_DOMAIN"],
  maxBodyBytes: MAX_SYNC_BODY_BYTES,
});

export const syncStatusRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(request, syncSigner("auth0/sync/status", SYNC_STATUS_PATH));
  if (signed instanceof Response) return signed;
  const checked = validateBody(v.object({}), signed.json, "status request");
  if (checked instanceof Response) return checked;
  const health = await ctx.runQuery(internal.auth0.eventsHealth, {});
  return Response.json({
    issuers: deploymentIssuers(),
    canonicalIssuer: normalizeIssuer(deploymentVariable("AUTH0_DOMAIN")!),
    health,
    logSync: await ctx.runQuery(internal.auth0.logSyncHealth, {}),
    // Read inside the module's functions (convex/auth0.ts), where configureAuth0Users ran.
    fieldRules: await ctx.runQuery(internal.auth0.userFieldRules, {}),
    legacyTables: await ctx.runQuery(internal.auth0.legacyTablesStatus, {}),
  });
});

const pageRequest = v.object({ cursor: v.union(v.string(), v.null()), numItems: v.number() });

/**
 * Answers one page read by `read`, or a 400 for a page size out of range or a cursor paginate
 * refuses (one from another deployment, or from a changed query). Shared by the page routes.
 */
export async function pageResponse(
  page: { cursor: string | null; numItems: number },
  read: () => Promise<unknown>,
): Promise<Response> {
  if (!Number.isInteger(page.numItems) || page.numItems < 1 || page.numItems > MAX_PAGE_SIZE) {
    return jsonError(
      400,
      "invalid_body",
      `numItems must be an integer from 1 to ${MAX_PAGE_SIZE}.`,
    );
  }
  try {
    return Response.json(await read());
  } catch (err) {
    if (page.cursor !== null && err instanceof Error && /cursor/i.test(err.message)) {
      return jsonError(
        400,
        "invalid_cursor",
        "The cursor is not valid here: start again from null.",
      );
    }
    throw err;
  }
}

export const syncUsersRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(request, syncSigner("auth0/sync/users", SYNC_USERS_PATH));
  if (signed instanceof Response) return signed;
  const checked = validateBody(pageRequest, signed.json, "page request");
  if (checked instanceof Response) return checked;
  const page = checked.value;
  return pageResponse(page, () => ctx.runQuery(internal.auth0.usersPage, page));
});

const applyRequest = v.object(applyBatchArgs);

export const syncApplyRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(request, syncSigner("auth0/sync/apply", SYNC_APPLY_PATH));
  if (signed instanceof Response) return signed;
  const checked = validateBody(applyRequest, signed.json, "batch");
  if (checked instanceof Response) return checked;
  const { upserts, deletions } = checked.value;
  if (upserts.length + deletions.length > MAX_BATCH_ITEMS) {
    return jsonError(
      400,
      "batch_too_large",
      `A batch holds at most ${MAX_BATCH_ITEMS} upserts and deletions together; send smaller batches.`,
    );
  }
  const ids = [...upserts, ...deletions].map((item) => item.auth0UserId);
  if (ids.some((id) => id === "")) {
    return jsonError(400, "invalid_body", "auth0UserId must not be empty.");
  }
  if (new Set(ids).size !== ids.length) {
    return jsonError(400, "invalid_body", "A user may appear at most once in a batch.");
  }
  let results;
  try {
    results = await ctx.runMutation(internal.auth0.applyBatch, { upserts, deletions });
  } catch (err) {
    // A Convex variable with a bad value (AUTH0_USER_DELETION): the batch wrote nothing; say why.
    if (convexErrorCode(err) !== INVALID_CONFIGURATION) throw err;
    return jsonError(
      500,
      INVALID_CONFIGURATION,
      (err as ConvexError<{ message: string }>).data.message,
    );
  }
  return Response.json({ results });
});
