/**
 * The model coverage of a fuzz campaign as a diagram: the model's states as
 * nodes and its transitions as labelled edges-without-ends (the suites name
 * transitions by label only, `transition:identify-event`, not by their
 * source and target states, so no edge is invented). Both are grouped by the
 * first word of their label (`conn-…`, `stream-…`); reached ones are drawn
 * in colour with their hit count, never-reached ones in grey.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';

/** One coverage label with its hit count. */
export interface CoverageItem {
  /** Name without the `state:` / `transition:` prefix. */
  readonly name: string;
  readonly hits: number;
}

/** Coverage grouped for drawing. */
export interface CoverageModel {
  readonly states: readonly { readonly group: string; readonly items: readonly CoverageItem[] }[];
  readonly transitions: readonly { readonly group: string; readonly items: readonly CoverageItem[] }[];
  /** Labels reached at least once, and all labels. */
  readonly reached: number;
  readonly total: number;
}

function groupBy(items: readonly CoverageItem[]): { group: string; items: CoverageItem[] }[] {
  const groups = new Map<string, CoverageItem[]>();
  for (const it of items) {
    const g = it.name.split(/[-:]/)[0] ?? it.name;
    (groups.get(g) ?? groups.set(g, []).get(g)!).push(it);
  }
  return [...groups].map(([group, list]) => ({ group, items: list }));
}

/**
 * Groups a campaign's coverage (`labels`: every label of the protocol,
 * `state:…` / `transition:…`; `hits`: cases that reached each) for
 * {@link CoverageDiagram}. Labels without a known prefix count as transitions.
 */
export function coverageModel(labels: readonly string[], hits: Readonly<Record<string, number>>): CoverageModel {
  const states: CoverageItem[] = [];
  const transitions: CoverageItem[] = [];
  for (const l of labels) {
    const n = hits[l] ?? 0;
    if (l.startsWith('state:')) states.push({ name: l.slice('state:'.length), hits: n });
    else transitions.push({ name: l.startsWith('transition:') ? l.slice('transition:'.length) : l, hits: n });
  }
  return { states: groupBy(states), transitions: groupBy(transitions), reached: labels.filter((l) => (hits[l] ?? 0) > 0).length, total: labels.length };
}

/** Monospace advance at 12 px, for sizing boxes without a browser. */
const CH = 7.3;
const ROW_H = 40;
const GROUP_W = 110;

/**
 * One row per group: state nodes as rounded boxes, transitions as arrows
 * (`→`) with their label. Reached items have class `reached`, never
 * reached ones `missed`; each has its label and hit count as tooltip.
 */
export function CoverageDiagram({ model }: { model: CoverageModel }): VNode {
  const width = 980;
  const rows: VNode[] = [];
  let y = 8;
  const section = (title: string, groups: CoverageModel['states'], kind: 'state' | 'transition'): void => {
    rows.push(html`<text key=${`t-${title}`} class="cov-title" x="4" y=${y + 14}>${title}</text>`);
    y += 24;
    for (const g of groups) {
      let x = GROUP_W;
      rows.push(html`<text key=${`g-${kind}-${g.group}`} class="cov-group" x="4" y=${y + 22}>${g.group}</text>`);
      for (const it of g.items) {
        const text = `${kind === 'transition' ? '→ ' : ''}${it.name}${it.hits > 0 ? ` ×${it.hits}` : ''}`;
        const w = Math.ceil(text.length * CH) + 20;
        if (x + w > width - 4 && x > GROUP_W) {
          x = GROUP_W;
          y += ROW_H - 6;
        }
        const cls = `cov ${kind} ${it.hits > 0 ? 'reached' : 'missed'}`;
        rows.push(html`
          <g key=${`${kind}:${it.name}`} class=${cls} data-label=${`${kind}:${it.name}`}>
            <title>${kind}:${it.name}: ${it.hits > 0 ? `reached in ${it.hits} case${it.hits === 1 ? '' : 's'}` : 'never reached'}</title>
            <rect x=${x} y=${y + 6} width=${w} height="26" rx=${kind === 'state' ? 13 : 3} />
            <text x=${x + 10} y=${y + 23}>${text}</text>
          </g>`);
        x += w + 8;
      }
      y += ROW_H;
    }
  };
  section(`States (${model.states.reduce((n, g) => n + g.items.filter((i) => i.hits > 0).length, 0)}/${model.states.reduce((n, g) => n + g.items.length, 0)} reached)`, model.states, 'state');
  section(`Transitions (${model.transitions.reduce((n, g) => n + g.items.filter((i) => i.hits > 0).length, 0)}/${model.transitions.reduce((n, g) => n + g.items.length, 0)} reached)`, model.transitions, 'transition');
  return html`
    <svg class="coverage" xmlns="http://www.w3.org/2000/svg" width=${width} height=${y + 8} viewBox=${`0 0 ${width} ${y + 8}`} role="img">
      <title>Model coverage: ${model.reached}/${model.total} labels reached</title>
      ${rows}
    </svg>`;
}
