// Loaded by the extension host through extensionTestsPath (the @vscode/test-electron contract):
// run() resolves on success and rejects on failure. Results also go to EXT_TESTS_RESULT_FILE.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60000, reporter: 'spec' });
  // debugging aid: UMD_WB_GREP=<suite or test title> runs only the matching tests
  if (process.env.UMD_WB_GREP) mocha.grep(process.env.UMD_WB_GREP);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  }
  console.log('[ext-tests] begin');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures: number) => {
      const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats ?? {};
      console.log(`[ext-tests] end passes=${passes} failures=${failed} pending=${pending}`);
      const out = process.env.EXT_TESTS_RESULT_FILE;
      if (out) fs.writeFileSync(out, JSON.stringify({ passes, failures: failed, pending }));
      failures > 0 ? reject(new Error(`${failures} tests failed.`)) : resolve();
    });
  });
}
