import * as fs from 'node:fs';
import type { CaseRecord } from '../runstore/schema';
import { ILLUSION_SCANS, illusionTable } from '../analysis/illusionTable';
import { promptingLabel, type Report } from './model';

/**
 * ECharts' browser build, read at run time from the installed package (echarts is a runtime dependency): the CLI
 * bundle stays small and the text is exactly the installed version's. Throws naming the path when it is missing.
 */
export function echartsSource(): string {
  let file: string;
  try {
    file = require.resolve('echarts/dist/echarts.min.js');
  } catch {
    throw new Error('report --format html needs the echarts package (node_modules/echarts/dist/echarts.min.js); it is not installed');
  }
  return fs.readFileSync(file, 'utf8');
}

/** JSON safe inside a <script> element: no "</script", "<!--" or U+2028/9 can end or corrupt the block. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * One self-contained, offline page: ECharts inlined, the data in a <script type="application/json"> block, every
 * user-controlled string inserted by the page script as text (textContent / ECharts labels), never as markup.
 * Charts: heatmap organ x scan (mean Dice), per organ a slope plot (each subject a line CT -> PET and MRI -> PET),
 * boxplots of Dice per organ and scan, the gap table, and, after the heatmap when the card reports scores, reported
 * vs measured per organ: the generalization illusion (analysis/illusionTable.ts).
 */
export function reportHtml(report: Report, cases: readonly CaseRecord[], echarts = echartsSource()): string {
  const data = {
    report, cases: cases.filter((c) => c.organ !== null).map((c) => ({ subject: c.subject, study: c.study, modality: c.modality, organ: c.organ, dice: c.dice })),
    illusion: illusionTable(report.illusion), scanLabels: Object.fromEntries(ILLUSION_SCANS.map((x) => [x.key, x.label])),
    prompting: promptingLabel(report.run.prompting),
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<title>UMD Lens report: ${htmlEscape(report.run.model.name)}</title>
<style>
:root { --fg: #1b1f24; --bg: #ffffff; --muted: #656d76; --line: #d0d7de; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d; } }
body { font: 14px system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 24px; }
.chart { width: 100%; height: 420px; } .slopes { display: flex; flex-wrap: wrap; gap: 8px; } .slope { width: 320px; height: 260px; }
table { border-collapse: collapse; } td, th { border: 1px solid var(--line); padding: 3px 8px; text-align: right; } td:first-child { text-align: left; }
.muted { color: var(--muted); }
</style></head><body>
<h1 id="title"></h1><p class="muted" id="meta"></p>
<h2>Mean Dice per organ and scan</h2><div id="heatmap" class="chart"></div>
<section id="illusion-section"><h2>Reported vs measured (generalization illusion)</h2>
<p class="muted">The model card's reported score per organ against the mean measured here on each scan; in brackets reported &minus; measured (positive: the reported number is higher than this data shows).</p>
<table id="illusion"><thead><tr></tr></thead><tbody></tbody></table></section>
<h2>Paired subjects: CT &rarr; PET and MRI &rarr; PET (Dice)</h2><div id="slopes" class="slopes"></div>
<h2>Dice distributions</h2><div id="boxplot" class="chart"></div>
<h2>Modality gap</h2><table id="gap"><thead><tr><th>Organ</th><th>Pair</th><th>Metric</th><th>n</th><th>Mean a</th><th>Mean b</th><th>&Delta;</th><th>95% CI</th><th>p (Holm)</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${echarts.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var r = data.report, dark = matchMedia('(prefers-color-scheme: dark)').matches, theme = dark ? 'dark' : null;
  document.getElementById('title').textContent = 'UMD Lens report: ' + r.run.model.name;
  document.getElementById('meta').textContent = 'sha256 ' + r.run.model.sha256 + ' · protocol ' + r.run.protocol.name + (data.prompting ? ' (' + data.prompting + ')' : '') + ' · ' + r.errors.length + ' errors';
  var scans = [], organs = [];
  r.summary.forEach(function (c) { var s = c.study + '/' + c.modality; if (scans.indexOf(s) < 0) scans.push(s); if (organs.indexOf(c.organ) < 0) organs.push(c.organ); });
  var heat = r.summary.filter(function (c) { return c.dice !== null; }).map(function (c) { return [scans.indexOf(c.study + '/' + c.modality), organs.indexOf(c.organ), +c.dice.toFixed(3)]; });
  echarts.init(document.getElementById('heatmap'), theme).setOption({ animation: false, backgroundColor: 'transparent', tooltip: {}, grid: { left: 120, bottom: 80 },
    xAxis: { type: 'category', data: scans }, yAxis: { type: 'category', data: organs },
    visualMap: { min: 0, max: 1, calculable: true, orient: 'horizontal', left: 'center', bottom: 0 },
    series: [{ type: 'heatmap', data: heat, label: { show: true } }] });
  var slopes = document.getElementById('slopes');
  organs.forEach(function (o) {
    var div = document.createElement('div'); div.className = 'slope'; div.dataset.organ = o; slopes.appendChild(div);
    var series = [];
    r.gap.filter(function (g) { return g.organ === o && g.metric === 'dice' && g.pair !== 'CT-MRI'; }).forEach(function (g) {
      var from = g.pair === 'CT-PET' ? 'CT' : 'MRI', to = g.pair === 'CT-PET' ? 'PET (PET/CT)' : 'PET (PET/MRI)';
      g.subjects.forEach(function (s) { series.push({ type: 'line', name: s.subject + ' ' + g.pair, data: [[from, s.a], [to, s.b]], symbolSize: 4 }); });
    });
    echarts.init(div, theme).setOption({ animation: false, backgroundColor: 'transparent', title: { text: o, textStyle: { fontSize: 13 } }, tooltip: { trigger: 'item' },
      xAxis: { type: 'category', data: ['CT', 'PET (PET/CT)', 'MRI', 'PET (PET/MRI)'] }, yAxis: { type: 'value', min: 0, max: 1 }, series: series });
  });
  function quantile(xs, q) { var p = (xs.length - 1) * q, lo = Math.floor(p), hi = Math.ceil(p); return xs[lo] + (xs[hi] - xs[lo]) * (p - lo); }
  var boxSeries = scans.map(function (s) {
    return { type: 'boxplot', name: s, data: organs.map(function (o) {
      var xs = data.cases.filter(function (c) { return c.organ === o && c.study + '/' + c.modality === s && typeof c.dice === 'number'; }).map(function (c) { return c.dice; }).sort(function (a, b) { return a - b; });
      return xs.length ? [xs[0], quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75), xs[xs.length - 1]] : [];
    }) };
  });
  echarts.init(document.getElementById('boxplot'), theme).setOption({ animation: false, backgroundColor: 'transparent', legend: {}, tooltip: {}, grid: { bottom: 80 },
    xAxis: { type: 'category', data: organs, axisLabel: { rotate: 30 } }, yAxis: { type: 'value', min: 0, max: 1 }, series: boxSeries });
  var tbody = document.querySelector('#gap tbody');
  function f3(v) { return v === null || v !== v ? '–' : v.toFixed(3); }
  r.gap.forEach(function (g) {
    var tr = document.createElement('tr');
    [g.organ, g.pair, g.metric, String(g.n), f3(g.mean_a), f3(g.mean_b), f3(g.mean_diff), '[' + f3(g.ci_low) + ', ' + f3(g.ci_high) + ']', g.p_holm === null ? '–' : g.p_holm < 0.001 ? g.p_holm.toExponential(1) : g.p_holm.toFixed(3)]
      .forEach(function (t) { var td = document.createElement('td'); td.textContent = t; tr.appendChild(td); });
    tbody.appendChild(tr);
  });
  var ill = data.illusion;
  function signed(v) { return (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(3); }
  function cells(tr, texts, tag) { texts.forEach(function (t) { var td = document.createElement(tag || 'td'); td.textContent = t; tr.appendChild(td); }); }
  if (!ill.rows.length) document.getElementById('illusion-section').hidden = true;
  else {
    cells(document.querySelector('#illusion thead tr'), ['Organ', 'Metric', 'Reported'].concat(ill.scans.map(function (k) { return data.scanLabels[k]; }), ['Largest gap']), 'th');
    var ibody = document.querySelector('#illusion tbody');
    ill.rows.forEach(function (row) {
      var tr = document.createElement('tr'); tr.dataset.organ = row.organ; tr.dataset.metric = row.metric;
      if (row.source) tr.title = 'reported: ' + row.source;
      cells(tr, [row.organ, row.metric, f3(row.reported)].concat(ill.scans.map(function (k) {
        return row.measured[k] === null ? '–' : f3(row.measured[k]) + ' (' + signed(row.gap[k]) + ')';
      }), [row.worst ? data.scanLabels[row.worst.scan] + ' ' + signed(row.worst.gap) : '–']));
      ibody.appendChild(tr);
    });
  }
})();
`;
