/**
 * The doctor's checks of the reconcile's setup (check-sync, sync, cron-sync), when its variables
 * are set: Convex accepts AUTH0_SYNC_SECRET on the sync routes (and finds it strong: Convex names
 * the rule it breaks), rows left under the 0.1 table names, the Auth0 tenant is the one Convex trusts (configured domain, then the
 * token's issuer), and the reconcile's application may read users.
 */
import { SYNC_STATUS_PATH } from "../../../server/reconcile/syncRoutes";
import type { CheckResult } from "../convexPing";
import { createManagementClient, fetchRetryingToken } from "../managementApi";
import { managementFailure, ReconcileError } from "../reconcile/errors";
import {
  checkConfiguredTenant,
  verifiedTokenSupplier,
  WrongTenantError,
} from "../reconcile/tenant";
import { signedPost, SignedPostError } from "../signedPost";
import { judgeLogSync } from "../logSyncHealth";
import { judgeLegacyTables } from "../legacyTablesHealth";

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
  let canonicalIssuer: string | undefined;
  try {
    const reply = await signedPost({
      origin: opts.origin,
      path: SYNC_STATUS_PATH,
      secret: opts.syncSecret,
      body: {},
      timeoutMs: 10_000,
    });
    const json = reply.json as { error?: string; message?: string; canonicalIssuer?: string };
    const error = json?.error;
    if (reply.status === 200 && typeof json?.canonicalIssuer === "string") {
      canonicalIssuer = json.canonicalIssuer;
    }
    // A weak secret: Convex names the rule (never the value); a missing one: set it.
    const weak =
      error === "not_configured" && /AUTH0_SYNC_SECRET/.test(json?.message ?? "")
        ? String(json.message).slice(0, 400)
        : undefined;
    out.push(
      reply.status === 200
        ? { ...secret, status: "pass", detail: "the sync status route answered 200" }
        : {
            ...secret,
            status: "fail",
            detail:
              error === "bad_signature"
                ? "Convex refused the signature: set the same AUTH0_SYNC_SECRET in Convex (npx convex env set AUTH0_SYNC_SECRET <value>) and here"
                : weak
                  ? `Convex refuses to run the sync routes: ${weak}`
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
      const legacy = (reply.json as { legacyTables?: unknown } | undefined)?.legacyTables;
      out.push({
        id: "sync.legacyTables",
        title:
          "no rows are left under the module's 0.1 table names (organizations, memberships, …)",
        ...judgeLegacyTables(legacy),
      });
    }
  } catch (err) {
    out.push({
      ...secret,
      status: "fail",
      detail: err instanceof SignedPostError ? err.message : String(err),
    });
  }

  const tenant = {
    id: "sync.tenant",
    title: "the Auth0 tenant here is the one Convex trusts (AUTH0_DOMAIN, the token's issuer)",
  };
  const users = {
    id: "sync.auth0",
    title: "the reconcile's application may read users (read:users)",
  };
  if (!canonicalIssuer) {
    const detail = "needs the sync status route to answer (see the check above)";
    out.push({ ...tenant, status: "skip", detail }, { ...users, status: "skip", detail });
    return out;
  }
  const credentials = {
    domain: opts.domain,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
  };
  const token = verifiedTokenSupplier(credentials, canonicalIssuer, fetchRetryingToken());
  try {
    checkConfiguredTenant(opts.domain, canonicalIssuer);
    await token();
    out.push({
      ...tenant,
      status: "pass",
      detail: `AUTH0_DOMAIN and the Management API token both name ${opts.domain}`,
    });
  } catch (err) {
    const message = err instanceof ReconcileError ? err.message : String(err);
    if (err instanceof WrongTenantError) {
      out.push({ ...tenant, status: "fail", detail: message });
      out.push({ ...users, status: "skip", detail: "needs the right tenant" });
    } else {
      // No token at all (credentials, custom domain, network): the users check says why.
      out.push({ ...tenant, status: "skip", detail: "needs a Management API token" });
      out.push({ ...users, status: "fail", detail: message });
    }
    return out;
  }
  try {
    const client = createManagementClient(credentials, { token });
    await client.users.list({ per_page: 1, page: 0 });
    out.push({ ...users, status: "pass", detail: "GET /api/v2/users answered" });
  } catch (err) {
    // The reconcile's own wording: custom domain, missing scope, or the HTTP error.
    out.push({ ...users, status: "fail", detail: managementFailure(err, "listing users").message });
  }
  return out;
}
