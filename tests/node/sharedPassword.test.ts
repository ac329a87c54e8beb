/**
 * The check behind `copy-users --password` (issue 24, item 9): the shapes shared passwords take,
 * a word or two and a year (season, month, company, guest, in several languages), are refused;
 * random passwords and passphrases are not. Calls the check directly: the command's own refusal
 * path is in copyUsers.test.ts.
 */
import { describe, expect, test } from "vitest";
import { passwordProblem, randomPassword } from "../../scripts/lib/copyUsers/password";

/** What copy-users gives as context: environment names, tenant domains, the connection. */
const context = [
  "dev",
  "prod",
  "dev-tenant.eu.auth0.com",
  "acme.eu.auth0.com",
  "Username-Password-Authentication",
];

describe("shared passwords", () => {
  test.each([
    // Issue 16: each passed the character-kind rules and the default-word list.
    "ChangeMe123!",
    "alllowercaseletters",
    "P@ssw0rd-2026!!",
    "Pa55word1234",
    "P4ssword2025!",
    "Ch4ngeMe2025!",
    "We1come2025!",
    "Summer2025!!",
    "Aaaaaaaaaaa1",
    // Issue 24.
    "Gu3st2025!!Ab",
    "Contraseña2025!",
    "Dev-Tenant-2025!",
    "Januar2025!!Jan",
    "Herbst2024#Xy",
    "Invierno2026!!",
    "Acme-Portal-2025!",
  ])("%s is refused", async (password) => {
    expect(await passwordProblem(password, context)).toMatch(
      /a word or two and a year|zxcvbn strength score is [0-3] of 4|default passwords use|needs three of/,
    );
  });

  test("random passwords of 16 characters or more and passphrases are accepted", async () => {
    const strong = [
      // Drawn once from a 70-character alphabet with crypto.randomInt, 16 to 24 long.
      "$ZSyYQd46+K&r$$VDw2pF",
      "ZTVNJZz__W8TNoEt",
      "UD7VUZ42YFNLMnuV!48hz3",
      "VyGpX^j4#Er43od_x",
      "oFgY=Dc8SGJVcZ8_-%sV",
      "K^t@eY#$itvT*i!c*_3m%6t",
      "HHQmPijrNwvH_aYMgStp9",
      "fjnXdcJ79FH*TKPYBa8v3B_%",
      // Drawn on every run.
      randomPassword(),
      randomPassword(),
      // Passphrases: four or more unrelated words.
      "Tundra Velvet Quasar Mosaic",
      "Wobbly.Ferret.Dances.Tango7",
      "Tide-Lantern-Quarry-58",
      "Marmalade-Oxygen-Trombone-Kelp",
    ];
    for (const password of strong) {
      expect(await passwordProblem(password, context), password).toBeUndefined();
    }
  });
});
