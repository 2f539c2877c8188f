import { describe, expect, it } from 'vitest';
import { cleanTitle, fallbackTitle, TITLE_MAX_CHARS, UNTITLED } from './title.js';

describe('cleanTitle', () => {
  it.each([
    ['"Pump Cavitation Troubleshooting"', 'Pump Cavitation Troubleshooting'],
    ['Title: Heat Exchanger Fouling', 'Heat Exchanger Fouling'],
    ['title - Flange Rating Check.', 'Flange Rating Check'],
    ['**Compressor Surge Control**', 'Compressor Surge Control'],
    ['«طراحی مبدل حرارتی»', 'طراحی مبدل حرارتی'],
    ['عنوان: محاسبه افت فشار', 'محاسبه افت فشار'],
    ['Relief Valve Sizing 🚀🔥!!', 'Relief Valve Sizing'],
    ['  Cable   Tray\tLoading  ', 'Cable Tray Loading'],
    ["'Motor Starting Current'?", 'Motor Starting Current'],
  ])('turns %j into %j', (raw, expected) => {
    expect(cleanTitle(raw)).toBe(expected);
  });

  it('drops <think> blocks of reasoning models and keeps the answer after them', () => {
    expect(cleanTitle('<think>The user asks about pumps.\nMaybe "Pumps"?</think>\n\nCentrifugal Pump Selection')).toBe(
      'Centrifugal Pump Selection',
    );
  });

  it('returns null when a reasoning model was cut off inside <think>', () => {
    expect(cleanTitle('<think>Let me consider what the user wants')).toBeNull();
  });

  it('keeps only the first line when the model explains itself', () => {
    expect(cleanTitle('Transformer Oil Testing\n\nThis title summarises the question.')).toBe('Transformer Oil Testing');
  });

  it(`cuts long titles at a word boundary to at most ${TITLE_MAX_CHARS} characters`, () => {
    const title = cleanTitle('Detailed Comparison Of Seismic Design Requirements For Elevated Storage Tanks In Zone Four');
    expect(title).not.toBeNull();
    expect(title!.length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title).toBe('Detailed Comparison Of Seismic Design Requirements For');
  });

  it.each([[''], ['   '], ['""'], ['🚀🔥'], ['...'], [null], [undefined], ['New conversation']])(
    'returns null for unusable output %j',
    (raw) => {
      expect(cleanTitle(raw)).toBeNull();
    },
  );

  it('keeps identifiers with underscores intact', () => {
    expect(cleanTitle('flow_rate Units Mismatch')).toBe('flow_rate Units Mismatch');
  });
});

describe('fallbackTitle', () => {
  it('uses the first six words of the message, capitalised, without punctuation', () => {
    expect(fallbackTitle('how do I size a relief valve for a blocked outlet case?')).toBe('How do I size a relief');
  });

  it('skips code blocks and links when there are other words', () => {
    expect(fallbackTitle('```python\nprint(1)\n```\nwhy does this fail? see https://example.com/x')).toBe('Why does this fail see');
  });

  it('falls back to the code itself when the message is only code', () => {
    expect(fallbackTitle('```\nSELECT 1\n```')).toBe('SELECT 1');
  });

  it('works for Persian text', () => {
    expect(fallbackTitle('ضخامت لوله برای فشار ۱۵۰ بار چقدر باید باشد؟')).toBe('ضخامت لوله برای فشار ۱۵۰ بار');
  });

  it('is never longer than the title limit', () => {
    expect(fallbackTitle('Supercalifragilisticexpialidocious'.repeat(4)).length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
  });

  it(`names a message without words "${UNTITLED}", never the placeholder`, () => {
    expect(fallbackTitle('??? !!! 🚀')).toBe(UNTITLED);
    expect(fallbackTitle('new conversation')).toBe(UNTITLED);
  });
});
