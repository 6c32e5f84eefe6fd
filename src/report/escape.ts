/** Escaping for HTML and SVG text and attribute values. Everything a report carries goes through here. */

/**
 * Escape for element text and for double- or single-quoted attribute values; drop characters XML forbids; show
 * the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which would reorder what
 * the page shows, as `\u202e`, as the text report does.
 */
export function esc(value: string | number): string {
  return String(value)
    .replace(
      /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    )
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to remove
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g,
      "\ufffd",
    )
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** `name="value"` pairs, escaped; undefined values are left out. */
export function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join("");
}
