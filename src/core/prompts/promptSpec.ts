/** The `--prompt` argument (and umdLens.evaluate.prompt setting): which prompt a promptable model gets. */

export type PromptSpec = { kind: 'center' } | { kind: 'random' } | { kind: 'box' } | { kind: 'clicks'; n: number };

/** "center" | "random" | "box" | "clicks:N" (N a positive integer; the first click is the center click). */
export function parsePromptArg(text: string): PromptSpec {
  if (text === 'center' || text === 'random' || text === 'box') return { kind: text };
  const m = /^clicks:([1-9]\d*)$/.exec(text);
  if (m) return { kind: 'clicks', n: Number(m[1]) };
  throw new Error(`--prompt must be center, random, box or clicks:N with N a positive integer (got "${text}")`);
}
