/** A horizontal bar chart in plain SVG: one labelled bar per row, its value written at the end (so the chart reads
 * without colour or hover). The figure has a title and a text alternative for screen readers. */
export interface Bar {
  label: string;
  value: number;
  /** the value as shown ("45 %", "€120.00") */
  shown: string;
}

const ROW = 24;
const LABEL_WIDTH = 130;
const VALUE_WIDTH = 90;
const WIDTH = 560;

export function BarChart({ title, bars, max }: { title: string; bars: Bar[]; max?: number }) {
  if (bars.length === 0) return <p className="hint">{title}: nothing in this range.</p>;
  const top = Math.max(max ?? 0, ...bars.map((bar) => bar.value), 1);
  const plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const height = bars.length * ROW + 8;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        style={{ maxWidth: `${WIDTH * 1.25}px` }}
        role="img"
        aria-label={`${title}: ${bars.map((bar) => `${bar.label} ${bar.shown}`).join(", ")}`}
      >
        {bars.map((bar, index) => {
          const y = index * ROW + 4;
          const width = Math.max(0, (bar.value / top) * plot);
          return (
            <g key={`${bar.label}-${index}`}>
              <text x={LABEL_WIDTH - 6} y={y + ROW / 2 + 4} textAnchor="end">
                {bar.label.length > 20 ? `${bar.label.slice(0, 19)}…` : bar.label}
              </text>
              <rect x={LABEL_WIDTH} y={y + 3} width={width} height={ROW - 8} rx={3} />
              <text x={LABEL_WIDTH + width + 6} y={y + ROW / 2 + 4}>
                {bar.shown}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
