import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Disposable } from '../../src/extension/util/disposable';

class Owner extends Disposable {
  add(name: string, log: string[]) {
    return this.register({ dispose: () => log.push(name) });
  }
}

test('Disposable: children disposed once, in reverse order of registration', () => {
  const log: string[] = [];
  const o = new Owner();
  o.add('emitter', log);
  o.add('listener', log);
  o.dispose();
  o.dispose();
  assert.deepEqual(log, ['listener', 'emitter']);
});

test('Disposable: a child registered after dispose() is disposed at once', () => {
  const log: string[] = [];
  const o = new Owner();
  o.dispose();
  o.add('late', log);
  assert.deepEqual(log, ['late']);
});
