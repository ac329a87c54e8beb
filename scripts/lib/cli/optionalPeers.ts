/**
 * Packages only some commands need, declared as optional peer dependencies so that an app pays
 * their install size only when it uses those commands (figures in README "The npm package"). The
 * dispatcher checks them before loading a command, so a missing one is a clear "install X" and
 * exit 2, not a stack trace from deep inside the command.
 */
import { readFileSync } from "node:fs";

/**
 * The optional peers each command needs, by command name (or `command --flag` for a flag that
 * alone needs one; that command checks it itself).
 */
export const COMMAND_PEERS: Readonly<Record<string, readonly string[]>> = {
  "copy-users --password": [
    "@zxcvbn-ts/core",
    "@zxcvbn-ts/language-common",
    "@zxcvbn-ts/language-en",
    "@zxcvbn-ts/language-de",
    "@zxcvbn-ts/language-es-es",
    "@zxcvbn-ts/language-fr",
  ],
  deploy: ["auth0-deploy-cli"],
  "deploy-auth0": ["auth0-deploy-cli"],
  doctor: ["typescript"],
  init: ["typescript"],
  sandbox: ["selfsigned"],
  demo: ["selfsigned"],
};

/** The package's declared peer ranges (package.json), to print the exact install command. */
export function peerRanges(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  return (pkg as { peerDependencies?: Record<string, string> }).peerDependencies ?? {};
}

function installed(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The message for `command` when a peer it needs is not installed, else undefined. `isInstalled`
 * is replaceable for tests.
 */
export function missingPeersMessage(
  bin: string,
  command: string,
  isInstalled: (name: string) => boolean = installed,
): string | undefined {
  const missing = (COMMAND_PEERS[command] ?? []).filter((name) => !isInstalled(name));
  if (missing.length === 0) return undefined;
  const ranges = peerRanges();
  const specs = missing.map((name) => (ranges[name] ? `${name}@"${ranges[name]}"` : name));
  const names =
    missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}`;
  return [
    `${bin} ${command}: needs ${names}, not installed (an optional peer dependency of ${bin}, left out of the default install for its size).`,
    `Install it in this project: npm install --save-dev ${specs.join(" ")}`,
  ].join("\n");
}
