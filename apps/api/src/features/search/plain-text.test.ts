import { describe, expect, it } from 'vitest';
import { plainText } from './plain-text.js';
import { excerpt, wordsOf } from './snippets.js';

describe('plainText: a message as it reads once its markdown is rendered', () => {
  it.each([
    ['## Relief valve sizing\n\nThe **set pressure** is *10 barg*.', 'Relief valve sizing The set pressure is 10 barg.'],
    ['# Title\n### Sub *title*', 'Title Sub title'],
    ['- first\n- second\n  * nested\n1. one\n2) two\n- [x] done', 'first second nested one two done'],
    ['> quoted **advice**\n> > deeper', 'quoted advice deeper'],
    ['Use `pump_curve()` and ``a ` tick``', 'Use pump_curve() and a ` tick'],
    ['```python\nflow = 2 * area\n```\nafter', 'flow = 2 * area after'],
    ['~~~\ncode\n~~~', 'code'],
    ['a ~~struck~~ word, ***both*** and __strong__', 'a struck word, both and strong'],
    ['see [the datasheet](https://example.com/ds.pdf "Datasheet") and ![P&ID](pid.png)', 'see the datasheet and P&ID'],
    ['above\n\n---\n\nbelow\n***\nend', 'above below end'],
    ['Heading\n=======\ntext', 'Heading text'],
    ['| tag | size |\n|:---|---:|\n| P-101 | 4" |', '| tag | size | | P-101 | 4" |'],
    ['\\*not emphasis\\* and 5 \\# 3', '*not emphasis* and 5 # 3'],
  ])('%j reads %j', (markdown, plain) => {
    expect(plainText(markdown)).toBe(plain);
  });

  it('keeps characters that read as text: products, lone stars, identifiers, hashtags', () => {
    expect(plainText('2*3 = 6, a * b, snake_case_name, #P-101, 3.5 bar')).toBe('2*3 = 6, a * b, snake_case_name, #P-101, 3.5 bar');
  });

  it('keeps Persian text and characters outside the BMP, with their markup dropped', () => {
    expect(plainText('## گزارش\n\n**فشار** طراحی 𝒳 😀 *می‌خواهم*')).toBe('گزارش فشار طراحی 𝒳 😀 می‌خواهم');
  });

  it('leaves plain text alone but for its whitespace', () => {
    expect(plainText('  plain\ttext\n\nhere  ')).toBe('plain text here');
  });

  it('gives words whose UTF-16 offsets mark the right text in the excerpt', () => {
    const markdown = `# Notes\n\n${'filler words here. '.repeat(12)}**𝒳 pressure** is \`10 barg\`, see [فشار](x.md).`;
    const text = plainText(markdown);
    const marks = wordsOf(text)
      .filter((word) => word.text === 'pressure' || word.text === 'فشار' || word.text === 'barg')
      .map((word): [number, number] => [word.start, word.end]);
    const { snippet, highlights } = excerpt(text, marks);
    expect(snippet).not.toMatch(/[*`#[\]]/);
    expect(highlights.map(([start, end]) => snippet.slice(start, end))).toEqual(['pressure', 'barg', 'فشار']);
  });
});
