import { describe, expect, it } from "vitest";
import { draftFrom, editContent, evidenceRef, highlightParts, changed, sentenceEvidence } from "./note";

const content = {
  subjective: [{ id: "S1", text: "Cough for three days.", evidence: ["s2"] }],
  objective: [],
  assessment: [{ id: "A1", text: "Likely viral.", evidence: ["s4", "s5"] }],
  plan: [],
};

describe("editContent", () => {
  it("keeps ids of kept sentences, none for new ones, and drops blank ones", () => {
    const d = draftFrom(content);
    d.plan.push({ text: " Review in two days. ", evidence: [] }, { text: "  ", evidence: [] });
    d.assessment = [];
    expect(editContent(d)).toEqual({
      subjective: [{ id: "S1", text: "Cough for three days." }],
      objective: [],
      assessment: [],
      plan: [{ text: "Review in two days." }],
    });
    expect(changed(draftFrom(content), d)).toBe(true);
    expect(changed(draftFrom(content), draftFrom(content))).toBe(false);
  });
});

describe("evidence", () => {
  it("reads segment ids and span objects", () => {
    expect(evidenceRef("s2")).toEqual({ segmentId: "s2" });
    expect(evidenceRef({ segmentId: "s3", start: 4, end: 9, quote: "fever" })).toEqual({ segmentId: "s3", start: 4, end: 9, quote: "fever" });
    expect(evidenceRef(42)).toBeNull();
  });
  it("highlights spans inside a segment, or the whole segment", () => {
    expect(highlightParts("I have a fever", [{ start: 9, end: 14 }])).toEqual([
      { text: "I have a ", mark: false },
      { text: "fever", mark: true },
    ]);
    expect(highlightParts("hello", [{}])).toEqual([{ text: "hello", mark: true }]);
    // Spans count code points: an emoji or a character outside the BMP is one.
    expect(highlightParts("😀 fever", [{ start: 2, end: 7 }])).toEqual([
      { text: "😀 ", mark: false },
      { text: "fever", mark: true },
    ]);
    expect(highlightParts("hello", [])).toEqual([{ text: "hello", mark: false }]);
  });
});

describe("sentenceEvidence", () => {
  it("prefers spans and keeps cited segments without a span whole", () => {
    expect(
      sentenceEvidence({ evidence: ["s1", "s2"], spans: [{ segmentId: "s1", start: 0, end: 4, quote: "Cough" }] }),
    ).toEqual([{ segmentId: "s1", start: 0, end: 4, quote: "Cough" }, { segmentId: "s2" }]);
    expect(sentenceEvidence({ evidence: null })).toEqual([]);
  });
});
