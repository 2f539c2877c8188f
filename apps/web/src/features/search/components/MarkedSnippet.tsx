import type { Highlight } from '@simorgh/contracts';
import type { ReactNode } from 'react';

/** The snippet as text with the matched words in <mark>, cut by the API's UTF-16 offsets. */
export function MarkedSnippet({ snippet, highlights }: { snippet: string; highlights: Highlight[] }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const [start, end] of [...highlights].sort((a, b) => a[0] - b[0])) {
    if (start < at || end > snippet.length || end <= start) continue;
    if (start > at) parts.push(snippet.slice(at, start));
    parts.push(<mark key={start}>{snippet.slice(start, end)}</mark>);
    at = end;
  }
  if (at < snippet.length) parts.push(snippet.slice(at));
  return <span className="search-snippet">{parts}</span>;
}
