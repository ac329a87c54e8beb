/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1, made for each test
 * or sandbox run so the local HTTPS emulators can be reached by clients that insist on `https://` (the `auth0` SDK and
 * auth0-deploy-cli always call `https://{domain}`). Clients trust it through
 * `NODE_EXTRA_CA_CERTS`, which Node reads only at start-up, so it must be in a child's env; the
 * process that made the CA trusts it with {@link trustInThisProcess}.
 */
import { writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { generate } from "selfsigned";

export interface TestCertificate {
  /** PEM of the CA that signed the server certificate: what clients must trust. */
  caCert: string;
  /** PEM private key of the server certificate. */
  key: string;
  /** PEM server certificate for IP 127.0.0.1 and DNS localhost. */
  cert: string;
  /** Path of a file holding {@link caCert}, ready for `NODE_EXTRA_CA_CERTS`. */
  caPath: string;
}

/** Generates a CA and a 127.0.0.1 server certificate, and writes the CA to `dir/test-ca.pem`. */
export async function createTestCertificate(dir: string): Promise<TestCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 24 * 3600_000);
  const ca = await generate([{ name: "commonName", value: "convex-auth0-users test CA" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  const caPath = join(dir, "test-ca.pem");
  await writeFile(caPath, ca.cert, { mode: 0o600 });
  return { caCert: ca.cert, key: server.private, cert: server.cert, caPath };
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

/**
 * What `NODE_EXTRA_CA_CERTS` gives a child, for the running process, whose CA was made after it
 * started: `fetch` to `https://127.0.0.1` or `https://localhost` trusts `caCert` besides Node's
 * roots (other URLs go to the original `fetch`). The sandbox's Convex functions run in-process
 * and call the local tenant this way, as a deployment calls a tenant with a public certificate.
 * Returns the function that puts the original `fetch` back.
 */
export function trustInThisProcess(caCert: string): () => void {
  const original = globalThis.fetch;
  const ca = [...rootCertificates, caCert];
  const trusting = async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== "https:" || !LOCAL_HOSTS.has(url.hostname)) return original(input, init);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers = Object.fromEntries(req.headers);
    if (body) headers["content-length"] = String(body.length);
    return new Promise<Response>((ok, fail) => {
      const call = request(url, { method: req.method, headers, ca, signal: req.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("error", (err) => fail(new TypeError("fetch failed", { cause: err })));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
              out.append(name, v);
            }
          }
          const empty = req.method === "HEAD" || status === 204 || status === 304;
          ok(new Response(empty ? null : Buffer.concat(chunks), { status, headers: out }));
        });
      });
      // As fetch does: a network failure is a TypeError (callers tell it from an HTTP answer).
      call.on("error", (err) => fail(new TypeError("fetch failed", { cause: err })));
      call.end(body);
    });
  };
  globalThis.fetch = trusting as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}
