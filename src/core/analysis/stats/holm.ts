/**
 * Holm's step-down adjustment of p-values for multiple comparisons, equal to statsmodels'
 * multipletests(p, method="holm")[1]: with p sorted ascending p(1) <= ... <= p(m), the adjusted
 * p(i) = min(1, max over j <= i of (m - j + 1) p(j)), returned in the input's order (monotone in the sorted order).
 * NaN entries (tests that could not be run) are left out of the family (m counts only the others) and stay NaN.
 */
export function holm(pvalues: readonly number[]): number[] {
  const idx = pvalues.map((_, i) => i).filter((i) => !Number.isNaN(pvalues[i]));
  for (const i of idx) if (!(pvalues[i] >= 0 && pvalues[i] <= 1)) throw new Error(`holm: p-value ${i} is outside [0, 1] (${pvalues[i]})`);
  // the order among equal p-values does not matter: they get equal adjusted values
  idx.sort((a, b) => pvalues[a] - pvalues[b]);
  const out = pvalues.map(() => NaN);
  const m = idx.length;
  let running = 0;
  idx.forEach((i, k) => {
    running = Math.max(running, Math.min(1, (m - k) * pvalues[i]));
    out[i] = running;
  });
  return out;
}
