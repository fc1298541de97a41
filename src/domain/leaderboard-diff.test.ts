import { describe, expect, it } from "vitest";
import { diffBoards } from "./leaderboard-diff.js";

const e = (runId: string, rank: number, value: number) => ({ runId, rank, value });

describe("diffBoards", () => {
  it("lists what entered, moved, changed value and left; nothing for an unchanged board", () => {
    const before = [e("a", 1, 3), e("b", 2, 2), e("c", 3, 1)];
    expect(diffBoards(before, before)).toEqual([]);
    expect(diffBoards(before, [e("d", 1, 5), e("a", 2, 3), e("b", 3, 2)])).toEqual([
      { kind: "entered", entry: e("d", 1, 5) },
      { kind: "moved", entry: e("a", 2, 3), previousRank: 1 },
      { kind: "moved", entry: e("b", 3, 2), previousRank: 2 },
      { kind: "left", runId: "c", previousRank: 3 },
    ]);
    expect(diffBoards(before, [e("a", 1, 4), e("b", 2, 2), e("c", 3, 1)])).toEqual([{ kind: "updated", entry: e("a", 1, 4) }]);
  });

  it("takes NaN as equal to NaN and 0 as equal to -0", () => {
    expect(diffBoards([e("a", 1, Number.NaN), e("b", 2, 0)], [e("a", 1, Number.NaN), e("b", 2, -0)])).toEqual([]);
  });
});
