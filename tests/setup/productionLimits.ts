// Every convex-test backend in the test suite counts index ranges as a deployment does (see
// scripts/lib/productionLimits.ts); each test file still opts into the limits with
// `convexTest({ schema, modules, transactionLimits: true })`.
import { countWritesAsIndexRanges } from "../../scripts/lib/productionLimits";

countWritesAsIndexRanges();
