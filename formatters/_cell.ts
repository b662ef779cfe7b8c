/**
 * Field lists and cell values shared by the formatters.
 *
 * @module
 */

/**
 * Checks a field list and drops repeated names (the first occurrence keeps its place).
 *
 * @throws {RangeError} When the list is empty or holds an empty name.
 */
export function checkFields(fields: readonly string[]): string[] {
  if (fields.length === 0) {
    throw new RangeError('Invalid field list "": expected at least one field name');
  }
  const bad = fields.find((f) => typeof f !== "string" || f === "");
  if (bad !== undefined) {
    throw new RangeError(`Invalid field name "${String(bad)}": expected a non-empty name`);
  }
  return [...new Set(fields)];
}

/**
 * Returns an object with exactly the given fields, in that order; a field the row lacks is
 * null, so every output object has the same keys. A row that already is such an object (a plain
 * object whose keys are the fields in order, none undefined) is returned as it is: building a
 * copy of 25 fields cost four times as much as writing the row as JSON.
 */
export function projectRow(
  row: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  if (hasExactly(row, fields)) return row;
  // A plain object keeps JSON.stringify on its fast path; a field named "__proto__" is defined
  // rather than assigned, so it stays an ordinary key.
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    let value = Object.hasOwn(row, field) ? row[field] : undefined;
    if (value === undefined) value = null;
    if (field === "__proto__") {
      Object.defineProperty(out, field, { value, enumerable: true, writable: true });
    } else out[field] = value;
  }
  return out;
}

/** Whether the row is a plain object with exactly these keys in this order, none undefined. */
function hasExactly(row: Record<string, unknown>, fields: readonly string[]): boolean {
  if (Object.getPrototypeOf(row) !== Object.prototype) return false;
  let i = 0;
  for (const key in row) {
    if (key !== fields[i] || row[key] === undefined) return false;
    i++;
  }
  return i === fields.length;
}

/**
 * JSON text of a value; bigints (which JSON.stringify rejects) become numbers when exact, else
 * strings. The replacer runs only when a bigint is there, so the common case stays fast.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(value, jsonReplacer);
  }
}

/**
 * Writes a value as one line of plain text: nothing for null, items of a list joined by
 * `separator`, an object as `key=value` pairs joined by `separator`.
 */
export function plainText(value: unknown, separator: string): string {
  if (Array.isArray(value)) return value.map((v) => scalarText(v)).join(separator);
  if (isObject(value)) {
    return Object.entries(value).map(([k, v]) => `${k}=${scalarText(v)}`).join(separator);
  }
  return scalarText(value);
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  // A list or object nested inside another one keeps its structure as JSON.
  if (Array.isArray(value) || isObject(value)) return JSON.stringify(value, jsonReplacer);
  return String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !(value instanceof Date);
}

/** A JSON.stringify replacer that writes bigints as numbers when exact, else as strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

/**
 * A count and its noun: `1 endpoint`, `2 endpoints`, `3 processes`.
 *
 * @param n The count.
 * @param one The noun for one.
 * @param many The noun for any other count (default: `one` with an `s`).
 * @returns The text.
 */
export function plural(n: number, one: string, many: string = one + "s"): string {
  return `${n} ${n === 1 ? one : many}`;
}
