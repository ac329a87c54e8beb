/**
 * copy-users reads each environment's credentials from its own file, `.env.<name>` in the working
 * directory (git-ignored): AUTH0_DOMAIN, AUTH0_M2M_CLIENT_ID, AUTH0_M2M_CLIENT_SECRET. Both files
 * are checked before any call; every problem names the file, never a value.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { normalizeIssuer, TokenIdentifierError } from "../../../server/tokenIdentifier";
import type { ManagementCredentials } from "../managementApi";

export const TENANT_VARIABLES = [
  "AUTH0_DOMAIN",
  "AUTH0_M2M_CLIENT_ID",
  "AUTH0_M2M_CLIENT_SECRET",
] as const;

export interface Environment {
  /** The name given on the command line (`dev`, `prod`). */
  name: string;
  file: string;
  credentials: ManagementCredentials;
}

/** Reads `.env.<name>` from `cwd`; returns the credentials or every problem found. */
export function readEnvironment(
  name: string,
  cwd = process.cwd(),
): { env: Environment } | { problems: string[] } {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) {
    return { problems: [`"${name}" is not an environment name (letters, digits, - and _)`] };
  }
  const file = `.env.${name}`;
  const path = resolve(cwd, file);
  if (!existsSync(path)) {
    return {
      problems: [
        `${file} does not exist in ${cwd}: create it with ${TENANT_VARIABLES.join(", ")} for the ${name} tenant`,
      ],
    };
  }
  let values: Record<string, string | undefined>;
  try {
    values = parseEnv(readFileSync(path, "utf8"));
  } catch (err) {
    return { problems: [`${file} cannot be read: ${(err as Error).message.split("\n")[0]}`] };
  }
  const problems: string[] = [];
  const missing = TENANT_VARIABLES.filter((v) => !values[v]?.trim());
  if (missing.length > 0) problems.push(`${file} is missing ${missing.join(", ")}`);
  let domain = "";
  if (values.AUTH0_DOMAIN?.trim()) {
    try {
      domain = new URL(normalizeIssuer(values.AUTH0_DOMAIN.trim())).host;
    } catch (err) {
      if (!(err instanceof TokenIdentifierError)) throw err;
      problems.push(`${file}: AUTH0_DOMAIN must be the tenant's domain, e.g. tenant.us.auth0.com`);
    }
  }
  if (problems.length > 0) return { problems };
  return {
    env: {
      name,
      file,
      credentials: {
        domain,
        clientId: values.AUTH0_M2M_CLIENT_ID!.trim(),
        clientSecret: values.AUTH0_M2M_CLIENT_SECRET!.trim(),
      },
    },
  };
}
