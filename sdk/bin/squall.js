#!/usr/bin/env node
// The `squall` command. A committed shim, so npm can link the bin before the
// package is built (the CLI itself is compiled TypeScript in dist/).
import "../dist/cli/main.js";
