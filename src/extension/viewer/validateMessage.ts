/**
 * Every message from the viewer webview is checked before the host acts on it: the webview runs NiiVue on files of
 * the workspace and must not be able to make the host log, show or fire anything malformed. Unknown types,
 * missing or mistyped fields, and oversized strings are refused (undefined). Pure: no `vscode` import, so the
 * unit tests run it directly.
 */
import type { CaseRef, ViewerToHostMessage } from '../../viewerProtocol/messages';

const MAX_TEXT = 2000;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

export function validateViewerMessage(raw: unknown): ViewerToHostMessage | undefined {
  if (!isObj(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'rendered': {
      const { caseId, organId, volumes, voxels, canvas } = raw;
      if (!isText(caseId) || !isCount(organId) || !isCount(volumes) || !isObj(voxels) || !isObj(canvas)) return undefined;
      if (!isCount(voxels.gt) || !isCount(voxels.pred) || !isCount(canvas.width) || !isCount(canvas.height)) return undefined;
      const { panes } = raw;
      if (panes !== undefined && !(panes === 1 || panes === 2)) return undefined;
      return {
        type: 'rendered', caseId, organId, volumes, voxels: { gt: voxels.gt, pred: voxels.pred }, canvas: { width: canvas.width, height: canvas.height },
        ...(panes !== undefined ? { panes } : {}),
      };
    }
    case 'organ':
      return isText(raw.caseId) && isCount(raw.organId) ? { type: 'organ', caseId: raw.caseId, organId: raw.organId } : undefined;
    case 'paired':
      return isText(raw.caseId) && typeof raw.paired === 'boolean' ? { type: 'paired', caseId: raw.caseId, paired: raw.paired } : undefined;
    case 'error': {
      if (!isText(raw.message) || (raw.caseId !== undefined && !isText(raw.caseId))) return undefined;
      return { type: 'error', message: raw.message, ...(raw.caseId !== undefined ? { caseId: raw.caseId as string } : {}) };
    }
    default:
      return undefined;
  }
}

/**
 * What the panel serializer may take from a webview's saved state (`vscode.setState`) after a reload: the run
 * record it showed and whether it was the paired view. The state comes from the webview, so it is checked like
 * a message; the panel then looks the record up in the run itself, and nothing else of the state is trusted.
 */
export function validateSavedCase(state: unknown): { ref: CaseRef; paired: boolean } | undefined {
  if (!isObj(state) || !isObj(state.load)) return undefined;
  const { ref, paired } = state.load;
  if (!isObj(ref)) return undefined;
  const { runDir, study, subject, modality, organ } = ref;
  if (!isText(runDir) || !runDir || !isText(study) || !isText(subject) || !isText(modality)) return undefined;
  if (organ !== null && !isText(organ)) return undefined;
  return { ref: { runDir, study, subject, modality, organ }, paired: isObj(paired) };
}
