/**
 * The two tenants every copy-users test runs between: dev and prod, each an emulated tenant over
 * HTTPS with its own least-privilege machine-to-machine app, and a folder holding the
 * `.env.dev` / `.env.prod` files the command reads.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startManagementApiEmulator,
  type ManagementApiEmulator,
  type TenantPlan,
} from "../../../local-auth0/managementApiEmulator";
import type { TestCertificate } from "../../../local-auth0/testCertificate";

export const SOURCE_APP = {
  clientId: "dev-copy",
  clientSecret: randomBytes(24).toString("base64url"),
};
export const TARGET_APP = {
  clientId: "prod-copy",
  clientSecret: randomBytes(24).toString("base64url"),
};

export interface CopyTenants {
  dev: ManagementApiEmulator;
  prod: ManagementApiEmulator;
  /** The working folder of the command, with the two environment files. */
  dir: string;
  /** (Re)writes `.env.dev` and `.env.prod`; `prod` replaces the latter's text. */
  writeEnvFiles(overrides?: { prod?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Starts dev (read:users) and prod (`prodScopes`) and writes their environment files. */
export async function startCopyTenants(opts: {
  cert: TestCertificate;
  prodScopes: string[];
  plan?: TenantPlan;
}): Promise<CopyTenants> {
  const dir = await mkdtemp(join(tmpdir(), "copy-users-"));
  const start = (app: typeof SOURCE_APP, scopes: string[]) =>
    startManagementApiEmulator({
      clientId: `unused-${randomBytes(4).toString("hex")}`,
      clientSecret: randomBytes(24).toString("base64url"),
      clients: [{ ...app, scopes }],
      tls: opts.cert,
      ...(opts.plan ? { plan: opts.plan } : {}),
    });
  const dev = await start(SOURCE_APP, ["read:users"]);
  const prod = await start(TARGET_APP, opts.prodScopes);
  const lines = (e: ManagementApiEmulator, app: typeof SOURCE_APP) =>
    `AUTH0_DOMAIN=${e.domain}\nAUTH0_M2M_CLIENT_ID=${app.clientId}\nAUTH0_M2M_CLIENT_SECRET=${app.clientSecret}\n`;
  const writeEnvFiles = async (overrides: { prod?: string } = {}) => {
    await writeFile(join(dir, ".env.dev"), lines(dev, SOURCE_APP));
    await writeFile(join(dir, ".env.prod"), overrides.prod ?? lines(prod, TARGET_APP));
  };
  await writeEnvFiles();
  return {
    dev,
    prod,
    dir,
    writeEnvFiles,
    close: async () => {
      await dev.close();
      await prod.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
