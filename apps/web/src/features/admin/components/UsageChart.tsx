import type { UsageRow } from '@simorgh/contracts';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 260;
const number = new Intl.NumberFormat('en');

/** A colour of the app's theme (light or dark), for the canvas. */
const themeColor = (name: string, fallback: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

function options(width: number): uPlot.Options {
  const fg = themeColor('--fg-muted', '#5d6672');
  const grid = { stroke: themeColor('--border', '#d7dbe0'), width: 1 };
  return {
    width,
    height: HEIGHT,
    // The report's days are UTC days: label them so, wherever the browser is.
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, replies: { range: (_, __, max) => [0, Math.max(1, max)] }, tokens: { range: (_, __, max) => [0, Math.max(1, max)] } },
    series: [
      {},
      {
        label: 'Replies',
        scale: 'replies',
        stroke: themeColor('--accent', '#0f766e'),
        fill: `${themeColor('--accent', '#0f766e')}55`,
        paths: uPlot.paths.bars?.({ size: [0.6, 40] }),
        value: (_, value) => (value === null ? '–' : number.format(value)),
      },
      { label: 'Prompt tokens', scale: 'tokens', stroke: '#2563eb', width: 2, value: (_, value) => (value === null ? '–' : number.format(value)) },
      { label: 'Completion tokens', scale: 'tokens', stroke: '#c2410c', width: 2, value: (_, value) => (value === null ? '–' : number.format(value)) },
    ],
    axes: [
      { stroke: fg, grid },
      { scale: 'replies', label: 'Replies', stroke: fg, grid },
      { scale: 'tokens', label: 'Tokens', side: 1, stroke: fg, grid: { show: false }, size: 60 },
    ],
  };
}

/** Replies (bars) and prompt and completion tokens (lines) per UTC day, drawn with uPlot. */
export function UsageChart({ rows }: { rows: UsageRow[] }) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const data: uPlot.AlignedData = [
      rows.map((row) => Date.parse(`${row.key}T00:00:00Z`) / 1000),
      rows.map((row) => row.messages),
      rows.map((row) => row.prompt_tokens),
      rows.map((row) => row.completion_tokens),
    ];
    const chart = new uPlot(options(Math.max(280, element.clientWidth)), data, element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, element.clientWidth), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [rows]);

  const replies = rows.reduce((sum, row) => sum + row.messages, 0);
  return (
    <div
      ref={container}
      className="usage-chart"
      role="img"
      aria-label={`Replies and tokens per day, ${rows[0]?.key ?? ''} to ${rows.at(-1)?.key ?? ''}: ${number.format(replies)} replies`}
    />
  );
}
