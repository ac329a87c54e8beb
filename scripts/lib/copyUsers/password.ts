/**
 * Passwords for copied users. By default each gets a long random one that nobody sees (and a
 * password-change ticket); `--password` sets one chosen password, only when it is not one of the
 * defaults that shared test accounts are known by, not a word or two and a year (`Summer2025!`,
 * `Januar2025!!Jan`, `Dev-Tenant-2025!`), and zxcvbn-ts scores it {@link MIN_PASSWORD_SCORE} of
 * 4 with English, German, Spanish and French dictionaries and the words of this copy (tenant,
 * environment and connection names) as its user inputs. It is read from COPY_USERS_PASSWORD or a
 * prompt that does not echo, and never printed or logged.
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

/**
 * Below this many guesses (the product of its parts' guesses), what is left of a password once
 * its years are taken out (its words, l33t undone) is a word or two: with ~100 likely years and
 * a few symbols around, the whole is under the 10^10 that score 4 stands for.
 */
const WORD_AND_YEAR_GUESSES = 1e8;

let estimator: Promise<ZxcvbnFactory> | undefined;
/**
 * zxcvbn-ts with its common, English, German, Spanish and French dictionaries and keyboard
 * graphs. l33t spelling is matched (at most 12 substitutions tried: a symbol-heavy random
 * password otherwise takes seconds); near-miss Levenshtein matching is off (over four languages
 * it takes seconds per password). Loaded on first use: they are optional peer dependencies that
 * only `--password` needs.
 */
function loadEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, en, de, es, fr] = await Promise.all([
      import("@zxcvbn-ts/core"),
      import("@zxcvbn-ts/language-common"),
      import("@zxcvbn-ts/language-en"),
      import("@zxcvbn-ts/language-de"),
      import("@zxcvbn-ts/language-es-es"),
      import("@zxcvbn-ts/language-fr"),
    ]);
    return new ZxcvbnFactory({
      dictionary: {
        ...common.dictionary,
        ...en.dictionary,
        ...prefixed("de", de.dictionary),
        ...es.dictionary,
        ...fr.dictionary,
      },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      useLevenshteinDistance: false,
      l33tMaxSubstitutions: 12,
    });
  })();
  return estimator;
}

/** language-de names its lists without a language suffix: kept apart from the others'. */
const prefixed = (lang: string, dictionary: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(dictionary).map(([name, words]) => [`${name}-${lang}`, words]));

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

/**
 * Words shared passwords are made of, in the languages of the dictionaries: seasons, months,
 * guest and company words, greetings. Given to zxcvbn as user inputs (the cheapest guesses).
 */
const SHARED_PASSWORD_WORDS = [
  ...["spring", "summer", "autumn", "fall", "winter"],
  ...["frühling", "fruehling", "sommer", "herbst"],
  ...["primavera", "verano", "otoño", "otono", "invierno"],
  ...["printemps", "été", "ete", "automne", "hiver"],
  ...["january", "february", "march", "april", "may", "june", "july", "august"],
  ...["september", "october", "november", "december"],
  ...["januar", "februar", "märz", "maerz", "mai", "juni", "juli", "oktober", "dezember"],
  ...["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"],
  ...["septiembre", "octubre", "noviembre", "diciembre"],
  ...["janvier", "février", "fevrier", "mars", "avril", "juin", "juillet", "août", "aout"],
  ...["septembre", "octobre", "novembre", "décembre", "decembre"],
  ...["guest", "gast", "invitado", "invité", "invite", "visitor", "besucher", "visiteur"],
  ...["tenant", "company", "firma", "empresa", "société", "societe", "office", "team"],
  ...["user", "users", "benutzer", "usuario", "utilisateur", "staff", "employee"],
  ...["dev", "development", "staging", "stage", "prod", "production", "test", "demo"],
  ...["welcome", "willkommen", "bienvenido", "bienvenue", "hello", "hallo", "hola", "bonjour"],
  ...["password", "passwort", "kennwort", "contraseña", "contrasena", "clave", "motdepasse"],
  ...["auth0", "convex", "login", "signin"],
];

/** A year people put in passwords: 1900 to 2099. */
const YEAR = /(?:19|20)\d{2}/;

/** Letters only, lower case, with l33t spelling undone (`Gu3st` is `guest`). */
const unleet = (text: string) =>
  text
    .toLowerCase()
    .replace(/@/g, "a")
    .replace(/0/g, "o")
    .replace(/[1!|]/g, "i")
    .replace(/3/g, "e")
    .replace(/\$/g, "s")
    .replace(/[^\p{L}]/gu, "");

/** The words of `text` with l33t undone inside them, run together (`Gu3st!!Ab` is `guestab`):
 * a digit or symbol counts as a letter only between letters. */
const wordsOf = (text: string) =>
  (text.match(/\p{L}(?:[\p{L}@0-9!|$]*\p{L})?/gu) ?? []).map(unleet).join("");

/** The words of `context` (tenant domains, environment and connection names), as user inputs. */
function contextWords(context: readonly string[]): string[] {
  return context
    .flatMap((text) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u))
    .filter((word) => word.length >= 3);
}

/**
 * Why `password` may not be shared by copied users, or undefined when it may. `context` holds
 * what an attacker of these tenants knows: their domains, the environment and connection names.
 */
export async function passwordProblem(
  password: string,
  context: readonly string[] = [],
): Promise<string | undefined> {
  if (password.length < 12) return "it is shorter than 12 characters";
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password));
  if (kinds.length < 3) {
    return "it needs three of: lower case, upper case, digits, symbols";
  }
  const word = DEFAULT_WORDS.find((w) => unleet(password).includes(w));
  if (word)
    return "it is built on a word that well-known default passwords use, which attackers try first";
  const zxcvbn = await loadEstimator();
  const inputs = [...SHARED_PASSWORD_WORDS, ...contextWords(context)];
  if (YEAR.test(password)) {
    // Words, not random letters: once the years are out, what is left is known words (and at
    // most a few letters no dictionary knows) that together take few guesses.
    const rest = await zxcvbn.check(wordsOf(password.replace(new RegExp(YEAR, "g"), " ")), inputs);
    const unknown = rest.sequence
      .filter((m) => m.pattern === "bruteforce")
      .reduce((n, m) => n + m.token.length, 0);
    const guesses = rest.sequence.reduce((n, m) => n * m.guesses, 1);
    if (guesses < WORD_AND_YEAR_GUESSES && unknown <= 3) {
      return "it is a word or two and a year (like Summer2025! or Company-2024), the shape shared passwords take and attackers try first";
    }
  }
  const { score, feedback } = await zxcvbn.check(password, inputs);
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
