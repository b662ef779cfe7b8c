/**
 * Types of `gen/connection_check.js`, which `scripts/bundle_zod.mjs` writes when the packages are
 * installed: the connection schema compiled by zod into one function.
 */

/**
 * Whether a record passes the compiled schema; null when the install could not compile it.
 * False means the schema may reject the record: parse it to know, and to learn why.
 */
export declare const checkConnection: ((record: unknown) => boolean) | null;
