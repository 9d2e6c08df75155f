/**
 * Draws a {@link SequenceLayout} as inline SVG (preact components written
 * with htm, rendered to a string by `page.ts`). Every text from the target
 * (payloads, reasons, notes) goes through preact's escaping; nothing is
 * inserted as raw markup. Geometry in CSS pixels.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import type { TraceEvent } from '../../engine/trace.js';
import type { CaseFinding, Violation } from '../../engine/types.js';
import { isViolation } from '../finding.js';
import { formatTraceEvent, formatTraceTime } from '../trace-format.js';
import type { SequenceLayout, SequenceRow } from './sequence.js';

/** Width of the time column. */
const TIME_W = 96;
/** Distance between client lanes, and with more than 5 of them. */
const LANE_GAP = 120;
const NARROW_LANE_GAP = 80;
/** Span between the last client lane and the server lane. */
const SPAN = 480;
const HEAD_H = 44;
const ARROW_ROW_H = 36;
const SMALL_ROW_H = 26;
/** Width of the expectation callout right of the server lane. */
const CALLOUT_W = 360;
const CALLOUT_H = 128;
/** Most characters of a label drawn (the full text is in the row's tooltip). */
const MAX_LABEL = 64;

const cut = (s: string, n = MAX_LABEL): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function rowHeight(r: SequenceRow): number {
  return r.kind === 'arrow' ? ARROW_ROW_H : SMALL_ROW_H;
}

/**
 * The sequence diagram of one trace as an `<svg>` element (class `seq`).
 * Rows of the violating event have class `violating`; the model's
 * expectation is drawn beside the first of them (or beside the missed
 * deadline), with class `expectation`.
 * @param trace the events the layout was made from (for each row's tooltip)
 */
export function SequenceDiagram({ layout, trace, violation }: { layout: SequenceLayout; trace: readonly TraceEvent[]; violation?: Violation | CaseFinding | undefined }): VNode {
  const clients = layout.lanes.length - 1;
  // Many connections: narrower client lanes.
  const gap = clients > 5 ? NARROW_LANE_GAP : LANE_GAP;
  const boxW = Math.min(112, gap - 8);
  const laneX = (i: number): number => (i < clients ? TIME_W + 60 + i * gap : TIME_W + 60 + (clients - 1) * gap + SPAN);
  const serverX = laneX(clients);
  const v = violation !== undefined && isViolation(violation) ? violation : undefined;

  let y = HEAD_H + 8 + (layout.omittedBefore > 0 ? SMALL_ROW_H : 0);
  let calloutY: number | undefined;
  const rowNodes: VNode[] = [];
  for (const [k, r] of layout.rows.entries()) {
    const h = rowHeight(r);
    const violating = layout.violationIndex !== undefined && r.index === layout.violationIndex;
    if (violating && calloutY === undefined) calloutY = y;
    const ev = r.index >= 0 ? trace[r.index] : undefined;
    const tip = ev !== undefined ? formatTraceEvent(ev, { maxDataBytes: 256, maxTextChars: 1000 }) : r.label;
    const cls = `row ${r.kind} ${r.style}${violating ? ' violating' : ''}`;
    let body: VNode;
    if (r.kind === 'arrow') {
      const x1 = laneX(r.from);
      const x2 = laneX(r.to);
      // Labels start beside the client end of the arrow.
      const labelX = Math.min(x1, x2) + 14;
      const ay = y + 18;
      const dirSign = x2 >= x1 ? 1 : -1;
      const head = `${x2},${ay} ${x2 - 9 * dirSign},${ay - 5} ${x2 - 9 * dirSign},${ay + 5}`;
      body = html`
        <line class="shaft" x1=${x1} y1=${ay} x2=${x2 - 8 * dirSign} y2=${ay} stroke-dasharray=${r.dashed ? '6 4' : undefined} />
        <polygon class="head" points=${head} />
        <text class="label" x=${labelX} y=${y + 12}>${cut(r.label)}</text>
        <text class="detail" x=${labelX} y=${y + 31}>${cut(r.detail)}</text>`;
    } else if (r.kind === 'mark') {
      const x = laneX(r.lane);
      const right = r.lane < clients;
      body = html`
        <rect class="dot" x=${x - 5} y=${y + 8} width="10" height="10" rx="2" />
        <text class="label" x=${right ? x + 10 : x - 10} y=${y + 17} text-anchor=${right ? 'start' : 'end'}>${cut(r.label)}</text>`;
    } else {
      body = html`
        <rect class="band" x=${TIME_W} y=${y + 2} width=${serverX - TIME_W + 20} height=${h - 4} rx="3" />
        <text class="label" x=${TIME_W + 8} y=${y + 17}>${cut(r.label, 110)}</text>`;
    }
    rowNodes.push(html`
      <g key=${k} class=${cls} data-index=${r.index}>
        <title>${tip}</title>
        ${violating ? html`<rect class="hl" x="0" y=${y} width=${serverX + 12} height=${h} />` : null}
        <text class="time" x="6" y=${y + (r.kind === 'arrow' ? 22 : 17)}>${formatTraceTime(r.t)}</text>
        ${body}
      </g>`);
    y += h;
  }
  const bottom = y + (layout.omittedAfter > 0 ? SMALL_ROW_H : 0) + 8;
  const height = Math.max(bottom, calloutY !== undefined ? calloutY + CALLOUT_H + 8 : 0);
  const width = serverX + (v !== undefined ? CALLOUT_W + 40 : 60);

  return html`
    <svg class="seq" xmlns="http://www.w3.org/2000/svg" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img">
      <title>Sequence diagram: ${layout.lanes.map((l) => l.label).join(', ')}</title>
      ${layout.lanes.map((l, i) => {
        const x = laneX(i);
        const w = l.conn === undefined ? 112 : boxW;
        const chars = Math.floor((w - 6) / 7);
        // Two lines: who (role or client) and the connection; the server one.
        const lines = l.conn === undefined ? [l.label] : [l.label.replace(/ · conn \d+$/, ''), `conn ${l.conn}`];
        return html`
        <g key=${l.key} class=${`lane ${l.key === 'server' ? 'server' : 'client'}`} aria-label=${l.label}>
          <title>${l.label}</title>
          <line class="life" x1=${x} y1=${HEAD_H - 6} x2=${x} y2=${height - 4} />
          <rect class="head-box" x=${x - w / 2} y="4" width=${w} height=${HEAD_H - 10} rx="4" />
          <text class="lane-label" x=${x} y=${lines.length === 1 ? HEAD_H / 2 + 4 : HEAD_H / 2 - 3} text-anchor="middle">${lines.map((t, k) => html`<tspan key=${k} x=${x} dy=${k === 0 ? 0 : 13}>${cut(t, chars)}</tspan>`)}</text>
        </g>`;
      })}
      ${layout.omittedBefore > 0 ? html`<text class="omitted" x=${TIME_W + 8} y=${HEAD_H + 24}>(${layout.omittedBefore} earlier events not drawn)</text>` : null}
      ${rowNodes}
      ${layout.omittedAfter > 0 ? html`<text class="omitted" x=${TIME_W + 8} y=${y + 18}>(${layout.omittedAfter} later events not drawn)</text>` : null}
      ${v !== undefined && calloutY !== undefined
        ? html`
          <foreignObject class="expectation" x=${serverX + 28} y=${calloutY} width=${CALLOUT_W} height=${CALLOUT_H}>
            <div xmlns="http://www.w3.org/1999/xhtml" class="callout">
              <div><b>${v.rule}</b> ${v.severity.toUpperCase()}${v.missing ? ' · deadline passed' : ''}</div>
              <div><span class="k">model expected</span> ${v.expected}</div>
              <div><span class="k">seen</span> ${v.seen}</div>
              <div><span class="k">model state</span> ${v.state}</div>
            </div>
          </foreignObject>`
        : null}
    </svg>`;
}
