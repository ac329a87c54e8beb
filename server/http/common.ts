/**
 * What every HTTP route of this module shares: JSON errors, capped body reads, media-type and
 * JSON checks, the `not_configured` answer, and the signed-request check used by every route a
 * script or the Action calls (see server/http/signedRequest.ts). Routes are registered in convex/http.ts.
 */
import type { GenericValidator, Infer } from "convex/values";
import { validate, ValidationError } from "convex-helpers/validators";
import { deploymentVariable } from "../deploymentVariables";
import { routeSecretProblems, SECRET_RULE, type RouteSecretVariable } from "./routeSecrets";
import { audienceFor, verifySignedRequest, type SignatureFailure } from "./signedRequest";
import { normalizeIssuer, TokenIdentifierError } from "../tokenIdentifier";

/** A JSON error as every route here returns it: a stable code and what to do about it. */
export function jsonError(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status });
}

class BodyTooLarge extends Error {}

/** Reads a body, stopping as soon as it passes `limit` bytes. */
async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

/** The request's body, or the 413 to answer when it is over `limit` bytes. */
export async function readBodyOr413(
  request: Request,
  limit: number,
  what: string,
): Promise<Uint8Array | Response> {
  try {
    return await readBodyCapped(request, limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      return jsonError(413, "body_too_large", `The ${what} is over ${limit} bytes.`);
    }
    throw err;
  }
}

/** Whether a Content-Type header names one of `allowed` (parameters such as charset ignored). */
export function hasMediaType(value: string | null, allowed: string[]): boolean {
  return allowed.includes(value?.split(";")[0].trim().toLowerCase() ?? "");
}

/** The body parsed as UTF-8 JSON, or the 400 to answer. */
export function parseJsonOr400(body: Uint8Array): { json: unknown } | Response {
  try {
    return { json: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) };
  } catch {
    return jsonError(400, "malformed_json", "The body is not valid JSON.");
  }
}

/** A validation failure as a person reads it: where, what was expected, what came. */
export function describeValidationError(err: unknown): string {
  if (err instanceof ValidationError) {
    return `${err.path ? `${err.path}: ` : ""}expected ${err.expected}, got ${err.got}`;
  }
  return "does not match the expected shape";
}

/**
 * Keys of `value` the validator does not declare as its own fields, at every depth: through
 * nested objects, array items (`upserts`, `deletions`, `memberships`), optional fields and
 * unions. convex-helpers' `validate` looks unknown keys up with `fields[key]`, which finds
 * Object.prototype members (`toString`, `constructor`, `__proto__`) and lets them through. A
 * record's keys are data, but `__proto__` is refused there too (it is never a real name).
 */
export function undeclaredKeys(
  validator: GenericValidator,
  value: unknown,
  path: string,
): string[] {
  if (typeof value !== "object" || value === null) return [];
  switch (validator.kind) {
    case "array":
      if (!Array.isArray(value)) return [];
      return value.flatMap((item, i) =>
        undeclaredKeys(validator.element as GenericValidator, item, `${path}${i}.`),
      );
    case "union": {
      // A key is undeclared when every member that could hold this value lacks it.
      const members = validator.members as GenericValidator[];
      const results = members
        .filter(
          (m) =>
            m.kind === "object" || m.kind === "array" || m.kind === "record" || m.kind === "union",
        )
        .map((m) => undeclaredKeys(m, value, path));
      if (results.length === 0) return [];
      return results.some((r) => r.length === 0) ? [] : results[0];
    }
    case "record":
      if (Array.isArray(value)) return [];
      return Object.keys(value).flatMap((key) =>
        key === "__proto__"
          ? [`${path}${key}`]
          : undeclaredKeys(
              validator.value as GenericValidator,
              (value as Record<string, unknown>)[key],
              `${path}${key}.`,
            ),
      );
    case "object": {
      if (Array.isArray(value)) return [];
      const fields = validator.fields as Record<string, GenericValidator>;
      return Object.keys(value).flatMap((key) =>
        Object.hasOwn(fields, key)
          ? undeclaredKeys(fields[key], (value as Record<string, unknown>)[key], `${path}${key}.`)
          : [`${path}${key}`],
      );
    }
    default:
      return [];
  }
}

/**
 * Checks a parsed JSON body against an object validator, refusing every key it does not declare.
 * Returns the body typed, or the 400 `invalid_body` to answer (naming the first problem).
 */
export function validateBody<V extends GenericValidator>(
  validator: V,
  json: unknown,
  what: string,
): { value: Infer<V> } | Response {
  const unknown = undeclaredKeys(validator, json, "");
  if (unknown.length > 0) {
    return jsonError(
      400,
      "invalid_body",
      `Invalid ${what} (unknown field ${logSafe(JSON.stringify(unknown[0]), 80)}).`,
    );
  }
  try {
    validate(validator, json, { throw: true });
  } catch (err) {
    return jsonError(400, "invalid_body", `Invalid ${what} (${describeValidationError(err)}).`);
  }
  return { value: json as Infer<V> };
}

/**
 * A value from a request made safe for one log line: control and line-separator characters
 * become spaces, and the length is capped, so a sender cannot forge or flood log lines.
 */
export function logSafe(value: unknown, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

const DOMAIN_VARIABLES = ["AUTH0_DOMAIN", "AUTH0_CUSTOM_DOMAIN"] as const;

/**
 * A 500 `not_configured` naming every missing variable and every malformed Auth0 domain, or null
 * when the deployment has what `route` needs. Names variables only: a value (which may hold
 * credentials pasted into a URL) is never echoed to the caller or logged.
 */
export function configurationError(route: string, required: string[]): Response | null {
  const missing = required.filter((name) => !deploymentVariable(name));
  const malformed = DOMAIN_VARIABLES.filter((name) => {
    const value = deploymentVariable(name);
    if (!value || value.trim() === "") return false;
    try {
      normalizeIssuer(value);
      return false;
    } catch (err) {
      if (!(err instanceof TokenIdentifierError)) throw err;
      return true;
    }
  });
  if (missing.length === 0 && malformed.length === 0) return null;
  const parts: string[] = [];
  if (missing.length > 0) {
    parts.push(
      `Set ${missing.join(", ")} in the Convex deployment's environment variables (npx convex env set NAME value).`,
    );
  }
  if (malformed.length > 0) {
    parts.push(
      `${malformed.join(" and ")} must be a bare domain such as tenant.us.auth0.com or login.example.com (no path, query or credentials).`,
    );
  }
  console.error(
    `${route}: not configured, missing ${missing.join(", ") || "nothing"}; malformed ${malformed.join(", ") || "nothing"}`,
  );
  return jsonError(500, "not_configured", parts.join(" "));
}

/** Who signs requests for a route, named in the errors a caller reads. */
export interface SignedRouteOptions {
  /** Route name for log lines, e.g. `auth0/upsert-user`. */
  route: string;
  /** The route's path: the audience a token must name. */
  path: string;
  /** The deployment variable holding the secret; `<name>_PREVIOUS` is accepted while rotating. */
  secretVariable: RouteSecretVariable;
  /** Where the signer keeps its copy of the secret, e.g. "the Action's secrets". */
  signerSecretPlace: string;
  /** The variable the signer derives this deployment's URL from, e.g. `CONVEX_HTTP_URL`. */
  signerUrlVariable: string;
  /** Variables the route needs besides the secret and `CONVEX_SITE_URL`. */
  required: string[];
  maxBodyBytes: number;
}

/**
 * The 500 `not_configured` a route answers while its secret `variable` (or its `_PREVIOUS`)
 * breaks the secret rule (server/http/routeSecrets.ts), or null when it meets it. Names the variables
 * and the rule, never a value; `signerPlace` is where the sender keeps its copy.
 */
export function weakSecretError(
  route: string,
  variable: RouteSecretVariable,
  signerPlace: string,
): Response | null {
  const problems = routeSecretProblems(variable, deploymentVariable);
  if (problems.length === 0) return null;
  console.error(`${route}: not configured, ${problems.join("; ")}`);
  return jsonError(
    500,
    "not_configured",
    `${problems.join("; ")}. The rule: ${SECRET_RULE}. Set the new value with npx convex env set, and the same in ${signerPlace}.`,
  );
}

function signatureMessage(reason: SignatureFailure, o: SignedRouteOptions): string {
  switch (reason) {
    case "missing_signature":
      return "Send the request signed with the shared secret: Authorization: Bearer <HS256 JWT>.";
    case "bad_signature":
      return `The signature does not match ${o.secretVariable} (or ${o.secretVariable}_PREVIOUS): set the same secret in the Convex deployment and in ${o.signerSecretPlace}.`;
    case "token_expired":
      return "The signed request has expired: tokens live at most 60 s. Check the signer's clock.";
    case "token_not_yet_valid":
      return "The signed request is dated in the future: check clocks.";
    case "token_lifetime_too_long":
      return "The signed request lives longer than 60 s; it is refused.";
    case "wrong_audience":
      return `The signed request is for another deployment: ${o.signerUrlVariable} must be this deployment's .convex.site URL.`;
    case "body_mismatch":
      return "The body does not match the hash it was signed with.";
  }
}

/**
 * Authenticates a signed JSON request: configuration (500), media type (415), body size (413),
 * signature (401), JSON (400), in that order. Returns the parsed body, or the error to answer.
 * Nothing has been written when it returns a Response.
 */
export async function readSignedJson(
  request: Request,
  options: SignedRouteOptions,
): Promise<{ json: unknown; usedPreviousSecret: boolean; issuedAt: number } | Response> {
  const name = options.secretVariable;
  const secrets = [deploymentVariable(name), deploymentVariable(`${name}_PREVIOUS`)].filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  const misconfigured = configurationError(options.route, [
    name,
    ...options.required,
    "CONVEX_SITE_URL",
  ]);
  if (misconfigured) return misconfigured;
  const weak = weakSecretError(options.route, name, options.signerSecretPlace);
  if (weak) return weak;

  if (!hasMediaType(request.headers.get("content-type"), ["application/json"])) {
    return jsonError(
      415,
      "unsupported_media_type",
      "Send the body as Content-Type: application/json.",
    );
  }
  const body = await readBodyOr413(request, options.maxBodyBytes, "body");
  if (body instanceof Response) return body;

  const verified = await verifySignedRequest({
    authorization: request.headers.get("authorization"),
    body,
    audience: audienceFor(deploymentVariable("CONVEX_SITE_URL")!, options.path),
    secrets,
  });
  if (!verified.ok) {
    console.warn(`${options.route}: rejected (${verified.reason})`);
    return jsonError(401, verified.reason, signatureMessage(verified.reason, options));
  }
  if (verified.usedPreviousSecret) {
    console.warn(
      `${options.route}: request signed with ${name}_PREVIOUS; finish the rotation by updating ${options.signerSecretPlace}`,
    );
  }
  const parsed = parseJsonOr400(body);
  if (parsed instanceof Response) return parsed;
  return {
    json: parsed.json,
    usedPreviousSecret: verified.usedPreviousSecret,
    issuedAt: verified.issuedAt,
  };
}
