/**
 * Which tenant.yaml the installed commands read: the app's own copy (init writes it for the app to
 * edit) when the working directory has one, else the package's; and an app's copy that names the
 * default bundle, which the app does not have, deploys the package's built Action.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ACTION_BUNDLE_PATH } from "../../scripts/build-action";
import { loadTenantSpec, TENANT_YAML, tenantYamlPath } from "../../scripts/lib/deploy/spec";

const dir = mkdtempSync(join(tmpdir(), "tenant-yaml-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An app folder, with a copy of the package's tenant.yaml (Action renamed) when `copy`. */
function app(name: string, copy: boolean): string {
  const root = join(dir, name);
  mkdirSync(join(root, "auth0-actions"), { recursive: true });
  if (copy) {
    const text = readFileSync(TENANT_YAML, "utf8").replaceAll(
      "convex-auth0-users-post-login",
      "my-app-post-login",
    );
    writeFileSync(join(root, "auth0-actions", "tenant.yaml"), text);
  }
  return root;
}

describe("tenant.yaml of an installed package", () => {
  test("without an app copy, the package's is read", () => {
    expect(tenantYamlPath(app("none", false))).toBe(TENANT_YAML);
  });

  test("the app's copy wins, and its default code path is the package's built Action", async () => {
    const root = app("copy", true);
    const path = tenantYamlPath(root);
    expect(path).toBe(join(root, "auth0-actions", "tenant.yaml"));
    const spec = await loadTenantSpec(path);
    expect(spec.actionName).toBe("my-app-post-login");
    expect(spec.codePath).toBe(ACTION_BUNDLE_PATH);
  });

  test("a bundle the app built itself, next to its copy, is the one deployed", async () => {
    const root = app("own-bundle", true);
    mkdirSync(join(root, "auth0-actions", "dist"));
    writeFileSync(join(root, "auth0-actions", "dist", "post-login.js"), "exports.x = 1;\n");
    const spec = await loadTenantSpec(tenantYamlPath(root));
    expect(spec.codePath).toBe(join(root, "auth0-actions", "dist", "post-login.js"));
  });
});
