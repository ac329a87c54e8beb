/**
 * Preloaded into a command (`NODE_OPTIONS=--import <this file>`, see ./smallDisk.ts): files under
 * DISK_FULL_DIR behave as on a filesystem with DISK_FULL_BYTES free, the way Linux answers when
 * it fills: a write that does not fit writes what fits and returns that count (a short write,
 * no error); the next one fails with ENOSPC. statfs there reports what is left. Plain JavaScript:
 * it loads before tsx does.
 */
import { Buffer } from "node:buffer";
import fs from "node:fs";
import { open } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { env } from "node:process";

const dir = env.DISK_FULL_DIR;
let free = Number(env.DISK_FULL_BYTES);

const under = (path) => typeof path === "string" && (path === dir || path.startsWith(`${dir}/`));

if (dir && Number.isFinite(free)) {
  const probe = await open("/dev/null", "r");
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  const write = proto.write;
  proto.write = async function (data, ...rest) {
    let path = "";
    try {
      path = fs.readlinkSync(`/proc/self/fd/${this.fd}`);
    } catch {
      // not a file descriptor with a path: written as is
    }
    if (!under(path)) return write.call(this, data, ...rest);
    // The three forms of FileHandle.write, as (buffer, offset, length, position).
    let buffer, offset, length, position;
    if (typeof data === "string") {
      buffer = Buffer.from(data, typeof rest[1] === "string" ? rest[1] : "utf8");
      [offset, length, position] = [0, buffer.length, rest[0] ?? null];
    } else if (rest[0] !== null && typeof rest[0] === "object") {
      buffer = data;
      offset = rest[0].offset ?? 0;
      length = rest[0].length ?? buffer.byteLength - offset;
      position = rest[0].position ?? null;
    } else {
      buffer = data;
      offset = rest[0] ?? 0;
      length = rest[1] ?? buffer.byteLength - offset;
      position = rest[2] ?? null;
    }
    if (length > 0 && free <= 0) {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
        code: "ENOSPC",
        errno: -28,
        syscall: "write",
      });
    }
    const allowed = Math.min(length, free);
    free -= allowed;
    const result = await write.call(this, buffer, offset, allowed, position);
    return { bytesWritten: result.bytesWritten, buffer: data };
  };

  const statfs = fs.promises.statfs;
  fs.promises.statfs = async (path, options) => {
    const stats = await statfs(path, options);
    if (!under(fs.realpathSync(path))) return stats;
    return Object.assign(Object.create(Object.getPrototypeOf(stats)), stats, {
      bavail: Math.floor(free / stats.bsize),
      bfree: Math.floor(free / stats.bsize),
    });
  };
  syncBuiltinESMExports();
}
