/**
 * The checks a file must pass before `init` writes it, made when planning and again just before
 * the write: it lies inside the app (no symbolic link leads elsewhere), it is a regular file with
 * one link that its owner may write, and its bytes are UTF-8 (what TypeScript and Convex's bundler
 * read), so the text init edits maps back to exactly the bytes it read.
 */
import { accessSync, constants, lstatSync, realpathSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, isAbsolute } from "node:path";

const isInside = (path: string, folder: string) => {
  const rel = relative(folder, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
};

/**
 * Where `path` (absolute, existing or not) would really be written once every symbolic link on
 * the way is followed, or why it cannot be told (a link to a missing place).
 */
function realTarget(path: string): { real: string } | { problem: string } {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    let exists = true;
    try {
      lstatSync(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      exists = false;
    }
    if (exists) {
      try {
        return { real: join(realpathSync(current), ...rest) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        return { problem: `${current} is a symbolic link to a place that does not exist` };
      }
    }
    const parent = dirname(current);
    if (parent === current) return { real: path };
    rest.unshift(basename(current));
    current = parent;
  }
}

/**
 * Why `path` is not inside the app `root` once symbolic links are followed (a linked folder such
 * as `auth0-actions/` pointing elsewhere), or undefined when it is.
 */
export function outsideApp(path: string, root: string): string | undefined {
  const target = realTarget(path);
  if ("problem" in target) return `${target.problem}: init writes only inside the app`;
  const realRoot = realpathSync(root);
  if (isInside(target.real, realRoot)) return undefined;
  return `leads outside the app (to ${target.real}) through a symbolic link: init writes only inside ${realRoot}`;
}

/**
 * Why init will not replace the existing file described by `stat`, or undefined: a symbolic
 * link, not a regular file, more than one hard link (replacing it would cut the others off: init
 * writes a new file and renames it over the old one), or read-only.
 */
export function editProblem(path: string, stat: Stats): string | undefined {
  if (stat.isSymbolicLink()) return "is a symbolic link: init edits only regular files";
  if (!stat.isFile()) return "is not a regular file";
  if (stat.nlink > 1) {
    return `has ${stat.nlink} hard links: init replaces a file with a new one, which would cut the other links off; make it a file of its own (cp it, then mv the copy over it) or add the lines yourself`;
  }
  let writable = (stat.mode & 0o222) !== 0;
  try {
    accessSync(path, constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) {
    return `is read-only (mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}): init does not change read-only files; make it writable (chmod u+w) if it should change`;
  }
  return undefined;
}

/** The offset of the first byte that is not part of valid UTF-8, or -1 when all of it is. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: the sequence length and the range its second byte must fall in (this rules
    // out overlong forms, UTF-16 surrogates and code points past U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < low || c > high : c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/** The file's text when its bytes are UTF-8, else why init refuses it (naming the first bad byte). */
export function utf8Text(bytes: Uint8Array): { text: string } | { problem: string } {
  const bad = firstInvalidUtf8(bytes);
  // ignoreBOM keeps a byte order mark in the text, so the text encodes back to these bytes.
  if (bad === -1) return { text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes) };
  const hex = bytes[bad].toString(16).padStart(2, "0");
  return {
    problem: `is not UTF-8 (byte 0x${hex} at offset ${bad}; Latin-1 or Windows-1252 text?): TypeScript and Convex's bundler read it as UTF-8, and init edits only what it can write back byte for byte. Convert it (e.g. iconv -f latin1 -t utf-8), check it, then run init again`,
  };
}
