/**
 * The workspace's baseline run: the run every later run is compared with ("Set as Baseline" on a run in the Runs
 * view). Kept in the workspace state, so each workspace (each model project) has its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';

const KEY = 'umdLens.baselineRunDir';

export class BaselineStore {
  constructor(private readonly state: vscode.Memento) {}

  /** The baseline's run directory, while it still exists. */
  get(): string | undefined {
    const dir = this.state.get<string>(KEY);
    return dir && fs.existsSync(path.join(dir, 'run.json')) ? dir : undefined;
  }

  async set(dir: string | undefined): Promise<void> {
    await this.state.update(KEY, dir);
  }
}
