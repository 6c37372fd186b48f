/**
 * Global setup of the vitest project "dist": refuses to run the tests that load the built package
 * when dist/ is missing or older than lib/ (see ./built-package.ts), with what to do about it.
 */
import type { TestProject } from 'vitest/node';
import { staleBuildReason } from './built-package.js';

export default function checkBuiltPackage(project: TestProject): void {
  const reason = staleBuildReason(project.config.root);
  if (reason !== undefined) throw new Error(reason);
}
