/**
 * Sends a request signed the way the Post-Login Action signs its upsert (server/http/signedRequest.ts)
 * to a route of the Convex deployment, from a script: the sync commands, the doctor, the deploy's
 * final ping and `npm run upsert-user` all call Convex through here.
 */
import { audienceFor, signRequest } from "../../server/http/signedRequest";

export { convexSiteOrigin } from "../../server/http/siteUrl";

/** What a signed call gave: the HTTP status and the parsed JSON reply (undefined when not JSON). */
export interface SignedReply {
  status: number;
  json: unknown;
}

/** Thrown when the deployment cannot be reached or answers with something unreadable. */
export class SignedPostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignedPostError";
  }
}

/**
 * POSTs `body` as JSON to `origin + path`, signed with `secret` for that route's audience. Reads at
 * most `maxReplyBytes` of the reply. Never puts the secret or the token in an error message.
 */
export async function signedPost(opts: {
  origin: string;
  path: string;
  secret: string;
  body: unknown;
  timeoutMs?: number;
  maxReplyBytes?: number;
}): Promise<SignedReply> {
  const text = JSON.stringify(opts.body);
  const url = audienceFor(opts.origin, opts.path);
  const token = await signRequest(opts.secret, text, url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: text,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new SignedPostError(
      `cannot reach ${url}: ${cause ?? (err instanceof Error ? err.message : String(err))}`,
    );
  }
  const limit = opts.maxReplyBytes ?? 32 * 1024 * 1024;
  // Decoded chunk by chunk into one string: no copy of the whole reply outside the JS heap (a
  // page of rows is megabytes, read hundreds of times by the reconcile).
  const decoder = new TextDecoder();
  let reply = "";
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw new SignedPostError(`${url} answered more than ${limit} bytes`);
      }
      reply += decoder.decode(value, { stream: true });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(reply + decoder.decode());
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}
