/**
 * Passwords for copied users. By default each gets a long random one that nobody sees (and a
 * password-change ticket); `--password` sets one chosen password, only when it is not one of the
 * defaults that shared test accounts are known by and zxcvbn-ts scores it
 * {@link MIN_PASSWORD_SCORE} of 4. It is read from COPY_USERS_PASSWORD
 * or a prompt that does not echo, and never printed or logged.
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import type { ZxcvbnFactory } from "@zxcvbn-ts/core";

/**
 * The least zxcvbn score (0 to 4) a shared password must reach: 4, an estimated 10^10 guesses or
 * more. Every copied user would share it, so the bar is the estimator's highest.
 */
export const MIN_PASSWORD_SCORE = 4;

let estimator: Promise<ZxcvbnFactory> | undefined;
/**
 * zxcvbn-ts with its common and English dictionaries, keyboard graphs and near-miss matching.
 * Loaded on first use: it is an optional peer dependency that only `--password` needs (9 MB).
 */
async function strength(password: string) {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import("@zxcvbn-ts/core"),
      import("@zxcvbn-ts/language-common"),
      import("@zxcvbn-ts/language-en"),
    ]);
    return new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      useLevenshteinDistance: true,
    });
  })();
  return (await estimator).check(password);
}

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
export async function passwordProblem(password: string): Promise<string | undefined> {
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
  const { score, feedback } = await strength(password);
  if (score < MIN_PASSWORD_SCORE) {
    const hint = feedback.warning ? ` (${feedback.warning.replace(/\.$/, "")})` : "";
    return `its zxcvbn strength score is ${score} of 4, under the required ${MIN_PASSWORD_SCORE}${hint}: use four or more unrelated words, or a password manager's random one`;
  }
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
