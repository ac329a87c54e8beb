/**
 * The tenant-log sync: a cron that reads Auth0's tenant log from a checkpoint, refetches the users
 * and organizations the events name, and applies them through the reconcile's batch and the
 * organizations' writes. Its functions, as the package serves them (auth0:logSync*).
 */
export { health, reconciled, restart, run } from "./logSync";
export {
  advance,
  applyUserOrganizations,
  begin,
  cachedToken,
  finish,
  initialize,
  saveToken,
  stop,
} from "./state";
