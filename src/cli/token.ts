import type { Command } from 'commander'

// Placeholder: filled in by the capability that owns the `token` command.
export function registerTokenCommands(_program: Command): void {}
