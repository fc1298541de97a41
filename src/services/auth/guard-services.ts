/**
 * Puts the permission table in front of every service function, once, where the services are built: whatever calls
 * them — gRPC, the HTTP gateway, the hand-written HTTP routes, GraphQL — goes through the same check, with the caller
 * its transport authenticated (CallContext.principal). Unary and client-streaming calls are checked before the
 * function runs (a client stream on its first message, which names the resource); server streams before their first
 * item. A function without a rule is a start-up error, so nothing new can be served unguarded.
 *
 * After a successful call, the grants follow what it did, as MLflow's after-request handlers do: the creator of an
 * experiment or a registered model gets MANAGE on it; a renamed registered model keeps its grants; a deleted one
 * loses them.
 */
import type { Store } from "../../store/types.js";
import type { CallContext, RegisteredService } from "../rpc.js";
import type { AccessControl } from "./access-control.js";
import { PERMISSION_RULES, type Rule } from "./permission-rules.js";
import { principalOf } from "./principal.js";

export interface GuardDeps {
  store: Store;
  /** Required when enforcing. */
  access?: AccessControl;
  /** Called when grants change under users the call did not name (renamed or deleted registered models). */
  onGrantsChanged(userId?: number): void;
}

type Effect = (request: any, response: any, ctx: CallContext, deps: GuardDeps) => Promise<void>;

const EFFECTS: Readonly<Record<string, Effect>> = {
  "/logbook.v1.TrackingService/CreateExperiment": async (_req, res: { experimentId: string }, ctx, deps) => {
    const principal = principalOf(ctx);
    if (!principal) return;
    await deps.store.putGrant({ userId: principal.userId, resourceType: "experiment", resourceId: res.experimentId, permission: "MANAGE" });
    deps.onGrantsChanged(principal.userId);
  },
  "/logbook.v1.RegistryService/CreateRegisteredModel": async (req: { name: string }, _res, ctx, deps) => {
    const principal = principalOf(ctx);
    if (!principal) return;
    await deps.store.putGrant({ userId: principal.userId, resourceType: "registered_model", resourceId: req.name, permission: "MANAGE" });
    deps.onGrantsChanged(principal.userId);
  },
  "/logbook.v1.RegistryService/RenameRegisteredModel": async (req: { name: string; newName: string }, _res, _ctx, deps) => {
    await deps.store.renameGrantsOn("registered_model", req.name, req.newName);
    deps.onGrantsChanged();
  },
  "/logbook.v1.RegistryService/DeleteRegisteredModel": async (req: { name: string }, _res, _ctx, deps) => {
    await deps.store.removeGrantsOn("registered_model", req.name);
    deps.onGrantsChanged();
  },
};

/** The rule key of a function: its gRPC path, or `/<service>/<Function>` for one that is not an RPC. */
export const ruleKeyOf = (serviceName: string, key: string, path?: string) => path ?? `/${serviceName}/${key.charAt(0).toUpperCase()}${key.slice(1)}`;

/**
 * The services with every function guarded. With `enforce` false (`--auth none`) nothing is checked, but grants still
 * follow renamed and deleted registered models.
 * @throws Error naming the first function without a rule.
 */
export function guardServices(services: readonly RegisteredService[], deps: GuardDeps, enforce: boolean): RegisteredService[] {
  return services.map((service) => {
    const impl = service.implementation as Record<string, unknown>;
    const definition = service.definition as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    const guarded: Record<string, unknown> = {};
    for (const [key, fn] of Object.entries(impl)) {
      if (typeof fn !== "function") continue;
      const def = definition[key];
      const path = ruleKeyOf(service.name, key, def?.path);
      const rule = PERMISSION_RULES[path];
      if (!rule) throw new Error(`${path}: no rule in the permission table (src/services/auth/permission-rules.ts)`);
      const call = fn.bind(impl) as (...args: any[]) => any;
      const access = deps.access;
      if (enforce && !access) throw new Error("guardServices: enforcing needs access control");
      const authorize = (request: unknown, ctx: CallContext) => (enforce && access ? access.authorize(rule, request, ctx) : Promise.resolve());
      const effect = EFFECTS[path];
      if (def?.requestStream) guarded[key] = guardClientStream(call, authorize);
      else if (def?.responseStream || isAsyncGenerator(fn)) guarded[key] = guardServerStream(call, authorize);
      else guarded[key] = guardUnary(call, authorize, effect ? (req, res, ctx) => effect(req, res, ctx, deps) : undefined);
    }
    return { ...service, implementation: guarded as RegisteredService["implementation"] };
  });
}

type Authorize = (request: unknown, ctx: CallContext) => Promise<void>;

function guardUnary(call: (req: unknown, ctx: CallContext) => Promise<unknown>, authorize: Authorize, after?: (req: unknown, res: unknown, ctx: CallContext) => Promise<void>) {
  return async (request: unknown, ctx: CallContext) => {
    await authorize(request, ctx);
    const response = await call(request, ctx);
    if (after) await after(request, response, ctx);
    return response;
  };
}

function guardServerStream(call: (req: unknown, ctx: CallContext) => AsyncIterable<unknown>, authorize: Authorize) {
  return async function* (request: unknown, ctx: CallContext) {
    await authorize(request, ctx);
    yield* call(request, ctx);
  };
}

/** Reads the first message (the one naming the resource), checks it, then hands the whole stream on. */
function guardClientStream(call: (requests: AsyncIterable<unknown>, ctx: CallContext) => Promise<unknown>, authorize: Authorize) {
  return async (requests: AsyncIterable<unknown>, ctx: CallContext) => {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    await authorize(first.done ? {} : first.value, ctx);
    async function* replay() {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }
    return call(replay(), ctx);
  };
}

function isAsyncGenerator(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor.name === "AsyncGeneratorFunction";
}

/** The rule of every function the services offer, for the table test and the README. */
export function rulesOf(services: readonly RegisteredService[]): Array<{ path: string; rule: Rule | undefined }> {
  return services.flatMap((service) => {
    const definition = service.definition as Record<string, { path: string }>;
    return Object.entries(service.implementation as Record<string, unknown>)
      .filter(([, fn]) => typeof fn === "function")
      .map(([key]) => {
        const path = ruleKeyOf(service.name, key, definition[key]?.path);
        return { path, rule: PERMISSION_RULES[path] };
      });
  });
}
