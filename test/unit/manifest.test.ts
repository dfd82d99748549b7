/**
 * package.json as VS Code reads it: the walkthrough points at media that exists and commands, views and settings
 * that exist; every setting is documented, has a default that its own schema accepts and a deliberate scope; every
 * menu entry and command link names a contributed command; command icons are real codicons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { repoRoot } from '../helpers/realData';

const ROOT = repoRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const c = pkg.contributes;
const commands = new Set<string>(c.commands.map((x: { command: string }) => x.command));
const views = new Set<string>(Object.values(c.views as Record<string, { id: string }[]>).flat().map((v) => v.id));
const settings = c.configuration.properties as Record<string, Record<string, unknown>>;
/** Workbench commands the walkthrough uses; everything else must be ours. */
const BUILTIN = new Set(['workbench.action.quickOpen', 'workbench.action.openSettings']);

/** A command is real when we contribute it, VS Code makes it for one of our views, or it is a listed built-in. */
function realCommand(id: string): boolean {
  return commands.has(id) || (id.endsWith('.focus') && views.has(id.slice(0, -'.focus'.length))) || BUILTIN.has(id);
}
/** `[label](command:id?args)` links in walkthrough and welcome text. */
function commandLinks(text: string): { id: string; args?: unknown }[] {
  return [...text.matchAll(/\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)].map((m) => ({ id: m[1], args: m[2] ? JSON.parse(decodeURIComponent(m[2])) : undefined }));
}

test('walkthrough: five steps, media markdown exists, buttons and completion events name real commands, views and settings', () => {
  assert.equal(c.walkthroughs.length, 1);
  const w = c.walkthroughs[0];
  assert.ok(w.id && w.title && w.description);
  assert.deepEqual(w.steps.map((s: { id: string }) => s.id), ['pickCheckpoint', 'chooseDataset', 'evaluate', 'readRegressions', 'openFailure']);
  for (const s of w.steps) {
    const where = `step ${s.id}`;
    assert.ok(s.title && s.description, `${where}: title and description`);
    const md = path.join(ROOT, s.media.markdown);
    assert.ok(s.media.markdown.startsWith('media/walkthrough/') && fs.existsSync(md), `${where}: ${s.media.markdown} missing`);
    const text = fs.readFileSync(md, 'utf8');
    assert.match(text, /^# \S/, `${where}: the markdown opens with a heading`);
    // relative images or links inside the media must travel with it
    for (const m of text.matchAll(/\]\((?!https?:|command:|#)([^)\s]+)\)/g)) assert.ok(fs.existsSync(path.join(path.dirname(md), m[1])), `${where}: ${m[1]} missing`);
    const links = commandLinks(s.description);
    assert.ok(links.length >= 1, `${where}: a button`);
    for (const l of links) assert.ok(realCommand(l.id), `${where}: button runs unknown command ${l.id}`);
    assert.ok(s.completionEvents?.length, `${where}: completion events`);
    for (const e of s.completionEvents as string[]) {
      const [kind, arg] = [e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 1)];
      if (kind === 'onCommand') assert.ok(realCommand(arg), `${where}: ${e}`);
      else if (kind === 'onView') assert.ok(views.has(arg), `${where}: ${e}`);
      else if (kind === 'onSettingChanged') assert.ok(settings[arg], `${where}: ${e}`);
      else assert.fail(`${where}: unexpected completion event ${e}`);
    }
  }
  const dataset = commandLinks(w.steps[1].description)[0];
  assert.deepEqual(dataset.args, ['umdLens.datasetPath'], 'the dataset button opens that setting');
});

test('settings: described, a default the schema accepts, enums described, deliberate scopes, setting links resolve', () => {
  const SCOPES = new Set(['application', 'machine', 'machine-overridable', 'window', 'resource', 'language-overridable']);
  const MACHINE = ['umdLens.datasetPath', 'umdLens.runsDirectory', 'umdLens.inference.device', 'umdLens.inference.threads', 'umdLens.inference.batchSize', 'umdLens.inference.bandDtype', 'umdLens.limits.maxVolumeMB', 'umdLens.limits.maxMemoryGB'];
  assert.ok(Object.keys(settings).length >= 14);
  for (const [key, s] of Object.entries(settings)) {
    assert.ok(key.startsWith('umdLens.'), key);
    const text = (s.markdownDescription ?? s.description) as string | undefined;
    assert.ok(text && text.length > 20, `${key}: description`);
    assert.ok('default' in s, `${key}: default`);
    assert.ok(SCOPES.has(s.scope as string), `${key}: scope ${s.scope}`);
    const types = ([] as string[]).concat(s.type as string | string[]);
    const d = s.default;
    const kind = d === null ? 'null' : Array.isArray(d) ? 'array' : Number.isInteger(d) && types.includes('integer') ? 'integer' : typeof d;
    assert.ok(types.includes(kind), `${key}: default ${JSON.stringify(d)} is not ${types.join('|')}`);
    if (typeof d === 'number' && typeof s.minimum === 'number') assert.ok(d >= s.minimum, `${key}: default below minimum`);
    if (s.enum) {
      assert.ok((s.enum as unknown[]).includes(d), `${key}: default not in enum`);
      assert.equal((s.enumDescriptions as string[] | undefined)?.length, (s.enum as unknown[]).length, `${key}: enumDescriptions`);
    }
    if (s.pattern) {
      assert.match(String(d), new RegExp(s.pattern as string), `${key}: default fails its pattern`);
      assert.ok(s.patternErrorMessage, `${key}: patternErrorMessage`);
    }
    for (const m of text.matchAll(/`#([\w.]+)#`/g)) assert.ok(settings[m[1]], `${key}: links unknown setting ${m[1]}`);
  }
  for (const key of MACHINE) assert.equal(settings[key].scope, 'machine-overridable', `${key}: a path or a device differs per machine`);
  for (const key of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations) assert.ok(settings[key], `restricted ${key} is not a setting`);
});

test('commands and menus: every menu entry and command link exists, icons are codicons, Evaluate on UMD only on .onnx files', () => {
  const css = fs.readFileSync(path.join(ROOT, 'node_modules/@vscode/codicons/dist/codicon.css'), 'utf8');
  for (const cmd of c.commands) {
    assert.equal(cmd.category, 'UMD Lens', `${cmd.command}: category`);
    const icon = /^\$\(([\w-]+)(~spin)?\)$/.exec(cmd.icon ?? '');
    assert.ok(icon, `${cmd.command}: codicon icon`);
    assert.ok(css.includes(`.codicon-${icon[1]}:before`), `${cmd.command}: ${icon[1]} is not a codicon`);
  }
  for (const [menu, entries] of Object.entries(c.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const e of entries) assert.ok(commands.has(e.command), `${menu}: unknown command ${e.command}`);
  }
  for (const menu of ['explorer/context', 'editor/title/context']) {
    const evaluate = c.menus[menu].filter((e: { command: string }) => e.command === 'umdLens.evaluate');
    assert.equal(evaluate.length, 1, menu);
    assert.match(evaluate[0].when, /(^|&& )resourceExtname == \.onnx( &&|$)/, `${menu}: Evaluate on UMD only on .onnx files`);
    assert.doesNotMatch(evaluate[0].when, /\|\|/, `${menu}: no alternative that would show it elsewhere`);
  }
  assert.match(c.menus['explorer/context'][0].when, /!explorerResourceIsFolder/);
  for (const w of c.viewsWelcome) for (const l of commandLinks(w.contents)) assert.ok(realCommand(l.id), `${w.view} welcome: ${l.id}`);
  for (const ev of pkg.activationEvents as string[]) {
    const [kind, arg] = [ev.slice(0, ev.indexOf(':')), ev.slice(ev.indexOf(':') + 1)];
    if (kind === 'onCommand') assert.ok(commands.has(arg), ev);
    if (kind === 'onView') assert.ok(views.has(arg), ev);
  }
});

test('activation loads one file: the extension bundle requires only vscode and Node built-ins (never onnxruntime or the engine)', () => {
  const main = path.join(ROOT, pkg.main);
  assert.equal(path.relative(ROOT, main), path.join('dist', 'extension.js'));
  const src = fs.readFileSync(main, 'utf8');
  const required = [...new Set([...src.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]))].sort();
  assert.ok(required.includes('vscode'), `requires: ${required.join(', ')}`);
  const builtins = new Set(builtinModules);
  const other = required.filter((r) => r !== 'vscode' && !builtins.has(r.replace(/^node:/, '')));
  assert.deepEqual(other, [], 'the extension bundle loads modules besides vscode and Node built-ins');
  assert.doesNotMatch(src, /onnxruntime|engine\/main/, 'the extension bundle mentions onnxruntime or the engine entry');
});
