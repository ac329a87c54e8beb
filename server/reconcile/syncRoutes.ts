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
import { ConvexError, v, type GenericValidator, type Infer } from "convex/values";
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

/**
 * Reads a sync route's request: signed with AUTH0_SYNC_SECRET for `path`, a JSON body that
 * `validator` accepts. Returns the body, or the error to answer.
 */
async function readSyncRequest<V extends GenericValidator>(
  request: Request,
  path: string,
  validator: V,
  what: string,
): Promise<Infer<V> | Response> {
  const signed = await readSignedJson(request, syncSigner(path.slice(1), path));
  if (signed instanceof Response) return signed;
  const checked = validateBody(validator, signed.json, what);
  return checked instanceof Response ? checked : checked.value;
}

// Each route's checks, in the order it makes them, are exported for the in-memory stand-in the
// reconcile benchmark runs against (bench/lib/memoryConvex.ts): the same answers to the same
// requests, so what the benchmark measures is what a deployment would be asked.

/** A status request, checked: `{}`, or the error to answer. */
export const readStatusRequest = (request: Request) =>
  readSyncRequest(request, SYNC_STATUS_PATH, v.object({}), "status request");

/** The issuers a status answer names: the trusted ones and the canonical one (AUTH0_DOMAIN). */
export function statusIssuers(): { issuers: string[]; canonicalIssuer: string } {
  return {
    issuers: deploymentIssuers(),
    canonicalIssuer: normalizeIssuer(deploymentVariable("AUTH0_DOMAIN")!),
  };
}

export const syncStatusRoute = httpAction(async (ctx, request) => {
  const checked = await readStatusRequest(request);
  if (checked instanceof Response) return checked;
  const health = await ctx.runQuery(internal.auth0.eventsHealth, {});
  return Response.json({
    ...statusIssuers(),
    health,
    logSync: await ctx.runQuery(internal.auth0.logSyncHealth, {}),
    // Read inside the module's functions (convex/auth0.ts), where configureAuth0Users ran.
    fieldRules: await ctx.runQuery(internal.auth0.userFieldRules, {}),
    legacyTables: await ctx.runQuery(internal.auth0.legacyTablesStatus, {}),
  });
});

const pageRequest = v.object({ cursor: v.union(v.string(), v.null()), numItems: v.number() });

/**
 * Answers one page read by `read` (a value, or a response made already), or a 400 for a page
 * size out of range or a cursor paginate refuses (one from another deployment, or from a
 * changed query). Shared by the page routes.
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
    const value = await read();
    return value instanceof Response ? value : Response.json(value);
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

/** A users page request, checked (the page size is checked by {@link pageResponse}). */
export const readUsersPageRequest = (request: Request) =>
  readSyncRequest(request, SYNC_USERS_PATH, pageRequest, "page request");

export const syncUsersRoute = httpAction(async (ctx, request) => {
  const page = await readUsersPageRequest(request);
  if (page instanceof Response) return page;
  return pageResponse(page, () => ctx.runQuery(internal.auth0.usersPage, page));
});

const applyRequest = v.object(applyBatchArgs);

/** A batch, checked: at most MAX_BATCH_ITEMS items, each user once, no empty id. */
export async function readApplyRequest(
  request: Request,
): Promise<Infer<typeof applyRequest> | Response> {
  const batch = await readSyncRequest(request, SYNC_APPLY_PATH, applyRequest, "batch");
  if (batch instanceof Response) return batch;
  const { upserts, deletions } = batch;
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
  return batch;
}

export const syncApplyRoute = httpAction(async (ctx, request) => {
  const batch = await readApplyRequest(request);
  if (batch instanceof Response) return batch;
  let results;
  try {
    results = await ctx.runMutation(internal.auth0.applyBatch, batch);
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
