/**
 * Links from rule ids to the section of the suite's SPEC.md that states
 * them: `PROTON-4.2` → `SPEC.md#4-event-stream-0x01`, the anchor GitHub
 * (and most Markdown viewers) give the heading `## 4. Event stream (`0x01`)`
 * (github-slugger).
 */
import GithubSlugger from 'github-slugger';

/** A numbered section of a SPEC.md. */
export interface SpecSection {
  /** Section number, e.g. `4`. */
  readonly number: string;
  /** Heading text without the number and without code marks, e.g. `Event stream (0x01)`. */
  readonly title: string;
  /** Anchor of the heading (without `#`). */
  readonly anchor: string;
}

/** Where the SPEC is and what its sections are. */
export interface SpecIndex {
  /** Link to SPEC.md (relative to the report, or absolute). */
  readonly href: string;
  /** Numbered sections by number. */
  readonly sections: ReadonlyMap<string, SpecSection>;
}

/**
 * Reads the numbered headings (`## 4. Title`, `### 4.2 Title`) of a SPEC.md.
 * Anchors are computed over every heading in order, as GitHub does (a
 * repeated heading gets `-1`, `-2`, …). Lines inside fenced code blocks are
 * not headings.
 */
export function specSections(markdown: string): Map<string, SpecSection> {
  const slugger = new GithubSlugger();
  const out = new Map<string, SpecSection>();
  let fenced = false;
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!;
    // GitHub slugs the rendered text: inline code keeps its content, emphasis marks go.
    const anchor = slugger.slug(text.replace(/[`*_]/g, ''));
    const num = /^(\d+(?:\.\d+)*)\.?\s+(.*)$/.exec(text);
    if (num && !out.has(num[1]!)) out.set(num[1]!, { number: num[1]!, title: num[2]!.replace(/`/g, ''), anchor });
  }
  return out;
}

/** Section number of a rule id: `PROTON-4.2` → `4`, `MOONPOOL-10.1` → `10`; undefined when the id has no number. */
export function ruleSection(rule: string): string | undefined {
  return /-(\d+)(?:\.\d+)*$/.exec(rule)?.[1];
}

/** The SPEC section a rule (or a case's section number) links to, or undefined when the SPEC has none. */
export function sectionOf(spec: SpecIndex | undefined, ruleOrSection: string): SpecSection | undefined {
  if (spec === undefined) return undefined;
  const n = /^\d+(?:\.\d+)*$/.test(ruleOrSection) ? ruleOrSection : ruleSection(ruleOrSection);
  if (n === undefined) return undefined;
  return spec.sections.get(n) ?? spec.sections.get(n.split('.')[0]!);
}
