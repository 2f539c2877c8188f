import { routes, type UsageRow } from '@simorgh/contracts';
import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { renderApp } from '../../../test/render-app';
import { errorResponse } from '../../../test/route-handlers';

// jsdom has no canvas: the chart is drawn in Chromium (the e2e journey); here it shows what it was given.
vi.mock('./UsageChart', () => ({
  UsageChart: ({ rows }: { rows: UsageRow[] }) => <ol aria-label="Chart days">{rows.map((row) => <li key={row.key}>{`${row.key}: ${row.messages}`}</li>)}</ol>,
}));

const row = (key: string, messages: number, prompt: number, completion: number): UsageRow => ({ key, chats: 1, messages, prompt_tokens: prompt, completion_tokens: completion });

function installUsage() {
  const api = installFakeApi({ isAdmin: true });
  api.on(routes.adminUsage, ({ url }) => {
    const groupBy = url.searchParams.get('group_by');
    const from = url.searchParams.get('from') ?? '';
    if (groupBy === 'day') return { status: 200, body: { rows: [row(from, 3, 300, 120), row(url.searchParams.get('to') ?? '', 1, 50, 20)] } };
    if (groupBy === 'user') return { status: 200, body: { rows: [row('a.rahimi', 3, 300, 120), row('s.karimi', 1, 50, 20)] } };
    return { status: 200, body: { rows: [row('10234', 2, 200, 80)] } };
  });
  return api;
}

const usageCalls = (api: ReturnType<typeof installFakeApi>) => api.calls('GET', '/api/admin/usage').map((call) => Object.fromEntries(call.url.searchParams));

describe('the usage page', () => {
  it('links admins to it and shows the chart, totals and top tables for the last 30 UTC days', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-20T10:00:00Z'), toFake: ['Date'] });
    const api = installUsage();
    const { user, path } = renderApp('/');
    await user.click(await screen.findByRole('link', { name: 'Usage' }));
    expect(path()).toBe('/admin');

    expect(await screen.findByRole('heading', { level: 1, name: 'Usage' })).toBeInTheDocument();
    expect(screen.getByLabelText('From')).toHaveValue('2026-10-22');
    expect(screen.getByLabelText('To')).toHaveValue('2026-11-20');
    const days = await screen.findByRole('list', { name: 'Chart days' });
    expect(within(days).getAllByRole('listitem').map((item) => item.textContent)).toEqual(['2026-10-22: 3', '2026-11-20: 1']);
    const totals = within(screen.getByRole('region', { name: 'Totals' }));
    expect(totals.getByText('4')).toBeInTheDocument();
    expect(totals.getByText('350')).toBeInTheDocument();
    expect(totals.getByText('140')).toBeInTheDocument();

    const users = within(await screen.findByRole('table', { name: 'Top users' }));
    expect(users.getAllByRole('row').slice(1).map((tr) => tr.textContent)).toEqual(['a.rahimi' + '1' + '3' + '300' + '120', 's.karimi' + '1' + '1' + '50' + '20']);
    const projects = within(screen.getByRole('table', { name: 'Top projects' }));
    expect(projects.getByRole('rowheader', { name: '10234' })).toBeInTheDocument();

    expect(usageCalls(api)).toEqual(
      expect.arrayContaining([
        { from: '2026-10-22', to: '2026-11-20', group_by: 'day', limit: '366' },
        { from: '2026-10-22', to: '2026-11-20', group_by: 'user', limit: '10' },
        { from: '2026-10-22', to: '2026-11-20', group_by: 'project', limit: '10' },
      ]),
    );
  }, 15_000);

  it('asks again for a new range, and refuses a start after the end without asking', async () => {
    const api = installUsage();
    renderApp('/admin');
    const from = await screen.findByLabelText('From');
    fireEvent.change(from, { target: { value: '2026-03-01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-03-07' } });
    expect(await screen.findByText('2026-03-07: 1')).toBeInTheDocument();
    expect(usageCalls(api)).toContainEqual({ from: '2026-03-01', to: '2026-03-07', group_by: 'user', limit: '10' });

    const before = api.calls('GET', '/api/admin/usage').length;
    fireEvent.change(from, { target: { value: '2026-03-09' } });
    expect(screen.getByRole('alert')).toHaveTextContent('The start date must be on or before the end date.');
    expect(api.calls('GET', '/api/admin/usage')).toHaveLength(before);
  });

  it('shows the error the API gave, e.g. PostgreSQL unavailable', async () => {
    const api = installFakeApi({ isAdmin: true });
    api.on(routes.adminUsage, () => errorResponse(503, 'upstream_unavailable', 'The usage history (PostgreSQL) is unavailable right now; try again shortly.'));
    renderApp('/admin');
    expect(await screen.findByRole('alert')).toHaveTextContent('The usage history (PostgreSQL) is unavailable right now');
  });

  it('is not available to other users, who get no link to it and never ask for usage', async () => {
    const api = installFakeApi({ isAdmin: false });
    renderApp('/admin');
    expect(await screen.findByRole('heading', { level: 1, name: 'Not available' })).toBeInTheDocument();
    expect(screen.getByText('This page is for administrators only.')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Usage' })).not.toBeInTheDocument();
    expect(api.calls('GET', '/api/admin/usage')).toHaveLength(0);
  });
});
