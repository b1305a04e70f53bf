import type { Command } from '../main.ts';
export const command: Command = { summary: 'placeholder', async run() { console.log('hello from env'); return 0; } };
