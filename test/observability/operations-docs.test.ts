/**
 * The operator's material in docs/: the Prometheus alert rules parse, each expression is valid PromQL (the Prometheus
 * project's own grammar, @prometheus-io/lezer-promql) and names only metrics and labels a running Logbook exports;
 * the same for every query of the Grafana dashboard; docs/operations.md describes every metric and every alert.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { packageRoot } from "../../src/server/paths.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const docs = (...path: string[]) => readFileSync(join(packageRoot(), "docs", ...path), "utf8");

/** Series Prometheus itself makes for every target, and the labels it attaches to every series. */
const PROMETHEUS_SERIES = new Set(["up"]);
const TARGET_LABELS = new Set(["job", "instance"]);

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

/** Metric names and label names an expression uses; throws on a syntax error. */
function references(expr: string): { metrics: string[]; labels: { metric: string | undefined; label: string }[] } {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  const labels: { metric: string | undefined; label: string }[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
      if (node.name === "VectorSelector") {
        const id = node.node.getChild("Identifier");
        const metric = id ? expr.slice(id.from, id.to) : undefined;
        if (metric) metrics.push(metric);
        const matchers = node.node.getChild("LabelMatchers");
        for (const m of matchers?.getChildren("UnquotedLabelMatcher") ?? []) {
          const name = m.getChild("LabelName");
          if (name) labels.push({ metric, label: expr.slice(name.from, name.to) });
        }
      }
      if (node.name === "GroupingLabels") {
        for (const name of node.node.getChildren("LabelName")) labels.push({ metric: undefined, label: expr.slice(name.from, name.to) });
      }
    },
  });
  if (errors.length) throw new Error(`not PromQL: ${expr}\n${errors.join("\n")}`);
  return { metrics, labels };
}

describe("alert rules, dashboard and operations guide", () => {
  let lb: TestLogbook;
  /** Series name → the labels it carries (histogram series with their suffixes and `le`). */
  const series = new Map<string, Set<string>>();
  let familyNames: string[];

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    const text = await (await fetch(`${lb.httpUrl}/metrics`)).text();
    const registry = lb.logbook.metrics!.registry;
    familyNames = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const declared = (registry.getSingleMetric(name!) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
      const labels = new Set([...declared, ...TARGET_LABELS]);
      if (type === "histogram") {
        series.set(`${name}_bucket`, new Set([...labels, "le"]));
        series.set(`${name}_sum`, labels);
        series.set(`${name}_count`, labels);
      } else if (type === "summary") {
        series.set(name!, new Set([...labels, "quantile"]));
        series.set(`${name}_sum`, labels);
        series.set(`${name}_count`, labels);
      } else series.set(name!, labels);
    }
    for (const name of PROMETHEUS_SERIES) series.set(name, new Set(TARGET_LABELS));
  });
  afterAll(async () => {
    await lb?.close();
  });

  /** Every metric an expression names exists; every label it matches or groups by exists on the metrics it uses. */
  function checkExpression(where: string, expr: string): string[] {
    const { metrics, labels } = references(expr);
    expect(metrics.length, `${where}: names no metric`).toBeGreaterThan(0);
    for (const metric of metrics) expect(series.has(metric), `${where}: ${metric} is not exported`).toBe(true);
    for (const { metric, label } of labels) {
      const owners = metric ? [metric] : metrics;
      expect(
        owners.some((m) => series.get(m)?.has(label)),
        `${where}: no metric of ${owners.join(", ")} has the label "${label}"`,
      ).toBe(true);
    }
    return metrics;
  }

  it("the alert rule file parses, and every rule is complete and refers only to exported metrics", () => {
    const file = parseYaml(docs("observability", "logbook-alerts.yaml")) as { groups: { name: string; rules: Rule[] }[] };
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(["LogbookHighErrorRatio", "LogbookHighLatencyP99", "LogbookStoreUnreachable", "LogbookEventLoopLag", "LogbookStreamsStalled"]),
    );
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    const used = new Set<string>();
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning"], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      for (const m of checkExpression(rule.alert, rule.expr)) used.add(m);
    }
    for (const m of ["logbook_rpc_requests_total", "logbook_rpc_duration_seconds_bucket", "logbook_store_up", "nodejs_eventloop_lag_p99_seconds", "logbook_streams_stalled"]) {
      expect(used, m).toContain(m);
    }
  });

  it("a wrong metric or bad syntax would be caught", () => {
    expect(() => references("sum(rate(x[5m]) by")).toThrow(/not PromQL/);
    expect(() => checkExpression("probe", "logbook_no_such_metric > 0")).toThrow(/not exported/);
    expect(() => checkExpression("probe", 'logbook_store_up{operation="x"} == 0')).toThrow(/label "operation"/);
  });

  it("every Grafana panel query is valid PromQL over exported metrics", () => {
    const dashboard = JSON.parse(docs("observability", "grafana-dashboard.json")) as {
      panels: { id: number; title: string; type: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; definition?: string }[] };
    };
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(15);
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      for (const m of checkExpression(where, expr.replaceAll("$__rate_interval", "5m"))) used.add(m);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.definition)) {
      const metric = /label_values\((\w+)/.exec(variable.definition!)?.[1];
      expect(series.has(metric!), `variable ${variable.name}: ${metric}`).toBe(true);
    }
    // The dashboard shows every Logbook metric.
    for (const family of familyNames.filter((n) => n.startsWith("logbook_") && n !== "logbook_build_info")) {
      expect([...used].some((m) => m === family || m.startsWith(`${family}_`)), family).toBe(true);
    }
  });

  it("docs/operations.md describes every Logbook metric and every alert", () => {
    const guide = docs("operations.md");
    for (const family of familyNames.filter((n) => n.startsWith("logbook_"))) expect(guide, family).toContain(`\`${family}`);
    const file = parseYaml(docs("observability", "logbook-alerts.yaml")) as { groups: { rules: Rule[] }[] };
    for (const rule of file.groups.flatMap((g) => g.rules)) expect(guide, rule.alert).toContain(rule.alert);
  });
});
