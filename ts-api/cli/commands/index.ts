/**
 * The command registry: `infodcl <name>` runs `commands[name]`. To add a command, write
 * `commands/<name>.ts` exporting `defineCommand({ summary, flags, run, render })` as default and list it here.
 */
import type { Command } from '../command.js';
import bench from './bench.js';
import train from './train.js';

// To come: eval, recommend, export, serve, info.
export const commands: Record<string, Command> = { bench, train } as Record<string, Command>;
