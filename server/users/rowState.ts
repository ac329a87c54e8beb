/**
 * States of a `users` row besides "live": an app's row from before this module (not adopted
 * yet, see server/users/adoption.ts) and a deleted user's row kept by `AUTH0_USER_DELETION=anonymize`
 * (see `users.deleteUser`). Pure helpers, no Convex functions.
 */
import { ConvexError } from "convex/values";
import type { Doc } from "../builders";
import { deploymentVariable, INVALID_CONFIGURATION } from "../deploymentVariables";

/**
 * Whether a row has every field this module requires. Rows it writes always do; an app's rows
 * from before it (see server/users/adoption.ts) may not, until adopted or completed by a login.
 */
export function isAdopted(row: Doc<"users">): boolean {
  const r = row as Partial<Doc<"users">>;
  return (
    typeof r.auth0UserId === "string" &&
    typeof r.createdAt === "number" &&
    typeof r.updatedAt === "number"
  );
}

/** What `users.deleteUser` does with a deleted user's row: the Convex variable `AUTH0_USER_DELETION`. */
export const USER_DELETION_MODES = ["remove", "anonymize"] as const;
export type UserDeletionMode = (typeof USER_DELETION_MODES)[number];

/** The app's `configureAuth0Users({ userDeletion })`: the mode while the variable is unset. */
let configuredMode: UserDeletionMode = "remove";

/** Sets the mode `configureAuth0Users({ userDeletion })` gives (undefined: `remove`); throws for
 * any other value, so a typo fails at load rather than at the first deletion. */
export function setConfiguredUserDeletion(mode: unknown): void {
  if (mode !== undefined && !USER_DELETION_MODES.some((m) => m === mode)) {
    throw new Error(
      `configureAuth0Users: userDeletion must be one of ${USER_DELETION_MODES.join(", ")}; it is ${JSON.stringify(mode)}`,
    );
  }
  configuredMode = (mode as UserDeletionMode | undefined) ?? "remove";
}

/**
 * `AUTH0_USER_DELETION`: `remove` deletes a deleted user's row; `anonymize` keeps it with every
 * Auth0 fact cleared. Unset, the app's `configureAuth0Users({ userDeletion })` decides (`init`
 * writes `anonymize` there when the app's tables hold `v.id("users")`), else `remove`. Any other
 * value throws a ConvexError `invalid_configuration`
 * naming the allowed values; `users.deleteUser` reads it before writing anything, so a
 * misconfigured deployment refuses the whole deletion (the event route answers 500 and Auth0
 * retries) rather than doing half of it.
 */
export function userDeletionMode(): UserDeletionMode {
  const raw = (deploymentVariable("AUTH0_USER_DELETION") ?? "").trim();
  if (raw === "") return configuredMode;
  const mode = USER_DELETION_MODES.find((m) => m === raw.toLowerCase());
  if (mode) return mode;
  throw new ConvexError({
    code: INVALID_CONFIGURATION,
    message: `AUTH0_USER_DELETION must be one of ${USER_DELETION_MODES.join(", ")} (unset means remove); it is ${JSON.stringify(raw.slice(0, 40))}`,
  });
}

/** True for a row kept by `AUTH0_USER_DELETION=anonymize` after its user was deleted in Auth0. */
export function isAnonymized(row: Pick<Doc<"users">, "deletedAt">): boolean {
  return row.deletedAt !== undefined;
}
