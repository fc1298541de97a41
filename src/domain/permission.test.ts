import { describe, expect, it } from "vitest";
import { type Action, type Grant, type PermissionName, allows, effectivePermission, inScope, scopeFor, withinScope } from "./permission.js";

const grant = (resourceId: string, permission: PermissionName, resourceType: Grant["resourceType"] = "experiment"): Grant => ({
  userId: 1,
  resourceType,
  resourceId,
  permission,
});

describe("effectivePermission (MLflow's fold)", () => {
  const cases: Array<[string, Grant[], PermissionName, PermissionName]> = [
    ["no grant: the default", [], "READ", "READ"],
    ["no grant, default NO_PERMISSIONS", [], "NO_PERMISSIONS", "NO_PERMISSIONS"],
    ["a grant above the default", [grant("1", "EDIT")], "READ", "EDIT"],
    ["a grant below the default is floored", [grant("1", "READ")], "EDIT", "EDIT"],
    ["DENY is never floored", [grant("1", "DENY")], "MANAGE", "DENY"],
    ["the highest of several", [grant("1", "USE"), grant("*", "MANAGE")], "READ", "MANAGE"],
    ["DENY on the resource wins over a wildcard MANAGE", [grant("*", "MANAGE"), grant("1", "DENY")], "READ", "DENY"],
    ["a wildcard DENY wins over the resource's MANAGE", [grant("*", "DENY"), grant("1", "MANAGE")], "READ", "DENY"],
    ["another resource's grant does not count", [grant("2", "DENY")], "READ", "READ"],
    ["another type's grant does not count", [grant("1", "DENY", "registered_model")], "READ", "READ"],
  ];
  it.each(cases)("%s", (_name, grants, defaultPermission, expected) => {
    expect(effectivePermission(grants, "experiment", "1", defaultPermission)).toBe(expected);
  });

  it("levels allow what MLflow's capabilities allow", () => {
    expect(allows("READ", "read")).toBe(true);
    expect(allows("READ", "use")).toBe(false);
    expect(allows("USE", "use")).toBe(true);
    expect(allows("EDIT", "update")).toBe(true);
    expect(allows("EDIT", "delete")).toBe(false);
    expect(allows("MANAGE", "manage")).toBe(true);
    expect(allows("DENY", "read")).toBe(false);
    expect(allows("NO_PERMISSIONS", "read")).toBe(false);
  });
});

describe("scopeFor (the condition a search puts inside its query)", () => {
  const ids = ["1", "2", "3", "4", "5"];
  const grantSets: Grant[][] = [
    [],
    [grant("2", "DENY")],
    [grant("2", "DENY"), grant("3", "MANAGE")],
    [grant("*", "DENY"), grant("3", "MANAGE")],
    [grant("*", "READ"), grant("4", "DENY")],
    [grant("3", "READ"), grant("4", "EDIT")],
    [grant("*", "EDIT"), grant("1", "READ"), grant("2", "DENY")],
  ];
  const defaults: PermissionName[] = ["READ", "EDIT", "NO_PERMISSIONS"];
  const actions: Action[] = ["read", "update", "manage"];
  for (const grants of grantSets) {
    for (const defaultPermission of defaults) {
      for (const action of actions) {
        it(`${JSON.stringify(grants.map((g) => `${g.resourceId}:${g.permission}`))}, default ${defaultPermission}, ${action}`, () => {
          const scope = scopeFor(grants, "experiment", action, defaultPermission);
          for (const id of ids) {
            expect(inScope(scope, id), `experiment ${id}`).toBe(allows(effectivePermission(grants, "experiment", id, defaultPermission), action));
          }
        });
      }
    }
  }

  it("is undefined (no condition) when everything is readable, and an empty list when nothing is", () => {
    expect(scopeFor([], "experiment", "read", "READ")).toBeUndefined();
    expect(scopeFor([], "experiment", "read", "NO_PERMISSIONS")).toEqual({ only: [] });
    expect(scopeFor([grant("*", "DENY")], "experiment", "read", "READ")).toEqual({ only: [] });
    expect(scopeFor([grant("7", "DENY")], "experiment", "read", "READ")).toEqual({ except: ["7"] });
    expect(scopeFor([grant("7", "READ")], "registered_model", "read", "NO_PERMISSIONS")).toEqual({ only: [] });
  });

  it("narrows a list of ids to the scope", () => {
    expect(withinScope(["1", "2", "3"], undefined)).toEqual(["1", "2", "3"]);
    expect(withinScope(["1", "2", "3"], { except: ["2"] })).toEqual(["1", "3"]);
    expect(withinScope(["1", "2", "3"], { only: ["3", "9"] })).toEqual(["3"]);
    expect(withinScope(["1"], { only: [] })).toEqual([]);
  });
});
