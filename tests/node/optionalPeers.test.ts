/**
 * Optional peer dependencies: the commands that need a package the default install leaves out say
 * which one and how to install it (exit 2), and the list agrees with package.json. The missing
 * case from a real install is in package.test.ts.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { COMMANDS } from "../../scripts/lib/cli/commands";
import { COMMAND_PEERS, missingPeersMessage } from "../../scripts/lib/cli/optionalPeers";
import { ROOT } from "../../scripts/lib/childProcess";

const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe("optional peers", () => {
  test("each is an optional peer in package.json, not a dependency", () => {
    const peers = new Set(Object.values(COMMAND_PEERS).flat());
    expect(peers.size).toBeGreaterThan(0);
    for (const name of peers) {
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.dependencies[name], name).toBeUndefined();
    }
  });

  test("each names a command of the bin (init is the init helper's, merged separately)", () => {
    for (const key of Object.keys(COMMAND_PEERS)) {
      const [command, flag] = key.split(" ");
      if (command === "init" && !Object.hasOwn(COMMANDS, "init")) continue;
      expect(Object.hasOwn(COMMANDS, command), command).toBe(true);
      if (flag) {
        const spec = COMMANDS[command as keyof typeof COMMANDS];
        expect(
          spec.flags.map((f) => `--${f.name}`),
          key,
        ).toContain(flag);
      }
    }
  });

  test("a missing peer gives the exact install command; an installed one gives nothing", () => {
    const message = missingPeersMessage("convex-auth0-users", "deploy", () => false);
    expect(message).toContain("convex-auth0-users deploy: needs auth0-deploy-cli, not installed");
    expect(message).toContain(
      `npm install --save-dev auth0-deploy-cli@"${pkg.peerDependencies["auth0-deploy-cli"]}"`,
    );
    expect(missingPeersMessage("convex-auth0-users", "deploy", () => true)).toBeUndefined();
    expect(missingPeersMessage("convex-auth0-users", "check-sync", () => false)).toBeUndefined();
  });

  test("in this repository every optional peer is installed (as a devDependency)", () => {
    for (const command of Object.keys(COMMAND_PEERS)) {
      expect(missingPeersMessage("convex-auth0-users", command)).toBeUndefined();
    }
  });
});
