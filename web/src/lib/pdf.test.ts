import { describe, expect, it } from "vitest";
import { buildPdf, winAnsi, wrap } from "./pdf";

const latin1 = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join("");

describe("buildPdf", () => {
  it("writes a PDF whose cross-reference table points at every object", () => {
    const pdf = latin1(buildPdf([{ text: "Note (approved)", bold: true, size: 14 }, { text: "Cough \\ fever" }], "Note"));
    expect(pdf.startsWith("%PDF-1.4")).toBe(true);
    expect(pdf.trimEnd().endsWith("%%EOF")).toBe(true);
    const xref = Number(/startxref\n(\d+)/.exec(pdf)![1]);
    expect(pdf.slice(xref, xref + 4)).toBe("xref");
    const entries = [...pdf.slice(xref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(entries.length).toBe(7);
    entries.forEach((off, i) => expect(pdf.slice(off, off + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`));
    expect(pdf).toContain("(Note \\(approved\\)) Tj");
    expect(pdf).toContain("(Cough \\\\ fever) Tj");
  });

  it("breaks long documents into pages", () => {
    const lines = Array.from({ length: 200 }, (_, i) => ({ text: `line ${i}` }));
    const pdf = latin1(buildPdf(lines, "t"));
    expect(Number(/\/Count (\d+)/.exec(pdf)![1])).toBeGreaterThan(1);
  });
});

describe("text", () => {
  it("maps typographic characters to WinAnsi and the rest to ?", () => {
    expect(winAnsi("“SpO₂ ≥ 94” – ok")).toBe("\x93SpO2 >= 94\x94 \x96 ok");
    expect(winAnsi("José 你")).toBe("José ?");
  });
  it("wraps on words and splits over-long words", () => {
    expect(wrap("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrap("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  });
});
