/** procconn's version; kept equal to deno.json and package.json (a test checks). */
export const VERSION = "0.1.0";
