import { illusionTable, scanLabel } from '../analysis/illusionTable';
import { promptingLabel, type Report } from './model';

/** Escapes text for a Markdown table cell / inline text (pipes, HTML, backticks, emphasis marks). */
export function mdEscape(s: string): string {
  return s.replace(/[\\`*_|<>[\]]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '\\' + c));
}

const f3 = (v: number | null) => (v === null || Number.isNaN(v) ? '–' : v.toFixed(3));
const fp = (p: number) => (Number.isNaN(p) ? '–' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/**
 * The report as a pull-request comment: headline; organ x scan table of mean Dice / NSD; the modality gap with
 * bootstrap CI and Wilcoxon p; reported vs measured when the card reports scores; with a baseline, its
 * regressions first; errors collapsed in <details>.
 */
export function reportMarkdown(r: Report): string {
  const out: string[] = [];
  const scans = [...new Set(r.summary.map((c) => `${c.study}/${c.modality}`))];
  const organs = [...new Set(r.summary.map((c) => c.organ))];
  out.push(`## UMD Lens report: ${mdEscape(r.run.model.name)}`, '');
  const asked = promptingLabel(r.run.prompting);
  out.push(`Model sha256 \`${r.run.model.sha256.slice(0, 12)}\`, protocol ${mdEscape(r.run.protocol.name)}${asked ? ` (${mdEscape(asked)})` : ''}, ${r.summary.reduce((s, c) => s + c.n + c.skipped, 0)} organ cases, ${r.errors.length} errors.`, '');
  if (r.comparison) {
    const reg = r.comparison.cells.filter((c) => c.class === 'regression');
    out.push(`### Regressions vs baseline (${reg.length})`, '');
    if (reg.length) {
      out.push('| Organ | Modality | Metric | Run | Baseline | Δ | 95% CI | p |', '|---|---|---|---|---|---|---|---|');
      for (const c of reg) out.push(`| ${mdEscape(c.organ)} | ${c.modality} | ${c.metric} | ${f3(c.mean_run)} | ${f3(c.mean_baseline)} | ${f3(c.mean_diff)} | [${f3(c.ci_low)}, ${f3(c.ci_high)}] | ${fp(c.p)} |`);
    } else out.push('None.');
    out.push('');
  }
  out.push('### Mean Dice / NSD per organ and scan', '');
  out.push(`| Organ | ${scans.join(' | ')} |`, `|---|${scans.map(() => '---').join('|')}|`);
  for (const o of organs) {
    const cells = scans.map((s) => {
      const c = r.summary.find((x) => x.organ === o && `${x.study}/${x.modality}` === s);
      return c ? `${f3(c.dice)} / ${f3(c.nsd)}` : '';
    });
    out.push(`| ${mdEscape(o)} | ${cells.join(' | ')} |`);
  }
  const ill = illusionTable(r.illusion);
  if (ill.rows.length) {
    const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
    out.push('', '### Reported vs measured (generalization illusion)', '', 'The card\'s reported score against the mean measured here; in brackets reported − measured.', '');
    out.push(`| Organ | Metric | Reported | ${ill.scans.map(scanLabel).join(' | ')} | Largest gap |`, `|---|---|---|${ill.scans.map(() => '---').join('|')}|---|`);
    for (const row of ill.rows) {
      const cells = ill.scans.map((k) => (row.measured[k] === null ? '–' : `${f3(row.measured[k])} (${signed(row.gap[k]!)})`));
      out.push(`| ${mdEscape(row.organ)} | ${row.metric} | ${f3(row.reported)} | ${cells.join(' | ')} | ${row.worst ? `${scanLabel(row.worst.scan)} ${signed(row.worst.gap)}` : '–'} |`);
    }
  }
  out.push('', '### Modality gap (paired, a − b)', '');
  if (r.gap.length) {
    out.push('| Organ | Pair | Metric | n | Mean a | Mean b | Δ | 95% CI | p (Holm) |', '|---|---|---|---|---|---|---|---|---|');
    for (const g of r.gap) out.push(`| ${mdEscape(g.organ)} | ${g.pair} | ${g.metric} | ${g.n} | ${f3(g.mean_a)} | ${f3(g.mean_b)} | ${f3(g.mean_diff)} | [${f3(g.ci_low)}, ${f3(g.ci_high)}] | ${fp(g.p_holm)} |`);
  } else out.push('No paired scores.');
  if (r.errors.length) {
    out.push('', `<details><summary>Errors (${r.errors.length})</summary>`, '');
    for (const e of r.errors) out.push(`- ${mdEscape(e.subject)} ${e.study}/${e.modality} ${mdEscape(e.organ ?? '')}: ${mdEscape(e.error)}`);
    out.push('', '</details>');
  }
  return out.join('\n') + '\n';
}
