import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const fonts = join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), "standard_fonts") + "/";

/** The text of a PDF, one line per text run of each page, runs of
 * whitespace as one space (pdfjs does not keep them) (pdfjs-dist, as a reader extracts it). */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdf = await getDocument({ data: new Uint8Array(bytes), standardFontDataUrl: fonts, useSystemFonts: false }).promise;
  const lines: string[] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    for (const item of content.items) if ("str" in item && item.str.trim() !== "") lines.push(item.str.replace(/\s+/g, " ").trim());
  }
  await pdf.destroy();
  return lines.join("\n");
}
