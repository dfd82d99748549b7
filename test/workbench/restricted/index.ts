// The Restricted Mode suite's entry (extensionTestsPath): the same mocha runner as the main suite; bundled here,
// it loads the *.test.js files beside this file.
export { run } from '../suite/index';
