/**
 * The one rule every shared secret of this module's HTTP routes must meet, checked by each route
 * before it authenticates anything (a secret that breaks it makes the route answer
 * `not_configured`) and by the doctor and the deploy on their side: at least 32 characters of a
 * random-looking value, and never the same as another route's secret, current or previous.
 * Plain code with no Convex or Node imports, so the scripts import it too.
 */
import { constantTimeEqual } from "./signedRequest";

/** Each deployment variable that holds a route's shared secret, and what it opens. */
export const ROUTE_SECRETS = {
  AUTH0_ACTION_SECRET: "/auth0/upsert-user and /auth0/ping (the Post-Login Action)",
  AUTH0_EVENTS_TOKEN: "/auth0/events (the Auth0 Event Stream)",
  AUTH0_SYNC_SECRET: "/auth0/sync/* and /auth0/sync/orgs/* (the reconcile commands)",
} as const;
export type RouteSecretVariable = keyof typeof ROUTE_SECRETS;

/** Fewest characters a route secret may have. */
export const MIN_SECRET_LENGTH = 32;
/** Fewest distinct characters: 32 random hex digits have fewer than 8 about once in 30 million. */
const MIN_DISTINCT_CHARACTERS = 8;
/** Largest share of predictable characters (see {@link predictableShare}): a random hex value
 * of 32 digits stays under 0.25; repeats, cycles and sequences are far above. */
const MAX_PREDICTABLE_SHARE = 0.3;

/** The rule as a person reads it, with how to make a value that meets it. */
export const SECRET_RULE = `each route secret must be a random value of at least ${MIN_SECRET_LENGTH} characters, its own (never another route's, current or previous): generate one with openssl rand -base64 32`;

/**
 * The share of characters a reader could guess from what precedes them: the third character of
 * a three-character run seen earlier in the value (repeated characters, short cycles, a word
 * repeated), or the next step of an arithmetic run (`abcd`, `1357`, `zyxw`). Random values have
 * few by chance; patterned ones have most.
 */
function predictableShare(codes: number[]): number {
  const seen = new Set<string>();
  let predictable = 0;
  for (let i = 2; i < codes.length; i++) {
    const trigram = `${codes[i - 2]},${codes[i - 1]},${codes[i]}`;
    const repeated = seen.has(trigram);
    seen.add(trigram);
    const sequence = codes[i] - codes[i - 1] === codes[i - 1] - codes[i - 2];
    if (repeated || sequence) predictable++;
  }
  return codes.length === 0 ? 0 : predictable / codes.length;
}

/**
 * Why `value` is too weak for a route secret (says what kind of weakness, never the value), or
 * undefined when it looks random enough.
 */
export function secretWeakness(value: string): string | undefined {
  const codes = Array.from(value, (c) => c.codePointAt(0)!);
  if (codes.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (new Set(codes).size < MIN_DISTINCT_CHARACTERS) {
    return `has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters: not a random value`;
  }
  if (predictableShare(codes) > MAX_PREDICTABLE_SHARE) {
    return "repeats itself or runs in sequence (repeated characters, a cycle, a repeated word): not a random value";
  }
  return undefined;
}

/**
 * Every rule `variable` (and `variable_PREVIOUS`) breaks, one line each naming variables only,
 * or [] when both meet the rule. `read` gives a variable's value (unset or "" is skipped).
 * Comparisons with the other routes' secrets run in constant time.
 */
export function routeSecretProblems(
  variable: RouteSecretVariable,
  read: (name: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  const others = (Object.keys(ROUTE_SECRETS) as RouteSecretVariable[])
    .filter((name) => name !== variable)
    .flatMap((name) => [name, `${name}_PREVIOUS`]);
  for (const name of [variable, `${variable}_PREVIOUS`]) {
    const value = read(name);
    if (value === undefined || value === "") continue;
    const weakness = secretWeakness(value);
    if (weakness) problems.push(`${name} ${weakness}`);
    for (const other of others) {
      const otherValue = read(other);
      if (otherValue && constantTimeEqual(value, otherValue)) {
        problems.push(`${name} equals ${other}: each route needs its own secret`);
      }
    }
  }
  return problems;
}
