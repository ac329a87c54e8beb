/**
 * The reconcile's organization routes (`--orgs`), signed like the other sync routes with
 * AUTH0_SYNC_SECRET (see server/reconcile/syncRoutes.ts):
 * - `POST /auth0/sync/orgs/page`: `{ table: "auth0Organizations" | "auth0Memberships", cursor, numItems }`;
 * - `POST /auth0/sync/orgs/apply`: a batch (server/reconcile/orgSync.ts `applyOrgBatch`).
 */
import { v, type Infer } from "convex/values";
import { httpAction } from "../builders";
import { internal } from "../api";
import { jsonError, readSignedJson, validateBody } from "../http";
import { MAX_BATCH_ITEMS } from "./sync";
import { orgBatchArgs } from "./orgSync";
import { uniqueEntries } from "../orgMetadata";
import { pageResponse, syncSigner } from "./syncRoutes";

export const SYNC_ORGS_PAGE_PATH = "/auth0/sync/orgs/page";
export const SYNC_ORGS_APPLY_PATH = "/auth0/sync/orgs/apply";

const pageRequest = v.object({
  table: v.union(v.literal("auth0Organizations"), v.literal("auth0Memberships")),
  cursor: v.union(v.string(), v.null()),
  numItems: v.number(),
});

/** A page request of an organization table, checked (also by bench/lib/memoryConvex.ts). */
export async function readOrgsPageRequest(
  request: Request,
): Promise<Infer<typeof pageRequest> | Response> {
  const signed = await readSignedJson(
    request,
    syncSigner("auth0/sync/orgs/page", SYNC_ORGS_PAGE_PATH),
  );
  if (signed instanceof Response) return signed;
  const checked = validateBody(pageRequest, signed.json, "page request");
  return checked instanceof Response ? checked : checked.value;
}

export const syncOrgsPageRoute = httpAction(async (ctx, request) => {
  const page = await readOrgsPageRequest(request);
  if (page instanceof Response) return page;
  return pageResponse(page, () => ctx.runQuery(internal.auth0.orgPage, page));
});

const applyRequest = v.object(orgBatchArgs);

export const syncOrgsApplyRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(
    request,
    syncSigner("auth0/sync/orgs/apply", SYNC_ORGS_APPLY_PATH),
  );
  if (signed instanceof Response) return signed;
  const checked = validateBody(applyRequest, signed.json, "batch");
  if (checked instanceof Response) return checked;
  const b = checked.value;
  const items =
    b.organizations.length +
    b.organizationDeletions.length +
    b.memberships.length +
    b.membershipRemovals.length;
  if (items > MAX_BATCH_ITEMS) {
    return jsonError(
      400,
      "batch_too_large",
      `A batch holds at most ${MAX_BATCH_ITEMS} items; send smaller batches.`,
    );
  }
  const ids = [
    ...b.organizations.map((o) => o.auth0OrgId),
    ...b.organizationDeletions.map((o) => o.auth0OrgId),
    ...b.memberships.flatMap((m) => [m.auth0OrgId, m.auth0UserId]),
    ...b.membershipRemovals.flatMap((m) => [m.auth0OrgId, m.auth0UserId]),
  ];
  if (ids.some((id) => id === "" || id.length > 512) || !Number.isFinite(b.at)) {
    return jsonError(400, "invalid_body", "Ids must be 1 to 512 characters and at a time in ms.");
  }
  // Metadata travels and is stored as entries (any key Auth0 accepts), each key once.
  const organizations = [];
  for (const o of b.organizations) {
    const metadata = o.metadata === null ? null : uniqueEntries(o.metadata);
    if (metadata === undefined) {
      return jsonError(400, "invalid_body", "An organization's metadata repeats a key.");
    }
    organizations.push({ ...o, metadata });
  }
  const batch = { ...b, organizations };
  return Response.json({ results: await ctx.runMutation(internal.auth0.applyOrgBatch, batch) });
});
