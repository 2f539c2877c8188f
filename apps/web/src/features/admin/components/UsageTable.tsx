import type { UsageRow } from '@simorgh/contracts';
import { useId } from 'react';

const number = new Intl.NumberFormat('en');

type UsageTableProps = { title: string; keyLabel: string; rows: UsageRow[] | undefined; loading: boolean };

/** One grouping of the report, the largest first (as the API orders it). */
export function UsageTable({ title, keyLabel, rows, loading }: UsageTableProps) {
  const id = useId();
  return (
    <section className="admin-card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {loading && <p className="muted">Loading…</p>}
      {rows && rows.length === 0 && <p className="muted">No replies in this range.</p>}
      {rows && rows.length > 0 && (
        <table className="usage-table" aria-labelledby={id}>
          <thead>
            <tr>
              <th scope="col">{keyLabel}</th>
              <th scope="col">Chats</th>
              <th scope="col">Replies</th>
              <th scope="col">Prompt tokens</th>
              <th scope="col">Completion tokens</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                <th scope="row">{row.key}</th>
                <td>{number.format(row.chats)}</td>
                <td>{number.format(row.messages)}</td>
                <td>{number.format(row.prompt_tokens)}</td>
                <td>{number.format(row.completion_tokens)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
