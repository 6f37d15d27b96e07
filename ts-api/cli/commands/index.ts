/**
 * The command registry: `infodcl <name>` runs `commands[name]`. To add a command, write
 * `commands/<name>.ts` exporting `defineCommand({ summary, flags, run, render })` as default and list it here.
 */
import type { Command } from '../command.js';
import bench from './bench.js';
import demo from './demo.js';
import evaluate from './eval.js';
import exportArtifact from './export.js';
import info from './info.js';
import recommend from './recommend.js';
import serve from './serve.js';
import train from './train.js';

export const commands: Record<string, Command> = {
  demo, train, eval: evaluate, recommend, export: exportArtifact, serve, info, bench,
} as Record<string, Command>;
