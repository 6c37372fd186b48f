// Runs before `npm publish` (prepublishOnly): the package may not reach npm without `repository`,
// `homepage` and `bugs`, which company license and provenance checks read. They are not set yet
// because the project has no public repository URL; this keeps a release from forgetting them.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const missing = ['repository', 'homepage', 'bugs'].filter((field) => pkg[field] === undefined);
if (missing.length > 0) {
  console.error(`package.json needs ${missing.join(', ')} before it is published (the public repository's URL).`);
  process.exit(1);
}
