/**
 * Rows a 0.1 deployment stored under the module's old table names: how every capability reads and
 * moves them while an app upgrades (server/legacy/tables.ts), and `auth0:migrateLegacyTables`
 * with its status (server/legacy/migration.ts). Plumbing below the users: it imports no
 * capability.
 */
export { legacyTablesStatus, migrateLegacyTables } from "./migration";
export {
  firstOf,
  inKeyOrder,
  legacyActive,
  legacyName,
  moveLegacyRows,
  moveNeed,
  moveRow,
  tablesToRead,
} from "./tables";
