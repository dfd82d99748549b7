/** Settings of UMD Lens and the folders they resolve to. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isProtocolName, type ProtocolName, type ToleranceOverrides } from '../core/metrics/protocol';
import type { EvaluateRequest } from '../core/engine/protocol';

export const SECTION = 'umdLens';

/** `<workspace>/.umd/runs` by default; absolute settings are used as they are. */
export function runsRoot(context: vscode.ExtensionContext): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<string>('runsDirectory') || '.umd/runs';
  if (path.isAbsolute(setting)) return setting;
  return folder ? path.join(folder.uri.fsPath, setting) : path.join(context.globalStorageUri.fsPath, 'runs');
}

/** The configured dataset root, or undefined for the generated UMD-mini dataset. */
export function configuredDataset(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const p = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<string>('datasetPath')?.trim();
  if (!p) return undefined;
  return path.isAbsolute(p) || !folder ? p : path.join(folder.uri.fsPath, p);
}

/** Metric protocol and NSD tolerance overrides from the settings (validated again by the engine). */
export function metricSettings(): { protocol: ProtocolName; toleranceMm?: ToleranceOverrides } {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const cfg = vscode.workspace.getConfiguration(SECTION, folder?.uri);
  const name = cfg.get<string>('metrics.protocol') ?? 'umd';
  const protocol: ProtocolName = isProtocolName(name) ? name : 'umd';
  const tol = cfg.get<number | Record<string, number> | null>('metrics.toleranceMm');
  const toleranceMm = typeof tol === 'number' ? { '*': tol } : tol && typeof tol === 'object' ? tol : undefined;
  return { protocol, toleranceMm };
}

export function miniDatasetDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'umd-mini');
}

/** Inference settings for the engine request (umdLens.inference.*); invalid values fall back to the defaults. */
export function inferenceSettings(): Pick<EvaluateRequest, 'device' | 'threads' | 'overlap' | 'batchSize' | 'tta' | 'probabilities' | 'maxVolumeMB' | 'maxMemoryGB' | 'bandDtype'> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const cfg = vscode.workspace.getConfiguration(SECTION, folder?.uri);
  const device = cfg.get<string>('inference.device') === 'cuda' ? 'cuda' : 'cpu';
  const threads = cfg.get<number | null>('inference.threads');
  const overlap = cfg.get<number | null>('inference.overlap');
  const batchSize = cfg.get<number>('inference.batchSize');
  const maxVolumeMB = cfg.get<number>('limits.maxVolumeMB');
  const maxMemoryGB = cfg.get<number | null>('limits.maxMemoryGB');
  return {
    device,
    threads: typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 ? threads : undefined,
    overlap: typeof overlap === 'number' && overlap >= 0 && overlap < 1 ? overlap : undefined,
    batchSize: typeof batchSize === 'number' && Number.isInteger(batchSize) && batchSize >= 1 ? batchSize : undefined,
    tta: cfg.get<boolean>('inference.tta') === true,
    probabilities: probabilitySetting(cfg.get<unknown>('inference.probabilities')),
    maxVolumeMB: typeof maxVolumeMB === 'number' && maxVolumeMB > 0 ? maxVolumeMB : undefined,
    maxMemoryGB: typeof maxMemoryGB === 'number' && maxMemoryGB > 0 && Number.isFinite(maxMemoryGB) ? maxMemoryGB : undefined,
    ...(cfg.get<string>('inference.bandDtype') === 'float16' ? { bandDtype: 'float16' as const } : {}),
  };
}

/** umdLens.inference.probabilities: ["all"] or organ names; anything else means none. */
function probabilitySetting(v: unknown): string[] | 'all' | undefined {
  if (!Array.isArray(v)) return undefined;
  const organs = v.filter((o): o is string => typeof o === 'string' && o.trim() !== '');
  if (organs.some((o) => o.trim() === 'all')) return 'all';
  return organs.length ? organs : undefined;
}
