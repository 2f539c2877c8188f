import { daysInRange, USAGE_MAX_DAYS, type UsageRow } from '@simorgh/contracts';
import { useState } from 'react';
import { useUsage, type UsageRange } from '../api/get-usage';
import { UsageChart } from './UsageChart';
import { UsageTable } from './UsageTable';

/** Rows in each of the top tables. */
export const TOP_ROWS = 10;
const DEFAULT_DAYS = 30;

/** `YYYY-MM-DD` of a UTC day: the report's days are UTC days. */
const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);

export function defaultRange(now = Date.now()): UsageRange {
  return { from: utcDay(now - (DEFAULT_DAYS - 1) * 86_400_000), to: utcDay(now) };
}

function rangeProblem({ from, to }: UsageRange): string | null {
  if (!from || !to) return 'Pick both dates.';
  if (from > to) return 'The start date must be on or before the end date.';
  if (daysInRange(from, to) > USAGE_MAX_DAYS) return `Pick at most ${USAGE_MAX_DAYS} days.`;
  return null;
}

const total = (rows: UsageRow[] | undefined, field: 'messages' | 'prompt_tokens' | 'completion_tokens') =>
  (rows ?? []).reduce((sum, row) => sum + row[field], 0);

const number = new Intl.NumberFormat('en');

/** The usage report: messages and tokens per day, the top users and projects, over a date range. */
export default function AdminPage() {
  const [range, setRange] = useState<UsageRange>(() => defaultRange());
  const problem = rangeProblem(range);
  const days = useUsage(range, 'day', USAGE_MAX_DAYS, problem === null);
  const users = useUsage(range, 'user', TOP_ROWS, problem === null);
  const projects = useUsage(range, 'project', TOP_ROWS, problem === null);
  const failure = [days, users, projects].find((query) => query.isError)?.error;

  return (
    <div className="admin-page">
      <header className="admin-head">
        <h1>Usage</h1>
        <form className="admin-range" aria-label="Date range" onSubmit={(event) => event.preventDefault()}>
          <label>
            From
            <input type="date" value={range.from} max={range.to || undefined} onChange={(event) => setRange({ ...range, from: event.target.value })} />
          </label>
          <label>
            To
            <input type="date" value={range.to} min={range.from || undefined} onChange={(event) => setRange({ ...range, to: event.target.value })} />
          </label>
          <span className="muted">UTC days, both included</span>
        </form>
      </header>

      {problem !== null && (
        <p className="admin-problem" role="alert">
          {problem}
        </p>
      )}
      {problem === null && failure && (
        <p className="admin-problem" role="alert">
          {failure.message}
        </p>
      )}

      <section className="admin-totals" aria-label="Totals">
        <div>
          <span className="muted">Replies</span>
          <strong>{number.format(total(days.data?.rows, 'messages'))}</strong>
        </div>
        <div>
          <span className="muted">Prompt tokens</span>
          <strong>{number.format(total(days.data?.rows, 'prompt_tokens'))}</strong>
        </div>
        <div>
          <span className="muted">Completion tokens</span>
          <strong>{number.format(total(days.data?.rows, 'completion_tokens'))}</strong>
        </div>
      </section>

      <section className="admin-card" aria-labelledby="usage-per-day">
        <h2 id="usage-per-day">Messages and tokens per day</h2>
        {days.data && <UsageChart rows={days.data.rows} />}
      </section>

      <div className="admin-tables">
        <UsageTable title="Top users" keyLabel="User" rows={users.data?.rows} loading={users.isPending && problem === null} />
        <UsageTable title="Top projects" keyLabel="Project" rows={projects.data?.rows} loading={projects.isPending && problem === null} />
      </div>
    </div>
  );
}
