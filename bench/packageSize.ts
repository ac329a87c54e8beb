/**
 * `npm run bench:package`: what installing the package costs an app. Packs this repository
 * (`npm pack`, which builds first), then installs into empty projects, each measured with
 * `du -sk node_modules`:
 *   - baseline: convex alone (what a Convex app already has),
 *   - package:  the tarball alone (npm adds its required peer, convex),
 *   - + peers:  the tarball and every optional peer (package.json's peerDependenciesMeta:
 *               auth0-deploy-cli, typescript, selfsigned, zxcvbn-ts, react, @auth0/auth0-react).
 * Prints the tarball's size, the unpacked size, each install's size and the package's cost over
 * the baseline. Needs npm's cache or the registry.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../scripts/lib/childProcess";
import { devVersion, du, installInto, pack } from "./lib/packedPackage";

const { peerDependenciesMeta } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const OPTIONAL_PEERS = Object.keys(peerDependenciesMeta).filter(
  (n) => peerDependenciesMeta[n].optional,
);

const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
const dir = mkdtempSync(join(tmpdir(), "package-size-"));
try {
  const packed = await pack(dir);
  console.log(`tarball:   ${(packed.size / 1024).toFixed(0)} KB (${packed.files.length} files)`);
  console.log(`unpacked:  ${(packed.unpackedSize / 1024).toFixed(0)} KB`);
  const sizes: Record<string, number> = {};
  const installs: [string, string[]][] = [
    ["baseline (convex)", [devVersion("convex")]],
    ["package", [packed.tarball]],
    ["package + optional peers", [packed.tarball, ...OPTIONAL_PEERS.map(devVersion)]],
  ];
  for (const [name, packages] of installs) {
    const app = join(dir, name.replace(/\W+/g, "-"));
    const started = Date.now();
    await installInto(app, packages);
    sizes[name] = await du(join(app, "node_modules"));
    console.log(
      `${name.padEnd(26)} node_modules ${mb(sizes[name]).padStart(9)}   (npm install ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  const base = sizes["baseline (convex)"];
  for (const name of ["package", "package + optional peers"]) {
    console.log(
      `${name.padEnd(26)} over the baseline: +${mb(sizes[name] - base)} (x${(sizes[name] / base).toFixed(2)})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
