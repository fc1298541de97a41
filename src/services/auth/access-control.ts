/**
 * Applies the permission table (permission-rules.ts) to one call, and answers the scope a search puts inside its
 * query. Permissions come from the caller's grants, loaded with their credentials, so a check on an experiment or a
 * registered model costs no store round trip; a run or a logged model is resolved to its experiment once per process
 * (that link never changes), and not at all when the caller's permission is the same on every experiment.
 */
import { AppError, ErrorCode } from "../../domain/errors.js";
import { ALL_RESOURCES, type Action, type IdScope, type PermissionName, type ResourceType, allows } from "../../domain/permission.js";
import { requireField } from "../../domain/validation.js";
import type { Store } from "../../store/types.js";
import type { CallContext } from "../rpc.js";
import { unauthenticated } from "./authenticator.js";
import type { Rule, Target } from "./permission-rules.js";
import { type Principal, permissionOf, principalOf, scopeOf } from "./principal.js";

const LEVEL: Readonly<Record<Action, string>> = { read: "READ", use: "USE", update: "EDIT", delete: "MANAGE", manage: "MANAGE" };
/** Entries of each run/logged model → experiment cache. */
const OWNER_CACHE_SIZE = 50_000;

export const permissionDenied = (message: string) => new AppError(ErrorCode.PERMISSION_DENIED, message);

export interface AccessControl {
  readonly defaultPermission: PermissionName;
  /** @throws UNAUTHENTICATED without a principal; PERMISSION_DENIED when the rule does not let the caller through. */
  authorize(rule: Rule, request: unknown, ctx: CallContext): Promise<void>;
  /** Which resources of a type a search may return to the caller; undefined: no restriction (admins, auth off). */
  scope(ctx: CallContext, resourceType: ResourceType, action?: Action): IdScope | undefined;
}

/** A bounded map that forgets its oldest entries. */
function ownerCache(): { get(id: string): string | undefined; set(id: string, owner: string): void } {
  const map = new Map<string, string>();
  return {
    get: (id) => map.get(id),
    set(id, owner) {
      map.set(id, owner);
      if (map.size > OWNER_CACHE_SIZE) map.delete(map.keys().next().value!);
    },
  };
}

export function createAccessControl(deps: { store: Store; defaultPermission: PermissionName }): AccessControl {
  const { store, defaultPermission } = deps;
  const runOwners = ownerCache();
  const modelOwners = ownerCache();
  const everywhere = new WeakMap<Principal, Map<string, boolean>>();

  /** Whether the caller's permission allows `action` on every experiment (then no run needs resolving). */
  function allowedEverywhere(principal: Principal, action: Action): boolean {
    let memo = everywhere.get(principal);
    if (!memo) everywhere.set(principal, (memo = new Map()));
    let answer = memo.get(action);
    if (answer === undefined) memo.set(action, (answer = scopeOf(principal, "experiment", action, defaultPermission) === undefined));
    return answer;
  }

  async function experimentOfRun(runId: string): Promise<string | undefined> {
    const cached = runOwners.get(runId);
    if (cached !== undefined) return cached;
    const experimentId = await store.getRun(runId).then(
      (r) => r.info.experimentId,
      (err: unknown) => (err instanceof AppError && err.code === ErrorCode.RESOURCE_DOES_NOT_EXIST ? undefined : Promise.reject(err)),
    );
    if (experimentId !== undefined) runOwners.set(runId, experimentId);
    return experimentId;
  }

  async function experimentOfLoggedModel(modelId: string): Promise<string | undefined> {
    const cached = modelOwners.get(modelId);
    if (cached !== undefined) return cached;
    const experimentId = await store.getLoggedModel(modelId).then(
      (m) => m.experimentId,
      (err: unknown) => (err instanceof AppError && err.code === ErrorCode.RESOURCE_DOES_NOT_EXIST ? undefined : Promise.reject(err)),
    );
    if (experimentId !== undefined) modelOwners.set(modelId, experimentId);
    return experimentId;
  }

  const may = (principal: Principal, type: ResourceType, id: string, action: Action) => allows(permissionOf(principal, type, id, defaultPermission), action);
  const refuse = (principal: Principal, action: Action, what: string) =>
    permissionDenied(`Permission denied: user '${principal.username}' needs ${LEVEL[action]} on ${what}.`);

  /**
   * A run or logged model that does not exist is refused rather than reported missing, as MLflow does, so the answer
   * tells nothing about which ids exist — unless the caller may act on every experiment anyway.
   */
  async function check(principal: Principal, target: Target, action: Action): Promise<void> {
    switch (target.kind) {
      case "adminOnly":
        throw permissionDenied(`Permission denied: only an admin may do this.`);
      case "experiment":
        requireField(target.id, "experiment_id");
        if (!may(principal, "experiment", target.id, action)) throw refuse(principal, action, `experiment ${target.id}`);
        return;
      case "experimentNamed": {
        requireField(target.name, "experiment_name");
        if (allowedEverywhere(principal, action)) return;
        const experiment = await store.getExperimentByName(target.name);
        if (experiment && !may(principal, "experiment", experiment.experimentId, action)) throw refuse(principal, action, `experiment '${target.name}'`);
        return;
      }
      case "run": {
        requireField(target.id, "run_id");
        if (allowedEverywhere(principal, action)) return;
        const experimentId = await experimentOfRun(target.id);
        if (experimentId === undefined || !may(principal, "experiment", experimentId, action)) throw refuse(principal, action, `the experiment of run ${target.id}`);
        return;
      }
      case "loggedModel": {
        if (allowedEverywhere(principal, action)) return;
        const experimentId = await experimentOfLoggedModel(target.id);
        if (experimentId === undefined || !may(principal, "experiment", experimentId, action)) {
          throw refuse(principal, action, `the experiment of logged model ${target.id}`);
        }
        return;
      }
      case "registeredModel":
        requireField(target.name, "name");
        if (!may(principal, "registered_model", target.name, action)) throw refuse(principal, action, `registered model '${target.name}'`);
        return;
    }
  }

  return {
    defaultPermission,

    async authorize(rule, request, ctx) {
      const principal = principalOf(ctx);
      if (!principal) throw unauthenticated();
      if (principal.isAdmin) return;
      switch (rule.kind) {
        case "signedIn":
          // MLflow's create veto: a DENY on every resource of the type (a registered model: or on that name).
          if (rule.creates === "experiment" && permissionOf(principal, "experiment", ALL_RESOURCES, defaultPermission) === "DENY") {
            throw permissionDenied(`Permission denied: user '${principal.username}' may not create experiments.`);
          }
          if (rule.creates === "registered_model") {
            const name = (request as { name?: string }).name || ALL_RESOURCES;
            if (permissionOf(principal, "registered_model", name, defaultPermission) === "DENY") {
              throw permissionDenied(`Permission denied: user '${principal.username}' may not create registered model '${name}'.`);
            }
          }
          return;
        case "admin":
          throw permissionDenied(`Permission denied: only an admin may do this.`);
        case "self": {
          const username = rule.username(request);
          if (username && username !== principal.username) throw permissionDenied(`Permission denied: only ${username} or an admin may do this.`);
          return;
        }
        case "needs":
          for (const need of rule.needs) {
            for (const target of need.targets(request)) await check(principal, target, need.action);
          }
          return;
      }
    },

    scope: (ctx, resourceType, action = "read") => scopeOf(principalOf(ctx), resourceType, action, defaultPermission),
  };
}
