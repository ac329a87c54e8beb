/**
 * Which users a copy creates, updates, skips or refuses, from complete listings of both tenants.
 * Users are matched by email, case-insensitively: each tenant has its own user ids.
 */
import { PROFILE_EXPORT_FIELDS } from "../reconcile/auth0Users";

/** A user as the export job lists it (the fields {@link COPY_EXPORT_FIELDS}). */
export interface ExportedUser {
  user_id: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  nickname?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  identities?: { connection?: string; provider?: string }[];
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
}

/** What the export job is asked for on both sides: the profile the reconcile reads, and the
 * identities (for the connection) and metadata a copy carries. */
export const COPY_EXPORT_FIELDS = [
  ...PROFILE_EXPORT_FIELDS,
  "identities",
  "user_metadata",
  "app_metadata",
];
export interface Selection {
  connection: string;
  /** Only users whose email is at this domain. */
  emailDomain?: string;
  /** Only these emails (lower case). */
  emails?: string[];
  updateExisting: boolean;
}

export interface CopyPlan {
  create: ExportedUser[];
  /** Existing in the target's connection, patched with --update-existing. */
  update: { source: ExportedUser; target: ExportedUser }[];
  skip: { source: ExportedUser; reason: string }[];
  /** Not copied: creating would make a second account for the same email. */
  conflicts: { source: ExportedUser; reason: string }[];
  /** --emails entries with no such user in the source's connection. */
  notFound: string[];
}

const email = (u: ExportedUser) => u.email?.trim().toLowerCase();
const inConnection = (u: ExportedUser, connection: string) =>
  (u.identities ?? []).some((i) => i.connection === connection);

/** Plans the copy of the selected source users onto the target. */
export function planCopy(source: ExportedUser[], target: ExportedUser[], sel: Selection): CopyPlan {
  const plan: CopyPlan = { create: [], update: [], skip: [], conflicts: [], notFound: [] };
  const byEmail = new Map<string, ExportedUser[]>();
  for (const user of target) {
    const key = email(user);
    if (key) byEmail.set(key, [...(byEmail.get(key) ?? []), user]);
  }
  const wanted = sel.emails ? new Set(sel.emails) : undefined;
  const seen = new Set<string>();
  for (const user of source) {
    if (!inConnection(user, sel.connection)) continue;
    const key = email(user);
    if (wanted && (!key || !wanted.has(key))) continue;
    if (sel.emailDomain && key?.split("@")[1] !== sel.emailDomain) continue;
    if (!key) {
      plan.skip.push({ source: user, reason: "no email to match it by" });
      continue;
    }
    seen.add(key);
    const matches = byEmail.get(key) ?? [];
    const same = matches.find((t) => inConnection(t, sel.connection));
    if (same) {
      if (sel.updateExisting) plan.update.push({ source: user, target: same });
      else plan.skip.push({ source: user, reason: `exists in the target (${same.user_id})` });
    } else if (matches.length > 0) {
      const where = [
        ...new Set(matches.flatMap((m) => (m.identities ?? []).map((i) => i.connection))),
      ];
      plan.conflicts.push({
        source: user,
        reason: `the target has this email under ${where.join(", ")}: a copy would be a second account`,
      });
    } else plan.create.push(user);
  }
  if (wanted) plan.notFound = [...wanted].filter((e) => !seen.has(e));
  return plan;
}

/** The plan as lines for people (emails, never secrets). */
export function planText(plan: CopyPlan, from: string, to: string): string[] {
  const list = (title: string, items: string[]) =>
    items.length === 0
      ? []
      : [
          `  ${title} (${items.length}):`,
          ...items.slice(0, 20).map((i) => `    ${i}`),
          ...(items.length > 20
            ? [`    ... and ${items.length - 20} more (--json lists all)`]
            : []),
        ];
  return [
    `Copy ${from} -> ${to}: create ${plan.create.length}, update ${plan.update.length}, skip ${plan.skip.length}, conflicts ${plan.conflicts.length}`,
    ...list(
      "Create",
      plan.create.map((u) => u.email!),
    ),
    ...list(
      "Update (--update-existing)",
      plan.update.map((u) => u.source.email!),
    ),
    ...list(
      "Skip",
      plan.skip.map((s) => `${s.source.email ?? s.source.user_id}: ${s.reason}`),
    ),
    ...list(
      "Conflicts (not copied)",
      plan.conflicts.map((c) => `${c.source.email}: ${c.reason}`),
    ),
    ...list("Not in the source", plan.notFound),
  ];
}
