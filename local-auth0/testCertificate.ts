/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1, made for each test
 * or sandbox run so the local HTTPS emulators can be reached by clients that insist on `https://` (the `auth0` SDK and
 * auth0-deploy-cli always call `https://{domain}`). Clients trust it through
 * `NODE_EXTRA_CA_CERTS`, which Node reads only at start-up, so it must be in a child's env.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
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
