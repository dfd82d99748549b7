/** --protocol and --tau, shared by `evaluate` and `metrics`. */
import { isProtocolName, parseToleranceArg, PROTOCOL_NAMES, type ProtocolName } from '../core/metrics/protocol';
import { UsageError } from './usage';

export function protocolArg(v: string | undefined): ProtocolName | undefined {
  if (v === undefined) return undefined;
  if (!isProtocolName(v)) throw new UsageError(`--protocol must be one of ${PROTOCOL_NAMES.join(', ')} (got "${v}")`);
  return v;
}

export function tauArg(v: string | undefined): Record<string, number> | undefined {
  if (v === undefined) return undefined;
  try {
    return parseToleranceArg(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
