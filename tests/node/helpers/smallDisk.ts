/**
 * A nearly full filesystem under a folder a command writes to, two ways: a real tmpfs of a few
 * KiB mounted there (needs root and the right to mount; CI runs as root), and, always available,
 * the same behaviour injected into the command (./diskFull.mjs, preloaded with NODE_OPTIONS):
 * a write that does not fit is short, the next fails with ENOSPC.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export type DiskKind = "tmpfs" | "injected";

let mountable: boolean | undefined;
/** Whether this process may mount a tmpfs (tried once, on a scratch folder). */
export function canMountTmpfs(): boolean {
  if (mountable !== undefined) return mountable;
  const probe = mkdtempSync(join(tmpdir(), "tmpfs-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    mountable = true;
  } catch {
    mountable = false;
  }
  rmSync(probe, { recursive: true, force: true });
  return mountable;
}

export interface SmallDisk {
  /** Variables for the command's environment (empty for a real tmpfs). */
  env: Record<string, string>;
  /** Frees space (the tmpfs grows to 1 MiB, keeping its files); returns the environment a
   * command gets from then on. */
  grow(): Record<string, string>;
  /** Unmounts (tmpfs: its files go with it). */
  release(): void;
}

/**
 * Makes `dir` (created here) a filesystem with `freeBytes` free: a tmpfs of that size (a whole
 * number of 4 KiB pages), or the injection for the command's process.
 */
export function smallDisk(kind: DiskKind, dir: string, freeBytes: number): SmallDisk {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (kind === "tmpfs") {
    const size = Math.ceil(freeBytes / 4096) * 4096;
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir]);
    return {
      env: {},
      grow: () => {
        execFileSync("mount", ["-o", "remount,size=1m", dir]);
        return {};
      },
      release: () => execFileSync("umount", [dir]),
    };
  }
  return {
    env: {
      NODE_OPTIONS: `--import ${resolve(import.meta.dirname, "diskFull.mjs")}`,
      DISK_FULL_DIR: realpathSync(dir),
      DISK_FULL_BYTES: String(freeBytes),
    },
    grow: () => ({}),
    release: () => {},
  };
}
