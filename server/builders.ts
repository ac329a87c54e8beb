/**
 * The module's function builders and types, written against its own tables (server/tables.ts)
 * instead of an app's `convex/_generated`: the module is compiled once and runs inside any app,
 * whose schema holds these tables next to its own.
 */
import {
  actionGeneric,
  httpActionGeneric,
  internalActionGeneric,
  internalMutationGeneric,
  internalQueryGeneric,
  mutationGeneric,
  queryGeneric,
  type ActionBuilder,
  type DataModelFromSchemaDefinition,
  type DocumentByName,
  type GenericActionCtx,
  type GenericDatabaseReader,
  type GenericDatabaseWriter,
  type GenericMutationCtx,
  type GenericQueryCtx,
  type HttpActionBuilder,
  type MutationBuilder,
  type QueryBuilder,
  type TableNamesInDataModel,
} from "convex/server";
import type { GenericId } from "convex/values";
import type { moduleSchema } from "./tables";

export type DataModel = DataModelFromSchemaDefinition<typeof moduleSchema>;
export type TableNames = TableNamesInDataModel<DataModel>;
export type Doc<Table extends TableNames> = DocumentByName<DataModel, Table>;
export type Id<Table extends TableNames> = GenericId<Table>;

export type QueryCtx = GenericQueryCtx<DataModel>;
export type MutationCtx = GenericMutationCtx<DataModel>;
export type ActionCtx = GenericActionCtx<DataModel>;
export type DatabaseReader = GenericDatabaseReader<DataModel>;
export type DatabaseWriter = GenericDatabaseWriter<DataModel>;

export const query: QueryBuilder<DataModel, "public"> = queryGeneric;
export const internalQuery: QueryBuilder<DataModel, "internal"> = internalQueryGeneric;
export const mutation: MutationBuilder<DataModel, "public"> = mutationGeneric;
export const internalMutation: MutationBuilder<DataModel, "internal"> = internalMutationGeneric;
export const action: ActionBuilder<DataModel, "public"> = actionGeneric;
export const internalAction: ActionBuilder<DataModel, "internal"> = internalActionGeneric;
export const httpAction: HttpActionBuilder = httpActionGeneric;
