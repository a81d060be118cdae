// Jest's globalSetup: every folder a test makes in the system's temporary folder (os.tmpdir(),
// which reads TMPDIR) lands in one folder of this run, and temp-folder-teardown.js removes it when
// the run ends. A test that forgets its own clean-up, or is stopped half-way, then leaves nothing
// behind on the machine. The workers are started after this runs, so they inherit TMPDIR.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async function setUpTemporaryFolder() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-jest-'));
  process.env.LAB_TO_PROD_JEST_TMPDIR = folder;
  process.env.TMPDIR = folder;
};
