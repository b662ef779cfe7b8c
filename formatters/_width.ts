/**
 * Terminal text: display width (East Asian wide characters and emoji take two columns,
 * combining marks none), cutting to a width with `…`, and removing control characters.
 *
 * @module
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// Latin-1, Latin Extended, IPA, spacing modifiers and general punctuation ("…"): one column
// per code unit, no segmenting needed.
const NARROW = /^[\x20-\x7e\u00a0-\u02ff\u2010-\u2027\u2030-\u205e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
const EMOJI = /\p{Emoji_Presentation}|\uFE0F/u;

/** Where `cut` removes text: from the end, from the start, or from the middle. */
export type CutSide = "end" | "start" | "middle";

let segmenter: Intl.Segmenter | undefined;

function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

// Wide and fullwidth blocks of Unicode's EastAsianWidth.txt (the large ones).
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function graphemeWidth(g: string): number {
  if (ZERO_WIDTH.test(g)) return 0;
  const cp = g.codePointAt(0)!;
  if (WIDE_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi) || EMOJI.test(g)) return 2;
  return 1;
}

/** Returns how many terminal columns the text takes (control characters must be gone). */
export function displayWidth(text: string): number {
  if (NARROW.test(text)) return text.length;
  let width = 0;
  for (const g of graphemes(text)) width += graphemeWidth(g);
  return width;
}

/** Pads the text with spaces on the right to `width` columns. */
export function padEnd(text: string, width: number): string {
  const missing = width - displayWidth(text);
  return missing > 0 ? text + " ".repeat(missing) : text;
}

/**
 * Cuts the text to at most `width` columns, marking the cut with `…`; text that fits is returned
 * unchanged. A wide character that would straddle the limit is left out whole.
 */
export function cut(text: string, width: number, side: CutSide): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return "";
  const budget = width - 1;
  if (PRINTABLE_ASCII.test(text)) {
    if (side === "end") return text.slice(0, budget) + "…";
    if (side === "start") return "…" + text.slice(text.length - budget);
    const head = Math.ceil(budget / 2);
    return text.slice(0, head) + "…" + text.slice(text.length - (budget - head));
  }
  const parts = graphemes(text).map((g) => ({ g, w: graphemeWidth(g) }));
  const take = (from: typeof parts, room: number) => {
    const kept: string[] = [];
    let used = 0;
    for (const { g, w } of from) {
      if (used + w > room) break;
      kept.push(g);
      used += w;
    }
    return { kept, used };
  };
  if (side === "end") return take(parts, budget).kept.join("") + "…";
  if (side === "start") return "…" + take(parts.toReversed(), budget).kept.reverse().join("");
  const head = take(parts, Math.ceil(budget / 2));
  const tail = take(parts.toReversed(), budget - head.used);
  return head.kept.join("") + "…" + tail.kept.reverse().join("");
}

// C0 and C1 controls, DEL, and the bidirectional formatting characters that can make a name
// display as something else (a "gpj.exe" shown as "exe.jpg").
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

// Tab, and the characters Unicode counts as line breaks: LF, VT, FF, CR, NEL, LS, PS.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/;

/**
 * Makes text safe for one terminal cell: tabs and line breaks (Unicode's too) become spaces,
 * other control and bidirectional formatting characters become `?`, so nothing can move the
 * cursor or reorder text.
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => (BREAKS.test(c) ? " " : "?"));
}
