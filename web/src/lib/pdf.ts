// A small PDF writer for text documents (the approved note as a PDF): A4 pages, the
// standard Helvetica fonts in WinAnsi encoding, lines wrapped by character count. No
// library: a note is headings and paragraphs, and the bytes stay in the browser.

export interface PdfLine {
  text: string;
  bold?: boolean;
  size?: number;
  /** Space before the line, in points. */
  gap?: number;
}

const WINANSI_EXTRA: Record<string, number> = {
  "€": 0x80, "‚": 0x82, "„": 0x84, "…": 0x85, "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "•": 0x95, "–": 0x96, "—": 0x97,
  "™": 0x99, "Œ": 0x8c, "œ": 0x9c, "Š": 0x8a, "š": 0x9a, "Ž": 0x8e, "ž": 0x9e, "Ÿ": 0x9f,
};
const SUBSCRIPT: Record<string, string> = { "₂": "2", "₃": "3", "≥": ">=", "≤": "<=", "→": "->" };

/** The text in WinAnsi bytes (one char per byte); what it cannot hold becomes "?". */
export function winAnsi(s: string): string {
  let out = "";
  for (const ch of s.normalize("NFC")) {
    const c = ch.codePointAt(0)!;
    if (SUBSCRIPT[ch]) out += SUBSCRIPT[ch];
    else if ((c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xff)) out += ch;
    else if (WINANSI_EXTRA[ch]) out += String.fromCharCode(WINANSI_EXTRA[ch]);
    else if (ch === "\t") out += " ";
    else out += "?";
  }
  return out;
}

function escape(s: string): string {
  return s.replace(/[\\()]/g, (m) => "\\" + m);
}

export function wrap(text: string, max: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = "";
  for (let w of words) {
    while (w.length > max) {
      if (cur) {
        lines.push(cur);
        cur = "";
      }
      lines.push(w.slice(0, max));
      w = w.slice(max);
    }
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= max) cur += " " + w;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [""];
}

/** Builds a PDF file from lines of text. */
export function buildPdf(lines: PdfLine[], title: string): Uint8Array {
  const W = 595, H = 842, M = 56;
  const pages: string[][] = [[]];
  let y = H - M;
  for (const l of lines) {
    const size = l.size ?? 10;
    const lead = size * 1.35;
    const maxChars = Math.floor((W - 2 * M) / (size * (l.bold ? 0.56 : 0.5)));
    y -= l.gap ?? 0;
    for (const part of wrap(winAnsi(l.text), maxChars)) {
      if (y - lead < M) {
        pages.push([]);
        y = H - M;
      }
      y -= lead;
      pages.at(-1)!.push(`BT /${l.bold ? "F2" : "F1"} ${size} Tf ${M} ${y.toFixed(1)} Td (${escape(part)}) Tj ET`);
    }
  }
  const objs: string[] = [];
  const n = pages.length;
  // 1 catalog, 2 pages, 3 font, 4 bold font, 5 info, then page/content pairs.
  objs.push("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push(`<< /Type /Pages /Kids [${pages.map((_, i) => `${6 + 2 * i} 0 R`).join(" ")}] /Count ${n} >>`);
  objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
  objs.push(`<< /Title (${escape(winAnsi(title))}) /Producer (Medi OS) >>`);
  pages.forEach((ops, i) => {
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${W} ${H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${7 + 2 * i} 0 R >>`);
    const stream = ops.join("\n");
    objs.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const bytes = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) bytes[i] = out.charCodeAt(i) & 0xff;
  return bytes;
}
