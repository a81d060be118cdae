// Jest's globalTeardown: removes the run's temporary folder (temp-folder-setup.js).
const fs = require('fs');

module.exports = async function removeTemporaryFolder() {
  const folder = process.env.LAB_TO_PROD_JEST_TMPDIR;
  if (folder) {
    fs.rmSync(folder, { recursive: true, force: true });
  }
};
