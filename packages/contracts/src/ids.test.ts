import { describe, expect, it } from 'vitest';
import {
  counterKeyOf,
  formatGeneralId,
  formatMessageId,
  formatProjectId,
  generalCounterKey,
  isSessionId,
  monthKey,
  normalizeProjectNumber,
  parseMessageId,
  parseSessionId,
  projectCounterKey,
} from './ids.js';

describe('monthKey', () => {
  it('uses the UTC month at the boundaries', () => {
    expect(monthKey(new Date('2026-01-31T23:59:59.999Z'))).toBe('202601');
    expect(monthKey(new Date('2026-02-01T00:00:00.000Z'))).toBe('202602');
    expect(monthKey(new Date('2026-12-31T23:59:59.999Z'))).toBe('202612');
    expect(monthKey(new Date('2027-01-01T00:00:00.000Z'))).toBe('202701');
    // Already February in UTC although local time in UTC-5 still says January.
    expect(monthKey(new Date('2026-01-31T20:00:00-05:00'))).toBe('202602');
    // Still January in UTC although local time in UTC+3:30 says February.
    expect(monthKey(new Date('2026-02-01T03:00:00+03:30'))).toBe('202601');
  });

  it('refuses years that do not fit four digits', () => {
    expect(() => monthKey(new Date('0999-06-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => monthKey(new Date(Date.UTC(10000, 0, 1)))).toThrow(RangeError);
  });
});

describe('general session IDs', () => {
  const march = new Date('2026-03-15T12:00:00Z');

  it('formats G-yyyyMM-nnnnnn with six-digit padding', () => {
    expect(formatGeneralId(march, 1)).toBe('G-202603-000001');
    expect(formatGeneralId(march, 999_999)).toBe('G-202603-999999');
    expect(generalCounterKey(march)).toBe('session:counter:general:202603');
  });

  it('widens past 999999 instead of wrapping, and still parses', () => {
    expect(formatGeneralId(march, 1_000_000)).toBe('G-202603-1000000');
    expect(parseSessionId('G-202603-1000000')).toEqual({ kind: 'general', month: '202603', seq: 1_000_000 });
    expect(parseSessionId('G-202603-12345678')).toEqual({ kind: 'general', month: '202603', seq: 12_345_678 });
  });

  it('refuses sequence numbers that are not positive safe integers', () => {
    for (const seq of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => formatGeneralId(march, seq)).toThrow(RangeError);
    }
  });

  it('round-trips format and parse', () => {
    for (const seq of [1, 42, 999_999, 1_000_000, 987_654_321]) {
      const id = formatGeneralId(march, seq);
      expect(parseSessionId(id)).toEqual({ kind: 'general', month: '202603', seq });
    }
  });

  it.each([
    'G-202603-00001', // too short
    'G-202603-0000001', // widened with a leading zero: a second spelling of 1
    'G-202603-000000', // zero
    'G-202613-000001', // month 13
    'G-202600-000001', // month 00
    'G-20263-000001',
    'g-202603-000001',
    'G-202603-000001 ',
    ' G-202603-000001',
    'G-202603-00000a',
    'G-202603-',
    'G-202603-000001-M-001',
  ])('rejects the malformed ID %j', (id) => {
    expect(parseSessionId(id)).toBeNull();
    expect(isSessionId(id)).toBe(false);
  });
});

describe('project session IDs', () => {
  it('formats P-<n>-nnnnnn for a canonical project number', () => {
    expect(formatProjectId('10234', 1)).toBe('P-10234-000001');
    expect(formatProjectId('10234', 1_000_000)).toBe('P-10234-1000000');
    expect(formatProjectId('999999999999', 7)).toBe('P-999999999999-000007');
    expect(projectCounterKey('10234')).toBe('session:counter:project:10234');
  });

  it('refuses non-canonical project numbers', () => {
    for (const projectNumber of ['010234', '0', '', '1234567890123', '12a', ' 1']) {
      expect(() => formatProjectId(projectNumber, 1)).toThrow(RangeError);
    }
  });

  it('parses project IDs and rejects malformed ones', () => {
    expect(parseSessionId('P-10234-000042')).toEqual({ kind: 'project', projectNumber: '10234', seq: 42 });
    expect(parseSessionId('P-10234-1000000')).toEqual({ kind: 'project', projectNumber: '10234', seq: 1_000_000 });
    for (const id of ['P-010234-000001', 'P-0-000001', 'P-1234567890123-000001', 'P-10234-00001', 'P-10234-0000001', 'P--000001', 'P-10234-000000']) {
      expect(parseSessionId(id)).toBeNull();
    }
  });
});

describe('legacy UUID sessions', () => {
  it('accepts UUIDs in either case and reports them lower-cased', () => {
    expect(parseSessionId('3F2B8C1E-9D4A-4E6B-8F0A-1C2D3E4F5A6B')).toEqual({ kind: 'legacy', uuid: '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b' });
    expect(isSessionId('3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b')).toBe(true);
  });

  it('rejects near-UUIDs', () => {
    for (const id of ['3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6', '3f2b8c1e9d4a4e6b8f0a1c2d3e4f5a6b', '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6g', '']) {
      expect(parseSessionId(id)).toBeNull();
    }
  });
});

describe('message IDs', () => {
  it('formats S-<session>-M-nnn and widens past 999', () => {
    expect(formatMessageId('G-202603-000001', 1)).toBe('S-G-202603-000001-M-001');
    expect(formatMessageId('P-10234-000002', 999)).toBe('S-P-10234-000002-M-999');
    expect(formatMessageId('G-202603-000001', 1000)).toBe('S-G-202603-000001-M-1000');
    const uuid = '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b';
    expect(formatMessageId(uuid, 12)).toBe(`S-${uuid}-M-012`);
  });

  it('refuses a message ID for something that is not a session ID', () => {
    expect(() => formatMessageId('not-a-session', 1)).toThrow(RangeError);
    expect(() => formatMessageId('G-202603-000001', 0)).toThrow(RangeError);
  });

  it('round-trips and parses the session part', () => {
    expect(parseMessageId('S-G-202603-000001-M-001')).toEqual({
      sessionId: 'G-202603-000001',
      session: { kind: 'general', month: '202603', seq: 1 },
      seq: 1,
    });
    expect(parseMessageId('S-P-10234-000002-M-1000')).toMatchObject({ sessionId: 'P-10234-000002', seq: 1000 });
  });

  it.each([
    'S-G-202603-000001-M-01',
    'S-G-202603-000001-M-0001',
    'S-G-202603-000001-M-000',
    'S-G-202613-000001-M-001',
    'S-nope-M-001',
    'G-202603-000001-M-001',
    'S-G-202603-000001-M-',
  ])('rejects the malformed message ID %j', (id) => {
    expect(parseMessageId(id)).toBeNull();
  });
});

describe('normalizeProjectNumber', () => {
  it('canonicalises digits and safe integers', () => {
    expect(normalizeProjectNumber('10234')).toBe('10234');
    expect(normalizeProjectNumber('0010234')).toBe('10234');
    expect(normalizeProjectNumber(10234)).toBe('10234');
    expect(normalizeProjectNumber('999999999999')).toBe('999999999999');
  });

  it('returns null for anything else', () => {
    for (const value of ['0', '000', '', '1234567890123', '12.5', '-1', '1e3', ' 12', 0, -5, 1.5, 1e13, null, undefined, {}, ['1']]) {
      expect(normalizeProjectNumber(value)).toBeNull();
    }
  });
});

describe('counterKeyOf', () => {
  it('names the counter an ID was drawn from', () => {
    const general = parseSessionId('G-202603-000007');
    const project = parseSessionId('P-10234-000003');
    const legacy = parseSessionId('3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b');
    if (!general || !project || !legacy) throw new Error('fixtures must parse');
    expect(counterKeyOf(general)).toBe('session:counter:general:202603');
    expect(counterKeyOf(project)).toBe('session:counter:project:10234');
    expect(counterKeyOf(legacy)).toBeNull();
  });
});
