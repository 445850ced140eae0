import type { Command } from 'commander'

// Placeholder: filled in by the capability that owns the `simulator` command.
export function registerSimulatorCommand(_program: Command): void {}
