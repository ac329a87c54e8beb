/**
 * `npm run upsert-user -- --sub 'auth0|123' --email a@b.c [--name "Ada"] [--email-verified]
 *  [--issuer login.example.com] [--updated-at 2026-11-29T10:00:00Z] [--json]`
 *
 * The hand test of the Action's path from a terminal: builds the body and the signed request
 * exactly as the Post-Login Action does (the shared tokenIdentifier builder, the profile mapping,
 * an HS256 token for the route's URL with the body's hash) and sends it to
 * `<CONVEX_HTTP_URL>/auth0/upsert-user`, printing the answer. Reads AUTH0_DOMAIN, CONVEX_HTTP_URL
 * and AUTH0_ACTION_SECRET from the environment or `.env.local`. It writes the user it names.
 *
 * Exit codes: 0 stored, 1 Convex refused it (the answer says why), 2 bad usage or configuration.
 */
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { convexSiteOrigin } from "../server/http/siteUrl";
import { UPSERT_USER_PATH } from "../server/http/signedRequest";
import { tokenIdentifier, TokenIdentifierError } from "../server/tokenIdentifier";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { loadEnvFile } from "./lib/deployCli";
import { signedPost, SignedPostError } from "./lib/signedPost";

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS["upsert-user"]);
  if ("error" in flags) {
    console.error(`upsert-user: ${flags.error}`);
    return EXIT.usage;
  }
  loadEnvFile(process.env);
  const problems: string[] = [];
  const sub = flags.values.get("sub");
  if (!sub) problems.push("--sub is required, e.g. --sub 'auth0|123'");
  const missing = ["CONVEX_HTTP_URL", "AUTH0_ACTION_SECRET"].filter(
    (name) => !process.env[name]?.trim(),
  );
  const issuerInput = flags.values.get("issuer") ?? process.env.AUTH0_DOMAIN?.trim();
  if (!issuerInput) missing.push("AUTH0_DOMAIN (or --issuer)");
  if (missing.length > 0) {
    problems.push(`missing ${missing.join(", ")}: set them in .env.local or the environment`);
  }
  const site = process.env.CONVEX_HTTP_URL?.trim()
    ? convexSiteOrigin(process.env.CONVEX_HTTP_URL, "CONVEX_HTTP_URL")
    : undefined;
  if (site && "problem" in site) problems.push(site.problem);
  const updatedAtRaw = flags.values.get("updated-at");
  const updatedAt = updatedAtRaw ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(updatedAt))) problems.push("--updated-at must be an ISO date-time");

  let key = "";
  if (sub && issuerInput) {
    try {
      key = tokenIdentifier(issuerInput, sub);
    } catch (err) {
      if (!(err instanceof TokenIdentifierError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0 || !site || "problem" in site) {
    for (const p of problems) console.error(`upsert-user: ${p}`);
    console.error("upsert-user: nothing was sent.");
    return EXIT.usage;
  }

  // The profile as Auth0 would hand it to the Action.
  const profile = profileFromAuth0User({
    user_id: sub!,
    email: flags.values.get("email"),
    email_verified: flags.booleans.has("email-verified"),
    name: flags.values.get("name"),
    updated_at: updatedAt,
  });
  const body = { tokenIdentifier: key, ...profile };
  let reply;
  try {
    reply = await signedPost({
      origin: site.origin,
      path: UPSERT_USER_PATH,
      secret: process.env.AUTH0_ACTION_SECRET!.trim(),
      body,
      timeoutMs: 10_000,
    });
  } catch (err) {
    console.error(`upsert-user: ${err instanceof SignedPostError ? err.message : String(err)}`);
    return EXIT.refused;
  }
  const answer = { status: reply.status, tokenIdentifier: key, reply: reply.json };
  if (flags.booleans.has("json")) console.log(JSON.stringify(answer, null, 2));
  else {
    console.log(`POST ${site.origin}${UPSERT_USER_PATH} as ${key}`);
    console.log(`HTTP ${reply.status} ${JSON.stringify(reply.json)}`);
    if (reply.status !== 200) console.log("Run npm run doctor to find which setting is wrong.");
  }
  return reply.status === 200 ? EXIT.ok : EXIT.refused;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      `upsert-user: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
    process.exit(EXIT.usage);
  },
);
