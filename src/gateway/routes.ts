/**
 * HTTP routes read from the `google.api.http` options of a FileDescriptorSet (buf build output),
 * parsed and validated once at start-up: every template parses, every path variable and `body`
 * names a real request field, every `response_body` a real response field. Each `/api/N.0/…`
 * binding also gets its `/ajax-api/N.0/…` twin, as MLflow serves both (DESIGN.md §1).
 */
import {
  createFileRegistry,
  fromBinary,
  getOption,
  hasOption,
  type DescExtension,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parseTemplate, TemplateError, type PathTemplate } from "./http-rule.js";
import { ANY_METHOD } from "./router.js";

/** Where the request message comes from besides the path (the rule's `body`). */
export type BodyBinding =
  /** No `body`: every field not bound by the path is a query parameter. */
  | { readonly kind: "none" }
  /** `body: "*"`: the JSON body is the request message (minus path fields); no query parameters. */
  | { readonly kind: "all" }
  /** `body: "<field>"`: the JSON body is that field; the other leaves are query parameters. */
  | { readonly kind: "field"; readonly field: DescField };

/** A path variable resolved to its fields, from the request message down to the bound leaf. */
export interface PathField {
  /** Dotted proto field path, the key in the router's PathParams. */
  readonly name: string;
  readonly fields: readonly DescField[];
}

export interface HttpRoute {
  /** Fully qualified method name, e.g. "logbook.v1.TrackingService.GetRun". */
  readonly rpc: string;
  /** The gRPC path, e.g. "/logbook.v1.TrackingService/GetRun" (what findMethod looks up). */
  readonly grpcPath: string;
  /** Upper-case HTTP method; `*` for a custom rule of kind "*". */
  readonly method: string;
  readonly template: PathTemplate;
  readonly pathFields: readonly PathField[];
  readonly body: BodyBinding;
  /** The response field that is the HTTP body, when the rule names one. */
  readonly responseBody: DescField | undefined;
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly serverStreaming: boolean;
  readonly clientStreaming: boolean;
  /** True for the `/ajax-api/…` twin derived from an `/api/…` binding. */
  readonly derived: boolean;
}

/** The shape of a decoded google.api.HttpRule (a dynamic message from @bufbuild/protobuf). */
interface HttpRuleValue {
  pattern:
    | { case: "get" | "put" | "post" | "delete" | "patch"; value: string }
    | { case: "custom"; value: { kind: string; path: string } }
    | { case: undefined; value?: undefined };
  body: string;
  responseBody: string;
  additionalBindings: HttpRuleValue[];
}

const API_PREFIX = /^\/api\/(\d+\.0)\//;

/** Builds a registry from the bytes of a FileDescriptorSet (with imports, as `buf build` writes it). */
export function registryFromDescriptorSet(descriptorSet: Uint8Array): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
}

/**
 * Every HTTP binding of every method in the registry, in declaration order, ajax-api twins
 * included. Methods without a `google.api.http` option get no route. Throws, naming the RPC and
 * the template, on the first invalid rule.
 */
export function loadHttpRoutes(registry: FileRegistry): HttpRoute[] {
  const ext = registry.getExtension("google.api.http") as DescExtension | undefined;
  if (!ext) return [];
  const routes: HttpRoute[] = [];
  for (const file of registry.files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        if (!hasOption(method, ext)) continue;
        const rule = getOption(method, ext) as unknown as HttpRuleValue;
        const bindings = [rule, ...rule.additionalBindings];
        for (const [i, binding] of bindings.entries()) {
          if (i > 0 && binding.additionalBindings.length > 0) {
            throw new Error(`${rpcName(method)}: additional_bindings cannot nest`);
          }
          routes.push(buildRoute(method, binding));
        }
      }
    }
  }
  const explicit = new Set(routes.map((r) => `${r.method} ${r.template.source}`));
  const twins: HttpRoute[] = [];
  for (const r of routes) {
    if (!API_PREFIX.test(r.template.source)) continue;
    const source = r.template.source.replace(API_PREFIX, "/ajax-api/$1/");
    if (explicit.has(`${r.method} ${source}`)) continue;
    twins.push({ ...r, template: parseTemplate(source, r.rpc), derived: true });
  }
  return [...routes, ...twins];
}

function rpcName(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}

function buildRoute(method: DescMethod, rule: HttpRuleValue): HttpRoute {
  const rpc = rpcName(method);
  const { verb, path } = ruleTarget(rule, rpc);
  const template = parseTemplate(path, rpc);
  const fail = (reason: string): never => {
    throw new TemplateError(path, reason, rpc);
  };
  const input = method.input;

  const pathFields = template.variables.map((v): PathField => {
    const name = v.fieldPath.join(".");
    const fields: DescField[] = [];
    let message: DescMessage | undefined = input;
    for (const [i, part] of v.fieldPath.entries()) {
      const field: DescField | undefined = message?.fields.find((f) => f.name === part);
      if (!field) return fail(`path variable "${name}": ${message?.typeName} has no field "${part}"`);
      fields.push(field);
      const last = i === v.fieldPath.length - 1;
      if (last) {
        if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") {
          fail(`path variable "${name}" must name a non-repeated scalar or enum field`);
        }
      } else {
        if (field.fieldKind !== "message") fail(`path variable "${name}": "${part}" is not a message field`);
        message = field.message;
      }
    }
    return { name, fields };
  });

  let body: BodyBinding;
  if (rule.body === "") body = { kind: "none" };
  else if (rule.body === "*") body = { kind: "all" };
  else {
    const field = input.fields.find((f) => f.name === rule.body);
    if (!field) fail(`body "${rule.body}" is not a field of ${input.typeName}`);
    body = { kind: "field", field: field! };
  }

  let responseBody: DescField | undefined;
  if (rule.responseBody !== "") {
    responseBody = method.output.fields.find((f) => f.name === rule.responseBody);
    if (!responseBody) fail(`response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  }

  return {
    rpc,
    grpcPath: `/${method.parent.typeName}/${method.name}`,
    method: verb,
    template,
    pathFields,
    body,
    responseBody,
    input,
    output: method.output,
    serverStreaming: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    clientStreaming: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    derived: false,
  };
}

function ruleTarget(rule: HttpRuleValue, rpc: string): { verb: string; path: string } {
  const p = rule.pattern;
  switch (p.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { verb: p.case.toUpperCase(), path: p.value };
    case "custom":
      if (!p.value.kind) throw new Error(`${rpc}: custom HTTP rule without a kind`);
      return { verb: p.value.kind === "*" ? ANY_METHOD : p.value.kind.toUpperCase(), path: p.value.path };
    default:
      throw new Error(`${rpc}: HTTP rule without a pattern (get, put, post, delete, patch or custom)`);
  }
}
