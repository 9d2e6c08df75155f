/**
 * The report page's inline stylesheet and script (constants: nothing from a
 * run is ever interpolated here, so they are the only raw markup the page
 * holds). The script only filters the cases shown; the report reads fine
 * without it.
 */

/** The page's CSS. */
export const REPORT_CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --ns:#9a6700; --timeout:#bc4c00; --error:#8250df; --skipped:#6e7781; --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 28px 0 10px; } h3 { font-size: 15px; margin: 14px 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow: auto; max-height: 420px; }
a { color: #0969da; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.count { border: 1px solid var(--line); border-radius: 16px; padding: 3px 12px; background: var(--soft); cursor: pointer; font: inherit; }
.count b { margin-left: 4px; }
.count.active { outline: 2px solid #0969da; }
.badge { display: inline-block; min-width: 86px; text-align: center; border-radius: 4px; padding: 1px 6px; color: #fff; font-size: 12px; font-weight: 600; text-transform: uppercase; }
.v-pass { background: var(--pass); } .v-fail { background: var(--fail); } .v-non-strict { background: var(--ns); } .v-timeout { background: var(--timeout); } .v-error { background: var(--error); } .v-skipped { background: var(--skipped); }
.filters { display: flex; gap: 14px; align-items: center; padding: 8px 10px; background: var(--soft); border: 1px solid var(--line); border-radius: 6px; position: sticky; top: 0; z-index: 2; }
.case { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; }
.case > summary { padding: 8px 10px; cursor: pointer; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.case > summary .id { font-weight: 600; }
.case > summary .why { color: var(--muted); }
.case .body { padding: 2px 14px 14px; border-top: 1px solid var(--line); }
.case[data-verdict="fail"], .case[data-verdict="timeout"] { border-left: 4px solid var(--fail); }
.case[data-verdict="non-strict"] { border-left: 4px solid var(--ns); }
.case[data-verdict="error"] { border-left: 4px solid var(--error); }
blockquote { margin: 6px 0; padding: 2px 12px; border-left: 3px solid var(--line); color: var(--muted); }
table.evs { border-collapse: collapse; margin: 6px 0; }
table.evs th, table.evs td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
table.evs th { background: var(--soft); font-weight: 600; width: 140px; }
.rules a { margin-right: 8px; }
.diagram { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; margin-top: 8px; }
svg.seq { display: block; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg.seq .life { stroke: #8c959f; stroke-dasharray: 2 3; }
svg.seq .head-box { fill: var(--soft); stroke: #8c959f; }
svg.seq .lane.server .head-box { fill: #ddf4ff; }
svg.seq .lane-label { font-weight: 600; fill: var(--fg); }
svg.seq .time { fill: var(--muted); font-size: 11px; }
svg.seq .label { fill: var(--fg); }
svg.seq .detail { fill: var(--muted); font-size: 11px; }
svg.seq .shaft { stroke: #24292f; stroke-width: 1.4; }
svg.seq .head { fill: #24292f; }
svg.seq .open .shaft, svg.seq .open .head { stroke: var(--pass); fill: var(--pass); }
svg.seq .close .shaft { stroke: #953800; stroke-width: 2; } svg.seq .close .head { fill: #953800; }
svg.seq .fin .shaft { stroke: #0969da; } svg.seq .fin .head { fill: #0969da; }
svg.seq .reset .shaft { stroke: #bc4c00; } svg.seq .reset .head { fill: #bc4c00; }
svg.seq .dgram .shaft { stroke: #8250df; } svg.seq .dgram .head { fill: #8250df; }
svg.seq .mark .dot { fill: #fff; stroke: #57606a; }
svg.seq .impair .dot { fill: #fff8c5; stroke: #9a6700; } svg.seq .impair .label { fill: #7d4e00; }
svg.seq .fail .dot { fill: #ffebe9; stroke: var(--fail); }
svg.seq .band { fill: #f6f8fa; } svg.seq .note .label { fill: var(--muted); font-style: italic; }
svg.seq .deadline .band { fill: #ffebe9; } svg.seq .deadline .label { fill: var(--fail); font-weight: 600; font-style: normal; }
svg.seq .hl { fill: #ffebe9; }
svg.seq .violating .shaft { stroke: var(--fail); stroke-width: 3; }
svg.seq .violating .head { fill: var(--fail); stroke: var(--fail); }
svg.seq .violating .label { fill: var(--fail); font-weight: 700; }
svg.seq .omitted { fill: var(--muted); font-style: italic; }
svg.seq .callout { font: 12px/1.4 system-ui, sans-serif; background: #fff8f8; border: 2px solid var(--fail); border-radius: 6px; padding: 6px 8px; height: 100%; overflow: auto; color: var(--fg); }
svg.seq .callout .k { color: var(--muted); display: inline-block; min-width: 104px; }
svg.coverage { display: block; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg.coverage .cov-title { font: 600 13px system-ui, sans-serif; fill: var(--fg); }
svg.coverage .cov-group { fill: var(--muted); }
svg.coverage .reached.state rect { fill: #dafbe1; stroke: var(--pass); stroke-width: 1.5; }
svg.coverage .reached.transition rect { fill: #ddf4ff; stroke: #0969da; }
svg.coverage .reached text { fill: var(--fg); }
svg.coverage .missed rect { fill: #f6f8fa; stroke: #afb8c1; stroke-dasharray: 3 2; }
svg.coverage .missed text { fill: #8c959f; }
.hidden-by-filter { display: none; }
`;

/**
 * The page's script: the verdict and section filters (selects, and the
 * verdict count buttons), showing "N of M cases".
 */
export const REPORT_JS = `
(function () {
  var verdict = document.getElementById('f-verdict');
  var section = document.getElementById('f-section');
  var count = document.getElementById('f-count');
  var cases = Array.prototype.slice.call(document.querySelectorAll('.case'));
  function apply() {
    var shown = 0;
    cases.forEach(function (c) {
      var ok = (!verdict.value || c.getAttribute('data-verdict') === verdict.value) &&
               (!section.value || c.getAttribute('data-section') === section.value);
      c.classList.toggle('hidden-by-filter', !ok);
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + cases.length + ' cases shown';
    Array.prototype.forEach.call(document.querySelectorAll('.count'), function (b) {
      b.classList.toggle('active', b.getAttribute('data-verdict') === verdict.value && verdict.value !== '');
    });
  }
  verdict.addEventListener('change', apply);
  section.addEventListener('change', apply);
  Array.prototype.forEach.call(document.querySelectorAll('.count'), function (b) {
    b.addEventListener('click', function () {
      var v = b.getAttribute('data-verdict');
      verdict.value = verdict.value === v ? '' : v;
      apply();
    });
  });
  apply();
})();
`;
