// The one chart of docs/bench/: clatbar against TAYGA, unbound and native IPv6, one panel per
// figure that has one of them as its reference, each panel on its own scale with the values
// written on the bars. Drawn with vega-lite compiled to vega and rendered to SVG in Node (no
// browser, no canvas: vega's SVG renderer estimates text widths itself).
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { num, ratio } from './format.js';
import type { BenchResults } from './schema.js';

/** The references the chart compares with; the others (veth, --inbound allow) stay in the table. */
const CHARTED = ['tayga', 'native', 'unbound'];

interface Bar {
  panel: string;
  who: string;
  value: number;
  label: string;
}

function bars(results: BenchResults[]): Bar[] {
  const out: Bar[] = [];
  for (const r of results)
    for (const f of r.figures) {
      const refs = f.refs.filter((x) => CHARTED.includes(x.id) && x.value !== null);
      if (refs.length === 0 || f.value === null) continue;
      const panel = `${f.label} (${f.unit}, ${f.better} is better)`;
      out.push({ panel, who: 'clatbar', value: f.value, label: num(f.value) });
      for (const x of refs)
        out.push({
          panel,
          who: x.name,
          value: x.value!,
          label: `${num(x.value)}  (clatbar ${ratio(x, f.better)})`,
        });
    }
  return out;
}

export async function renderChart(results: BenchResults[]): Promise<string> {
  const data = bars(results);
  const panels = [...new Set(data.map((b) => b.panel))];
  const dates = [...new Set(results.map((r) => r.startedAt.slice(0, 10)))].sort();
  const shared = results.some((r) => r.load.shared);
  // One small bar chart per figure, stacked: each on its own scale (Gbit/s next to ms), titled
  // with what it measures.
  const panel = (title: string): Record<string, unknown> => ({
    title: { text: title, anchor: 'start', fontSize: 12 },
    data: { values: data.filter((b) => b.panel === title) as unknown as Record<string, unknown>[] },
    width: 420,
    height: { step: 18 },
    encoding: {
      y: { field: 'who', type: 'nominal', title: null, sort: null, axis: { labelLimit: 200 } },
      x: { field: 'value', type: 'quantitative', title: null, axis: { tickCount: 4 } },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: {
            field: 'who',
            type: 'nominal',
            legend: null,
            scale: {
              domain: ['clatbar', 'TAYGA as CLAT', 'native IPv6', 'unbound dns64, 1 thread'],
              range: ['#2b6cb0', '#c05621', '#718096', '#6b46c1'],
            },
          },
        },
      },
      { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { text: { field: 'label' } } },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'clatbar against TAYGA, unbound and native IPv6 (medians, references from the same run)',
      subtitle: [
        `${dates.join(', ')}; ${results[0]?.machine.cores ?? '?'} cores${shared ? ', machine shared with other work' : ''}; from docs/bench/*.json`,
        'in brackets: clatbar / reference, the median of the per-round ratios (a % of native IPv6)',
      ],
      anchor: 'start',
    },
    vconcat: panels.map(panel),
    spacing: 24,
    config: { font: 'sans-serif', view: { stroke: null } },
  } as unknown as vl.TopLevelSpec;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}
