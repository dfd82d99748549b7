/**
 * What a view, panel or watcher creates (emitters, listeners, watchers, status items) is registered on it once and
 * disposed with it: in reverse order (a listener goes before the emitter it listens to), and only once, however
 * often dispose() is called (a panel is disposed by its owner and again by its own onDidDispose).
 */
import type * as vscode from 'vscode';

export class Disposable implements vscode.Disposable {
  private readonly children: vscode.Disposable[] = [];
  private disposedFlag = false;

  protected get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Keeps `d` until this is disposed (then disposes it at once, if this already is); returns it. */
  protected register<T extends vscode.Disposable>(d: T): T {
    if (this.disposedFlag) d.dispose();
    else this.children.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const d of this.children.splice(0).reverse()) d.dispose();
  }
}
