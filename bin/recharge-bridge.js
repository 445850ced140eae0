#!/usr/bin/env node
// The published entry: runs the compiled CLI (npm ci / npm run build produce dist/).
import '../dist/cli.js'
