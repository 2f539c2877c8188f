import { describe, expect, it } from 'vitest';
import { validateProjectInput } from './useProjectLookup';

describe('validateProjectInput', () => {
  it('accepts 1–12 digits and canonicalises leading zeros', () => {
    expect(validateProjectInput(' 004711 ')).toEqual({ ok: true, projectNumber: '4711' });
  });

  it.each(['47a', '-1', '4.5', '1e3', '٤٧'])('refuses %s as not digits only', (input) => {
    expect(validateProjectInput(input)).toEqual({ ok: false, lookup: { state: 'invalid', message: 'Project ID must contain digits only.' } });
  });

  it('refuses zero and numbers longer than 12 digits', () => {
    expect(validateProjectInput('0')).toMatchObject({ ok: false, lookup: { state: 'invalid' } });
    expect(validateProjectInput('1234567890123')).toMatchObject({ ok: false, lookup: { state: 'invalid' } });
  });

  it('treats blank input as empty, not an error', () => {
    expect(validateProjectInput('   ')).toEqual({ ok: false, lookup: { state: 'empty' } });
  });
});
