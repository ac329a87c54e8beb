/** Errors the reconcile commands report to a person: what failed and what to do, nothing secret. */

import { customDomainProblem } from "../managementApi";

/** A failure that stops a reconcile run (exit code 2); its message is safe to print. */
export class ReconcileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReconcileError";
  }
}

/** A Management API failure as a person reads it, naming the reconcile's own credentials. */
export function managementFailure(err: unknown, what: string): ReconcileError {
  if (err instanceof ReconcileError) return err;
  const custom = customDomainProblem(err);
  if (custom) return new ReconcileError(`${what}: ${custom}`);
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    return new ReconcileError(
      `${what}: Auth0 answered ${status}. AUTH0_M2M_CLIENT_ID / AUTH0_M2M_CLIENT_SECRET must belong to a machine-to-machine application authorized for the Auth0 Management API with the read:users scope`,
    );
  }
  const first = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new ReconcileError(`${what}: ${status ? `HTTP ${status} ` : ""}${first.slice(0, 300)}`);
}
