/**
 * The doctor's checks of the reconcile's setup (check-sync, sync, cron-sync), when its variables
 * are set: Convex accepts AUTH0_SYNC_SECRET on the sync routes, and the reconcile's application
 * may read users.
 */
import { SYNC_STATUS_PATH } from "../../../convex/syncRoutes";
import type { CheckResult } from "../convexPing";
import { createManagementClient } from "../managementApi";
import { managementFailure } from "../reconcile/errors";
import { signedPost, SignedPostError } from "../signedPost";
import { judgeLogSync } from "../logSyncHealth";

/** Runs both checks; `origin` is the deployment's site origin, `domain` the tenant's host. */
export async function reconcileChecks(opts: {
  origin: string;
  syncSecret: string;
  domain: string;
  clientId: string;
  clientSecret: string;
}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const secret = {
    id: "sync.secret",
    title: "Convex accepts AUTH0_SYNC_SECRET (the reconcile's routes)",
  };
  try {
    const reply = await signedPost({
      origin: opts.origin,
      path: SYNC_STATUS_PATH,
      secret: opts.syncSecret,
      body: {},
      timeoutMs: 10_000,
    });
    const error = (reply.json as { error?: string } | undefined)?.error;
    out.push(
      reply.status === 200
        ? { ...secret, status: "pass", detail: "the sync status route answered 200" }
        : {
            ...secret,
            status: "fail",
            detail:
              error === "bad_signature"
                ? "Convex refused the signature: set the same AUTH0_SYNC_SECRET in Convex (npx convex env set AUTH0_SYNC_SECRET <value>) and here"
                : error === "not_configured"
                  ? "Convex has no AUTH0_SYNC_SECRET: npx convex env set AUTH0_SYNC_SECRET <value>"
                  : `HTTP ${reply.status} ${error ?? ""}`.trim(),
          },
    );
    if (reply.status === 200) {
      const logSync = (reply.json as { logSync?: unknown } | undefined)?.logSync;
      out.push({
        id: "sync.logSync",
        title: "the tenant-log sync (Convex cron) is on and current",
        ...judgeLogSync(logSync),
      });
    }
  } catch (err) {
    out.push({
      ...secret,
      status: "fail",
      detail: err instanceof SignedPostError ? err.message : String(err),
    });
  }

  const users = {
    id: "sync.auth0",
    title: "the reconcile's application may read users (read:users)",
  };
  try {
    const client = createManagementClient({
      domain: opts.domain,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
    });
    await client.users.list({ per_page: 1, page: 0 });
    out.push({ ...users, status: "pass", detail: "GET /api/v2/users answered" });
  } catch (err) {
    // The reconcile's own wording: custom domain, missing scope, or the HTTP error.
    out.push({ ...users, status: "fail", detail: managementFailure(err, "listing users").message });
  }
  return out;
}
