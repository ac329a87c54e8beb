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
import { createTestCertificate, type TestCertificate } from "../../../local-auth0/testCertificate";
import { afterEach, beforeAll, beforeEach } from "vitest";

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

/** The tenants of the test running now (see {@link copyTenantsEachTest}). */
export interface CopyTestBed {
  /** The test CA both tenants serve HTTPS with, one for the file. */
  cert: TestCertificate;
  tenants: CopyTenants;
  dev: ManagementApiEmulator;
  prod: ManagementApiEmulator;
  dir: string;
  /** What a copy-users run gets from the environment: PATH, HOME and the test CA, nothing else. */
  env(): Record<string, string>;
}

/**
 * The set-up every copy-users test file shares: one test CA for the file, dev and prod started
 * before each test (the calling file's own `beforeEach` runs after, to seed them) and closed after.
 */
export function copyTenantsEachTest(opts: {
  prodScopes: string[];
  plan?: TenantPlan;
}): CopyTestBed {
  const bed = {
    env: () => ({
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      NODE_EXTRA_CA_CERTS: bed.cert.caPath,
    }),
  } as unknown as CopyTestBed;
  beforeAll(async () => {
    bed.cert = await createTestCertificate(await mkdtemp(join(tmpdir(), "copy-ca-")));
  });
  beforeEach(async () => {
    bed.tenants = await startCopyTenants({ cert: bed.cert, ...opts });
    ({ dev: bed.dev, prod: bed.prod, dir: bed.dir } = bed.tenants);
  });
  afterEach(async () => {
    await bed.tenants?.close();
  });
  return bed;
}
