/** The largest JSON or form body the API reads: a message is at most a few KB of text. */
export const BODY_LIMIT = '64kb';
