import * as ort from 'onnxruntime-node';
import pkg from '../../../package.json';

export function versions(): { umdLens: string; onnxruntime: string; node: string } {
  return { umdLens: pkg.version, onnxruntime: ort.env.versions.node ?? ort.env.versions.common, node: process.versions.node };
}
