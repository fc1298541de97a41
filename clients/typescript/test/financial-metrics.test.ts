import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { financialMetrics, hitRate, maxDrawdown, sharpeRatio, type FinancialMetrics } from "../src/financial-metrics.js";

interface Fixture {
  tolerance: { relative: number; absolute: number };
  metrics: string[];
  cases: { name: string; returns: number[]; periods_per_year: number; risk_free: number; expected: Record<string, number | "NaN"> }[];
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "financial-metrics.json"), "utf8")) as Fixture;

const FIELD: Record<string, keyof FinancialMetrics> = {
  annualized_return: "annualizedReturn",
  annualized_volatility: "annualizedVolatility",
  sharpe_ratio: "sharpeRatio",
  sortino_ratio: "sortinoRatio",
  max_drawdown: "maxDrawdown",
  calmar_ratio: "calmarRatio",
  hit_rate: "hitRate",
};

describe("financial metrics against the golden fixture (clients/fixtures/financial-metrics.json)", () => {
  it("covers every metric of the fixture", () => {
    expect(fixture.metrics.map((m) => FIELD[m])).not.toContain(undefined);
    expect(fixture.cases.length).toBeGreaterThan(5);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const got = financialMetrics(c.returns, { periodsPerYear: c.periods_per_year, riskFree: c.risk_free });
    for (const metric of fixture.metrics) {
      const want = c.expected[metric];
      const value = got[FIELD[metric]!];
      if (want === "NaN") expect(value, metric).toBeNaN();
      else {
        expect(Number.isFinite(value), `${metric}: ${value}`).toBe(true);
        const tol = Math.max(fixture.tolerance.absolute, fixture.tolerance.relative * Math.abs(want!));
        expect(Math.abs(value - want!), `${metric}: got ${value}, want ${want}`).toBeLessThanOrEqual(tol);
      }
    }
  });

  it("defaults to p = 252 and rf = 0, and never throws on undefined cases", () => {
    const r = [0.01, -0.02, 0.015, 0.003];
    expect(sharpeRatio(r)).toBe(sharpeRatio(r, { periodsPerYear: 252, riskFree: 0 }));
    expect(() => financialMetrics([])).not.toThrow();
    expect(Object.values(financialMetrics([0.1])).every(Number.isNaN)).toBe(true);
    expect(maxDrawdown([0.1, 0.2])).toBe(0);
    expect(Object.is(maxDrawdown([0.1, 0.2]), -0)).toBe(false);
    expect(hitRate([0, 0, 1, -1])).toBe(0.25);
  });
});
