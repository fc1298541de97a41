/**
 * Scraping /metrics the way Prometheus reads it: the text goes through prom2json (Prometheus's own text-format
 * parser, built from its Go module once and cached by scripts/go-tool.mjs), which fails on anything a Prometheus
 * server would refuse. Tests then read samples from its JSON, never from Logbook's registry.
 */
import { execFileSync } from "node:child_process";
import { goTool, PROM2JSON } from "../../scripts/go-tool.mjs";

export interface MetricFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Sample[];
}

export interface Sample {
  labels?: Record<string, string>;
  /** Counters and gauges. */
  value?: string;
  /** Histograms: upper bound → cumulative count. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export type Labels = Record<string, string>;

/** The exposition parsed by Prometheus's parser; throws with its message when the text is not valid. */
export function parseExposition(text: string): MetricFamily[] {
  try {
    return JSON.parse(execFileSync(goTool(PROM2JSON), [], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] })) as MetricFamily[];
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr;
    throw new Error(`prom2json refused the exposition: ${stderr ?? String(err)}`);
  }
}

export class Scrape {
  constructor(
    readonly text: string,
    readonly families: MetricFamily[],
  ) {}

  family(name: string): MetricFamily | undefined {
    return this.families.find((f) => f.name === name);
  }

  /** Samples of a family whose labels include `labels`. */
  samples(name: string, labels: Labels = {}): Sample[] {
    return (this.family(name)?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** The one sample with exactly these labels (no more, no fewer); undefined when there is none. */
  exact(name: string, labels: Labels = {}): Sample | undefined {
    const want = Object.keys(labels).length;
    return this.samples(name, labels).find((m) => Object.keys(m.labels ?? {}).length === want);
  }

  /** A counter's or gauge's value with exactly these labels; 0 when the series does not exist yet. */
  value(name: string, labels: Labels = {}): number {
    const sample = this.exact(name, labels);
    return sample?.value === undefined ? 0 : Number(sample.value);
  }

  /** A histogram's observation count with exactly these labels; 0 when the series does not exist yet. */
  count(name: string, labels: Labels = {}): number {
    const sample = this.exact(name, labels);
    return sample?.count === undefined ? 0 : Number(sample.count);
  }

  /** Every label value used by a family for one label name. */
  labelValues(name: string, label: string): Set<string> {
    return new Set((this.family(name)?.metrics ?? []).map((m) => m.labels?.[label]).filter((v): v is string => v !== undefined));
  }
}

/** GET <url> (…/metrics) and parse it. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return new Scrape(text, parseExposition(text));
}
