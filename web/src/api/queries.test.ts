import { describe, expect, it } from "vitest";
import { SUMMARY_BATCH, summaryBatches } from "./queries";

describe("summaryBatches", () => {
  it("asks for at most the API's page size of ids per request, every id once", () => {
    const ids = Array.from({ length: 2 * SUMMARY_BATCH + 7 }, (_, i) => `p${i}`);
    const batches = summaryBatches(ids);
    expect(batches.map((b) => b.length)).toEqual([SUMMARY_BATCH, SUMMARY_BATCH, 7]);
    expect(batches.flat()).toEqual(ids);
    expect(summaryBatches([])).toEqual([]);
  });
});
