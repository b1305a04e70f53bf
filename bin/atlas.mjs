#!/usr/bin/env node
// Entry point for `npx atlas`: registers tsx so the TypeScript sources run directly in Node.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
