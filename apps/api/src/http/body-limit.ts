/** The largest JSON or form body the API reads, in bytes: a message is at most a few KB of text. */
export const BODY_LIMIT = 64 * 1024;
