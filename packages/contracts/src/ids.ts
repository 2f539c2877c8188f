/**
 * Session and message ID formats, shared by the API and the web app.
 *
 *   general  G-yyyyMM-nnnnnn     UTC month + counter that restarts each month
 *   project  P-<project>-nnnnnn  per-project counter that never resets
 *   message  S-<session>-M-nnn   per-session sequence, user and assistant share it
 *   legacy   <uuid>              sessions created by the previous system
 *
 * Counters are zero-padded to a minimum width (6 for sessions, 3 for messages). Past the
 * largest padded value the number simply grows a digit (G-202611-1000000, S-…-M-1000): the
 * prefix stays parseable and IDs keep sorting by (length, text). A widened number never has
 * a leading zero, so every sequence number has exactly one spelling.
 */

export const SESSION_SEQ_WIDTH = 6;
export const MESSAGE_SEQ_WIDTH = 3;
export const PROJECT_NUMBER_MAX_DIGITS = 12;

export type SessionIdParts =
  | { kind: 'general'; month: string; seq: number }
  | { kind: 'project'; projectNumber: string; seq: number }
  | { kind: 'legacy'; uuid: string };

export type MessageIdParts = { sessionId: string; session: SessionIdParts; seq: number };

const SEQ = (width: number) => `(\\d{${width},})`;
const GENERAL_RE = new RegExp(`^G-(\\d{4})(0[1-9]|1[0-2])-${SEQ(SESSION_SEQ_WIDTH)}$`);
const PROJECT_RE = new RegExp(`^P-([1-9]\\d{0,${PROJECT_NUMBER_MAX_DIGITS - 1}})-${SEQ(SESSION_SEQ_WIDTH)}$`);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MESSAGE_RE = new RegExp(`^S-(.+)-M-${SEQ(MESSAGE_SEQ_WIDTH)}$`);
const PROJECT_NUMBER_RE = new RegExp(`^\\d{1,${PROJECT_NUMBER_MAX_DIGITS}}$`);

function padSeq(seq: number, width: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new RangeError(`Sequence number must be a positive integer, got ${seq}`);
  }
  return String(seq).padStart(width, '0');
}

/** A padded sequence must have exactly the minimum width; a wider one must not start with 0. */
function parseSeq(text: string, width: number): number | null {
  if (text.length < width) return null;
  if (text.length > width && text.startsWith('0')) return null;
  const seq = Number(text);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

/** The UTC month of a date as yyyyMM. */
export function monthKey(date: Date): string {
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new RangeError(`Year out of range: ${year}`);
  return `${year}${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Canonical project number: 1–12 digits, leading zeros dropped, never 0.
 * Accepts a number or a digit string; anything else returns null.
 */
export function normalizeProjectNumber(value: unknown): string | null {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !PROJECT_NUMBER_RE.test(text)) return null;
  const canonical = text.replace(/^0+/, '');
  return canonical === '' ? null : canonical;
}

export function generalCounterKey(date: Date): string {
  return `session:counter:general:${monthKey(date)}`;
}

export function projectCounterKey(projectNumber: string): string {
  return `session:counter:project:${projectNumber}`;
}

export function formatGeneralId(date: Date, seq: number): string {
  return `G-${monthKey(date)}-${padSeq(seq, SESSION_SEQ_WIDTH)}`;
}

export function formatProjectId(projectNumber: string, seq: number): string {
  const canonical = normalizeProjectNumber(projectNumber);
  if (canonical === null || canonical !== projectNumber) {
    throw new RangeError(`Not a canonical project number: ${projectNumber}`);
  }
  return `P-${canonical}-${padSeq(seq, SESSION_SEQ_WIDTH)}`;
}

export function formatMessageId(sessionId: string, seq: number): string {
  if (parseSessionId(sessionId) === null) throw new RangeError(`Not a session ID: ${sessionId}`);
  return `S-${sessionId}-M-${padSeq(seq, MESSAGE_SEQ_WIDTH)}`;
}

export function parseSessionId(id: string): SessionIdParts | null {
  const general = GENERAL_RE.exec(id);
  if (general) {
    const [, year, month, seqText] = general as unknown as [string, string, string, string];
    const seq = parseSeq(seqText, SESSION_SEQ_WIDTH);
    return seq === null ? null : { kind: 'general', month: `${year}${month}`, seq };
  }
  const project = PROJECT_RE.exec(id);
  if (project) {
    const [, projectNumber, seqText] = project as unknown as [string, string, string];
    const seq = parseSeq(seqText, SESSION_SEQ_WIDTH);
    return seq === null ? null : { kind: 'project', projectNumber, seq };
  }
  if (UUID_RE.test(id)) return { kind: 'legacy', uuid: id.toLowerCase() };
  return null;
}

export function isSessionId(id: string): boolean {
  return parseSessionId(id) !== null;
}

export function parseMessageId(id: string): MessageIdParts | null {
  const match = MESSAGE_RE.exec(id);
  if (!match) return null;
  const [, sessionId, seqText] = match as unknown as [string, string, string];
  const session = parseSessionId(sessionId);
  const seq = parseSeq(seqText, MESSAGE_SEQ_WIDTH);
  return session === null || seq === null ? null : { sessionId, session, seq };
}

/** The counter key a session ID was drawn from, or null for legacy sessions. */
export function counterKeyOf(parts: SessionIdParts): string | null {
  if (parts.kind === 'general') return `session:counter:general:${parts.month}`;
  if (parts.kind === 'project') return projectCounterKey(parts.projectNumber);
  return null;
}
