/**
 * A local stand-in for a Convex deployment's HTTP host: a real HTTP server on 127.0.0.1 that hands
 * every request to the `convex/http.ts` router running inside convex-test, the official test
 * backend. The demo, the benchmark and the end-to-end tests all use it, so the Action is exercised
 * over real HTTP against the real route code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { convexTest } from "convex-test";
import schema from "../../convex/schema";
import { countWritesAsIndexRanges } from "./productionLimits";

const CONVEX_DIR = resolve(import.meta.dirname, "../../convex");

/** The module map convex-test needs, built from disk (what `import.meta.glob` gives under Vite). */
export function convexModules(): Record<string, () => Promise<unknown>> {
  const modules: Record<string, () => Promise<unknown>> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (
        /\.(ts|js)$/.test(entry.name) &&
        !/\.test\.ts$/.test(entry.name) &&
        !entry.name.endsWith(".d.ts")
      ) {
        const key = `./convex/${relative(CONVEX_DIR, full).split("\\").join("/")}`;
        modules[key] = () => import(pathToFileURL(full).href);
      }
    }
  };
  walk(CONVEX_DIR);
  return modules;
}

export type ConvexTestInstance = ReturnType<typeof convexTest<typeof schema.tables>>;

export interface LocalConvex {
  /** The convex-test backend: read rows with `t.run(ctx => ctx.db.query("users").collect())`. */
  t: ConvexTestInstance;
  /** Origin of the HTTP host, e.g. `http://127.0.0.1:43127`: the `.convex.site` URL stand-in. */
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A deployment's HTTP host as a fetch-style handler: the request's path and init. */
export type SiteHandler = (path: string, init: RequestInit) => Promise<Response>;

/** An HTTP(S) server on 127.0.0.1 that hands every request to `handle`. */
export async function serveSite(
  handle: SiteHandler,
  opts: {
    /** Awaited before each request is handled (tests use it to hold a request in flight). */
    beforeRequest?: (path: string) => Promise<void>;
    /** Serve HTTPS with this key and certificate (what a `.convex.site` URL is), else HTTP. */
    tls?: { key: string; cert: string };
  } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const body = await readBody(req);
        await opts.beforeRequest?.(new URL(req.url ?? "/", "http://localhost").pathname);
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
          else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        }
        const response = await handle(req.url ?? "/", {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(body),
        });
        const out = Buffer.from(await response.arrayBuffer());
        res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        res.end(out);
      } catch (err) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "local_host_error", message: String(err) }));
      }
    })();
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("local Convex host did not bind");
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * Starts the local HTTP host. Sets `CONVEX_SITE_URL` to its URL, as Convex does for a deployment;
 * the caller sets the other environment variables the functions read (`AUTH0_DOMAIN`, ...).
 */
export async function startLocalConvex(
  opts: {
    t?: ConvexTestInstance;
    /** Awaited before each request is handled (tests use it to hold a request in flight). */
    beforeRequest?: (path: string) => Promise<void>;
    /** Serve HTTPS with this key and certificate (what a `.convex.site` URL is), else HTTP. */
    tls?: { key: string; cert: string };
  } = {},
): Promise<LocalConvex> {
  // Production's limits, index ranges of patch/replace/delete included (a deployment counts them).
  countWritesAsIndexRanges();
  const t = opts.t ?? convexTest({ schema, modules: convexModules(), transactionLimits: true });
  const site = await serveSite((path, init) => t.fetch(path, init), opts);
  process.env.CONVEX_SITE_URL = site.url;
  return { t, url: site.url, close: site.close };
}
