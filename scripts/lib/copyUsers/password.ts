/**
 * Passwords for copied users. By default each gets a long random one that nobody sees (and a
 * password-change ticket); `--password` sets one chosen password, only when it is strong and not
 * one of the defaults that shared test accounts are known by. It is read from COPY_USERS_PASSWORD
 * or a prompt that does not echo, and never printed or logged.
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** Words default passwords are made of (compared after undoing l33t spelling). */
const DEFAULT_WORDS = [
  "changeme",
  "password",
  "passw",
  "welcome",
  "letmein",
  "qwerty",
  "admin",
  "default",
  "secret",
  "temp",
  "test",
  "iloveyou",
  "abc",
];

/** Why `password` may not be shared by copied users, or undefined when it may. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 12) return "it is shorter than 12 characters";
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password));
  if (kinds.length < 3) {
    return "it needs three of: lower case, upper case, digits, symbols";
  }
  const letters = password
    .toLowerCase()
    .replace(/@/g, "a")
    .replace(/0/g, "o")
    .replace(/[1!|]/g, "i")
    .replace(/3/g, "e")
    .replace(/\$/g, "s")
    .replace(/[^a-z]/g, "");
  const word = DEFAULT_WORDS.find((w) => letters.includes(w));
  if (word)
    return "it is built on a word that well-known default passwords use, which attackers try first";
  return undefined;
}

/** A password nobody will know: 256 random bits, with every character kind a policy may ask. */
export function randomPassword(): string {
  return `${randomBytes(32).toString("base64url")}aA1!`;
}

/** Reads a line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  // The interface puts the terminal in raw mode (no echo) before the question is shown, so
  // nothing typed after it can be echoed by the terminal itself.
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(question);
  try {
    return await new Promise<string>((ok) => rl.question("", ok));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
