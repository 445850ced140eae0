import type { Command } from 'commander'

// Placeholder: filled in by the capability that owns the `catalog` command.
export function registerCatalogCommands(_program: Command): void {}
