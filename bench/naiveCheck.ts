/**
 * The naive reconcile that bench/reconcile.ts measures as its baseline, run as a child process
 * like check-sync: the Management API list endpoint page by page (100 a page), then one Convex
 * call per user listed. Reads the same variables as check-sync; prints one JSON line of figures.
 * Not a tool: it cannot see past Auth0's 1,000-record cap, which is the point.
 */
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { SYNC_APPLY_PATH } from "../server/reconcile/syncRoutes";
import { signedPost } from "../scripts/lib/signedPost";
import { requestToken } from "../server/logSync/auth0";

async function main() {
  const env = process.env;
  const domain = env.AUTH0_DOMAIN!;
  const started = performance.now();
  // The client-credentials request the log sync makes (one shared function), within a minute.
  const token = await requestToken(
    { domain, clientId: env.AUTH0_M2M_CLIENT_ID!, clientSecret: env.AUTH0_M2M_CLIENT_SECRET! },
    Date.now() + 60_000,
    "AUTH0_M2M_CLIENT_ID / AUTH0_M2M_CLIENT_SECRET",
  );
  let managementCalls = 1;
  const listed: { user_id: string }[] = [];
  let stoppedBy = "the end of the list";
  for (let page = 0; ; page++) {
    managementCalls++;
    const res = await fetch(`https://${domain}/api/v2/users?page=${page}&per_page=100`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
    });
    if (!res.ok) {
      const body = (await res.json()) as { message?: string };
      stoppedBy = `HTTP ${res.status} "${(body.message ?? "").slice(0, 56)}..."`;
      break;
    }
    const users = (await res.json()) as { user_id: string }[];
    if (users.length === 0) break;
    listed.push(...users);
  }
  let convexCalls = 0;
  for (const user of listed) {
    convexCalls++;
    await signedPost({
      origin: env.CONVEX_SITE_URL!,
      path: SYNC_APPLY_PATH,
      secret: env.AUTH0_SYNC_SECRET!,
      body: {
        upserts: [{ auth0UserId: user.user_id, profile: profileFromAuth0User(user) }],
        deletions: [],
      },
    });
  }
  console.log(
    JSON.stringify({
      wallMs: performance.now() - started,
      listed: listed.length,
      stoppedBy,
      managementCalls,
      convexCalls,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`naive check failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
