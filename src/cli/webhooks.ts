import type { Command } from 'commander'

// Placeholder: filled in by the capability that owns the `webhooks` command.
export function registerWebhookCommands(_program: Command): void {}
